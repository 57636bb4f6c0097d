"""The process: hot reload, graceful shutdown, the command line and the
environment."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (Client, GatehouseTestCase, Pki, config, curl, gatehouse_bin,
                     h2_request, minimal_env, route)


def b64(text):
    return base64.b64encode(text.encode()).decode()


class HotReloadTest(GatehouseTestCase):
    def setUp(self):
        self.a = self.upstream("A")
        self.b = self.upstream("B")
        self.g = self.start_gatehouse(config([route("https://old.test", self.a.url)]))

    def get(self, host, path="/"):
        return curl("http://%s:%d%s" % (host, self.g.port, path))

    def reload_file(self, cfg):
        mark = self.g.mark()
        self.g.write_config(cfg)
        return mark

    def test_file_change_adds_a_route(self):
        self.assertStatus(self.get("new.test"), 404)
        mark = self.reload_file(config([route("https://old.test", self.a.url),
                                        route("https://new.test", self.b.url)]))
        line = self.g.wait_for("config reloaded", after=mark)
        self.assertEqual(line["routes"], 2)
        # How long the reload took, in parts.
        for field in ("load_ms", "build_ms", "total_ms"):
            self.assertIsInstance(line[field], int, field)
        self.assertGreaterEqual(line["total_ms"], line["load_ms"] + line["build_ms"])
        r = self.get("new.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "B")
        self.assertEqual(self.get("old.test").json()["server"], "A")
        # The listener stayed where it was.
        self.assertFalse(self.g.find("listening", kind="http")[1:])

    def test_a_block_style_yaml_file_is_read_as_written(self):
        # Block style as people write it: comments, quoted scalars, a list
        # at its key's indentation; read without libyaml, as the same tree.
        mark = self.reload_file(
            "# block style\n"
            "address: 127.0.0.1:0\n"
            "workers: 1\n"
            "insecure_server: true\n"
            "routes:\n"
            "  - from: https://old.test\n"
            "    to: %s  # the first upstream\n"
            "    allow_public_unauthenticated_access: true\n"
            "  - from: 'https://new.test'\n"
            "    to:\n"
            "    - \"%s\"\n"
            "    allow_public_unauthenticated_access: true\n"
            "    set_request_headers:\n"
            "      X-Quoted: 'it''s # not a comment'\n"
            "      X-Plain: a:b #c\n" % (self.a.url, self.b.url))
        line = self.g.wait_for("config reloaded", after=mark)
        self.assertEqual(line["routes"], 2)
        echo = self.get("new.test").json()
        self.assertEqual(echo["server"], "B")
        headers = {k.lower(): v for k, v in echo["headers"]}
        self.assertEqual(headers.get("x-quoted"), "it's # not a comment")
        self.assertEqual(headers.get("x-plain"), "a:b")
        self.assertEqual(self.get("old.test").json()["server"], "A")

    def test_file_change_moves_a_route_to_another_upstream(self):
        mark = self.reload_file(config([route("https://old.test", self.b.url)]))
        self.g.wait_for("config reloaded", after=mark)
        self.assertEqual(self.get("old.test").json()["server"], "B")

    def test_invalid_config_keeps_the_old_one(self):
        mark = self.reload_file(config([route("https://old.test", "ftp://127.0.0.1:21")]))
        line = self.g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertIn("routes[0].to", line["error"])
        self.assertIn("ftp", line["error"])
        self.assertEqual(self.get("old.test").json()["server"], "A")

        mark = self.reload_file("routes: [\n  - from: https://old.test\n    to: [unclosed\n")
        line = self.g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertIn("syntax error at line", line["error"])
        self.assertEqual(self.get("old.test").json()["server"], "A")

        mark = self.reload_file(config([route("https://old.test", self.a.url,
                                              regex="([unclosed")]))
        line = self.g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertIn("routes[0].regex", line["error"])
        self.assertEqual(self.get("old.test").json()["server"], "A")

        # A good config after bad ones is taken.
        mark = self.reload_file(config([route("https://old.test", self.b.url)]))
        self.g.wait_for("config reloaded", after=mark)
        self.assertEqual(self.get("old.test").json()["server"], "B")

    def test_unknown_key_is_a_warning_on_reload(self):
        # As in Pomerium, an unknown key is logged and ignored.
        cfg = config([route("https://old.test", self.b.url)])
        cfg["routes"][0]["no_such_key"] = 1
        mark = self.reload_file(cfg)
        self.g.wait_for("config reloaded", after=mark)
        self.assertTrue(self.g.find("config", warning='unknown key "routes[0].no_such_key" ignored'))
        self.assertEqual(self.get("old.test").json()["server"], "B")

    def test_sighup_reloads(self):
        before = self.g.find("gatehouse started")[0]
        line = self.g.reload_with_sighup()
        self.assertEqual(line["generation"], 2)
        self.assertEqual(line["routes"], before["routes"])
        self.assertStatus(self.get("old.test"), 200)

    def test_sighup_with_an_invalid_file_keeps_the_old_config(self):
        self.g.write_config("routes: {not: [a list\n")
        mark = self.g.mark()
        self.g.signal(signal.SIGHUP)
        line = self.g.wait_for("config reload failed, keeping the previous configuration",
                               after=mark)
        self.assertIn("syntax error", line["error"])
        self.assertEqual(self.get("old.test").json()["server"], "A")

    def test_removed_route_is_no_longer_served(self):
        mark = self.reload_file(config([route("https://other.test", self.a.url)]))
        self.g.wait_for("config reloaded", after=mark)
        self.assertStatus(self.get("old.test"), 404)
        self.assertStatus(self.get("other.test"), 200)

    def test_open_keep_alive_connection_sees_the_new_config(self):
        c = Client(self.g.port, "new.test")
        self.addCleanup(c.close)
        self.assertEqual(c.get("/").status, 404)
        sock = c.conn.sock
        mark = self.reload_file(config([route("https://old.test", self.a.url),
                                        route("https://new.test", self.b.url)]))
        self.g.wait_for("config reloaded", after=mark)
        r = c.get("/")
        self.assertIs(c.conn.sock, sock)
        self.assertEqual((r.status, r.json()["server"]), (200, "B"))

    def test_request_in_flight_survives_a_reload(self):
        result = {}

        def slow():
            result["r"] = curl("http://old.test:%d/slow" % self.g.port)
        t = threading.Thread(target=slow)
        t.start()
        self.assertTrue(self.a.arrived.wait(10))
        mark = self.reload_file(config([route("https://old.test", self.b.url)]))
        self.g.wait_for("config reloaded", after=mark)
        self.a.release.set()
        t.join(20)
        self.assertStatus(result["r"], 200)
        self.assertEqual(result["r"].text, "slow done\n")
        self.assertEqual(self.get("old.test").json()["server"], "B")


class CertificateReloadTest(GatehouseTestCase):
    def test_replaced_certificate_file_is_served(self):
        tmp = tempfile.mkdtemp(prefix="gatehouse-pki-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = Pki(tmp)
        first = pki.issue("first.test", ["app.test"])
        second = pki.issue("second.test", ["app.test"])
        certs = tempfile.mkdtemp(prefix="gatehouse-certs-")
        self.addCleanup(shutil.rmtree, certs, True)
        cert, key = os.path.join(certs, "tls.crt"), os.path.join(certs, "tls.key")
        shutil.copy(first[0], cert)
        shutil.copy(first[1], key)
        up = self.upstream()
        g = self.start_gatehouse(config([route("https://app.test", up.url)], tls=True,
                                        certificates=[{"cert": cert, "key": key}]))

        def served():
            out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % g.port,
                                  "-servername", "app.test"], input=b"", capture_output=True,
                                 timeout=20).stdout.decode()
            return "second.test" in out, "first.test" in out
        self.assertEqual(served(), (False, True))
        mark = g.mark()
        # Replace the pair the way a secret mount does: new files, then rename.
        shutil.copy(second[0], cert + ".new")
        shutil.copy(second[1], key + ".new")
        os.replace(key + ".new", key)
        os.replace(cert + ".new", cert)
        g.wait_for("config reloaded", after=mark)
        self.assertEqual(served(), (True, False))
        r = curl("https://app.test:%d/" % g.port, cacert=pki.ca_cert)
        self.assertStatus(r, 200)


class CertificateProblemTest(GatehouseTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-pki-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = Pki(self.tmp)
        self.a = self.pki.issue("a.test")
        self.b = self.pki.issue("b.test")

    def test_missing_certificate_file_at_startup(self):
        missing = os.path.join(self.tmp, "missing.crt")
        g = self.start_gatehouse(config([], tls=True, certificates=[
            {"cert": self.a[0], "key": self.a[1]}, {"cert": missing, "key": self.b[1]}]),
            wait=False)
        self.assertEqual(g.wait_exit(20), 1)
        errors = [l["error"] for l in g.find("invalid configuration")]
        self.assertTrue(any(e.startswith("certificates[1].cert") and "missing.crt" in e
                            for e in errors), errors)

    def test_mismatched_key_on_reload_keeps_the_old_certificates(self):
        up = self.upstream()
        g = self.start_gatehouse(config([route("https://a.test", up.url)], tls=True,
                                        certificates=[{"cert": self.a[0], "key": self.a[1]}]))
        mark = g.mark()
        g.write_config(config([route("https://a.test", up.url)], tls=True,
                              certificates=[{"cert": self.a[0], "key": self.b[1]}]))
        line = g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertIn("certificates[0]", line["error"])
        r = curl("https://a.test:%d/" % g.port, cacert=self.pki.ca_cert)
        self.assertStatus(r, 200)


class ShutdownTest(GatehouseTestCase):
    def test_graceful_shutdown_with_a_request_in_flight(self):
        slow = self.upstream("SLOW")
        g = self.start_gatehouse(config([route("https://app.test", slow.url)]))
        proc = subprocess.Popen(
            ["curl", "-sS", "--max-time", "30", "--resolve", "app.test:%d:127.0.0.1" % g.port,
             "-w", "\n%{http_code}", "http://app.test:%d/slow" % g.port],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        self.assertTrue(slow.arrived.wait(10), "the request did not reach the upstream")
        mark = g.mark()
        g.signal(signal.SIGTERM)
        g.wait_for("shutting down", after=mark)
        # No new connections once draining.
        deadline = time.monotonic() + 5
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", g.port), 1).close()
            except ConnectionRefusedError:
                refused = True
            except ConnectionResetError:
                pass  # reached the backlog of the listener as it closed
        self.assertTrue(refused, "still accepting connections while draining")
        self.assertIsNone(g.proc.poll(), "exited before the request in flight finished")
        slow.release.set()
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.decode().split("\n"), ["slow done", "", "200"])
        self.assertEqual(g.wait_exit(20), 0)
        self.assertTrue(g.find("stopped"))

    def test_graceful_shutdown_with_an_http2_request_in_flight(self):
        slow = self.upstream("SLOW")
        g = self.start_gatehouse(config([route("https://app.test", slow.url)], tls=True))
        result = {}

        def request():
            result["r"] = h2_request(g.port, "app.test:%d" % g.port, "/slow", timeout=30)
        t = threading.Thread(target=request)
        t.start()
        self.assertTrue(slow.arrived.wait(10), "the request did not reach the upstream")
        mark = g.mark()
        g.signal(signal.SIGTERM)
        g.wait_for("shutting down", after=mark)
        slow.release.set()
        t.join(30)
        r = result["r"]
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"slow done\n")
        self.assertEqual(g.wait_exit(20), 0)
        self.assertFalse(g.find("drain deadline reached"))

    def test_idle_keep_alive_connection_does_not_hold_shutdown(self):
        up = self.upstream()
        g = self.start_gatehouse(config([route("https://app.test", up.url)], timeout_idle="60s"))
        c = Client(g.port, "app.test")
        self.addCleanup(c.close)
        self.assertEqual(c.get("/").status, 200)
        start = time.monotonic()
        g.signal(signal.SIGTERM)
        self.assertEqual(g.wait_exit(20), 0)
        self.assertLess(time.monotonic() - start, 5)
        self.assertFalse(g.find("drain deadline reached"))

    def test_sigint_also_exits_cleanly(self):
        g = self.start_gatehouse(config([]))
        g.signal(signal.SIGINT)
        self.assertEqual(g.wait_exit(20), 0)
        self.assertTrue(g.find("shutting down", signal="SIGINT"))


class CommandLineTest(GatehouseTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gatehouse-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name, cfg):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        return path

    def run_cli(self, *args, env=None):
        return subprocess.run([gatehouse_bin()] + list(args), capture_output=True, text=True,
                              env=minimal_env(env), cwd=self.dir, timeout=30)

    def test_validate_valid(self):
        path = self.write("ok.yaml", "insecure_server: true\nroutes:\n"
                                     "  - from: https://a.test\n    to: http://127.0.0.1:1\n"
                                     "  - from: https://b.test\n    response: {status: 200}\n")
        r = self.run_cli("validate", "--config", path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "configuration is valid (2 routes)")

    def test_validate_reports_every_problem_on_its_own_line(self):
        path = self.write("bad.yaml", "\n".join([
            "address: not-an-address:xyz",
            "no_such_key: 1",
            "routes:",
            "  - from: https://a.test",
            "    to: htp://127.0.0.1:1",
            "  - from: https://b.test",
            "    to: http://127.0.0.1:1",
            "    redirect: {https_redirect: true}",
            ""]))
        r = self.run_cli("validate", "--config", path)
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertTrue(lines[0].startswith("address: "), lines)
        self.assertIn("not-an-address:xyz", lines[0])
        self.assertEqual(lines[1], 'routes[0].to: scheme "htp" is not one of http, https, h2c')
        self.assertTrue(lines[2].startswith("routes[1]: "), lines)
        self.assertIn("exactly one of to, redirect and response", lines[2])
        # Unknown keys are warnings, on stderr.
        self.assertIn('warning: unknown key "no_such_key" ignored', r.stderr)

    def test_validate_unknown_key_alone_is_valid(self):
        path = self.write("warn.yaml", "insecure_server: true\nno_such_key: 1\n")
        r = self.run_cli("validate", "--config", path)
        self.assertEqual(r.returncode, 0)
        self.assertIn("no_such_key", r.stderr)

    def test_validate_compiles_regexes(self):
        path = self.write("re.yaml", "routes:\n  - from: https://a.test\n"
                                     "    to: http://127.0.0.1:1\n    regex: '([unclosed'\n")
        r = self.run_cli("validate", "--config", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("routes[0].regex", r.stdout)

    def test_validate_missing_file(self):
        r = self.run_cli("validate", "--config", os.path.join(self.dir, "missing.yaml"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.yaml", r.stdout)
        self.assertIn("cannot read config file", r.stdout)

    def test_validate_without_config(self):
        r = self.run_cli("validate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)

    def test_version(self):
        r = self.run_cli("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.strip(), r"^gatehouse \S+$")
        self.assertEqual(self.run_cli("--version").stdout, r.stdout)

    def test_help(self):
        r = self.run_cli("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage:", r.stdout)
        self.assertIn("validate --config FILE", r.stdout)
        self.assertEqual(self.run_cli("-h").stdout, r.stdout)

    def test_unknown_argument(self):
        r = self.run_cli("--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown argument "--bogus"', r.stderr)
        self.assertIn("Usage:", r.stderr)
        r = self.run_cli("--config")
        self.assertEqual(r.returncode, 2)

    def test_single_dash_config_and_equals_form(self):
        up = self.upstream()
        path = self.write("c.yaml", config([route("https://a.test", up.url)]))
        for args in (["-config", path], ["--config=" + path], ["-c", path]):
            with self.subTest(args=args):
                g = self.start_gatehouse(args=args)
                r = curl("http://a.test:%d/" % g.port)
                self.assertStatus(r, 200)
                self.assertEqual(g.stop(), 0)

    def test_invalid_config_at_startup_exits_1(self):
        path = self.write("bad.yaml", config([route("https://a.test", "htp://x")],
                                             insecure_server="maybe"))
        g = self.start_gatehouse(args=["--config", path], wait=False)
        self.assertEqual(g.wait_exit(20), 1)
        errors = [l["error"] for l in g.find("invalid configuration")]
        self.assertTrue(any("routes[0].to" in e for e in errors), errors)
        self.assertTrue(any(e.startswith("insecure_server") for e in errors), errors)
        self.assertFalse(g.find("listening"))

    def test_address_in_use_exits_1(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        path = self.write("busy.yaml", config([], address="127.0.0.1:%d" % busy.getsockname()[1]))
        g = self.start_gatehouse(args=["--config", path], wait=False)
        self.assertEqual(g.wait_exit(20), 1)
        errors = [l["error"] for l in g.find("invalid configuration")]
        self.assertTrue(any(e.startswith("address:") for e in errors), errors)


class EnvironmentTest(GatehouseTestCase):
    def policy(self, upstream, host="env.test"):
        return b64("- from: https://%s\n  to: %s\n  allow_public_unauthenticated_access: true\n"
                   % (host, upstream.url))

    def test_configuration_from_the_environment_alone(self):
        up = self.upstream("ENV")
        g = self.start_gatehouse(args=[], env={
            "ADDRESS": "127.0.0.1:0", "INSECURE_SERVER": "true", "GATEHOUSE_WORKERS": "1",
            "POLICY": self.policy(up), "HEADERS": "X-From-Env:yes,X-Second:2"})
        self.assertIn("http", g.ports)
        self.assertEqual(g.find("gatehouse started")[0]["workers"], 1)
        r = curl("http://env.test:%d/" % g.port)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "ENV")
        self.assertEqual(r.header("x-from-env"), "yes")
        self.assertEqual(r.header("x-second"), "2")
        self.assertIsNone(r.header("x-frame-options"))

    def test_environment_overrides_the_file(self):
        up_file = self.upstream("FILE")
        up_env = self.upstream("ENV")
        cfg = config([route("https://file.test", up_file.url)], tls=True, workers=2)
        g = self.start_gatehouse(cfg, env={"INSECURE_SERVER": "true", "WORKERS": "1",
                                           "POLICY": self.policy(up_env)})
        self.assertEqual(list(g.ports), ["http"])
        self.assertEqual(g.find("gatehouse started")[0]["workers"], 1)
        self.assertStatus(curl("http://file.test:%d/" % g.port), 404)
        r = curl("http://env.test:%d/" % g.port)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "ENV")

    def test_invalid_environment_value_names_the_variable(self):
        g = self.start_gatehouse(args=[], env={"ADDRESS": "127.0.0.1:0", "INSECURE_SERVER": "true",
                                               "POLICY": "%%% not base64"}, wait=False)
        self.assertEqual(g.wait_exit(20), 1)
        errors = " ".join(l["error"] for l in g.find("invalid configuration"))
        self.assertIn("POLICY", errors)

        g = self.start_gatehouse(args=[], env={"ADDRESS": "127.0.0.1:0",
                                               "INSECURE_SERVER": "maybe"}, wait=False)
        self.assertEqual(g.wait_exit(20), 1)
        errors = " ".join(l["error"] for l in g.find("invalid configuration"))
        self.assertIn("insecure_server", errors)
        self.assertIn("INSECURE_SERVER", errors)


if __name__ == "__main__":
    unittest.main()

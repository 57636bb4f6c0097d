"""Metrics and health listeners: /metrics in the Prometheus text format
(counters by route, method and status class; basic auth; the name prefix)
and /healthz, /readyz, /startupz, /status, with /readyz unready as soon as a
drain starts.
"""

import base64
import http.client
import json
import re
import signal
import subprocess
import time
import unittest

from harness import GatehouseTestCase, config, dead_port, http_request, route

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read().decode()
    finally:
        conn.close()


def parse(text):
    """{(name, frozenset(labels)): value}; checks that every sample follows
    the # HELP and # TYPE lines of its family."""
    samples = {}
    typed = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            typed.add(name)
            continue
        m = SAMPLE.match(line)
        assert m, "malformed line: %r" % line
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, "no # TYPE before %r" % line
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(name, labels)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class MetricsTest(GatehouseTestCase):
    AUTH = {"Authorization": "Basic " + base64.b64encode(b"prom:s3cret").decode()}

    def start_with_metrics(self, **options):
        app = self.upstream("APP")
        self.dead_socket, dead = dead_port()
        self.addCleanup(self.dead_socket.close)
        routes = [
            route("http://app.test", app.url, name="app"),
            route("http://down.test", "http://127.0.0.1:%d" % dead, name="down"),
            route("http://closed.test", app.url, name="closed",
                  allow_public_unauthenticated_access=False,
                  policy={"deny": {"or": [{"accept": True}]}}),
        ]
        cfg = config(routes, metrics_address="127.0.0.1:0",
                     metrics_basic_auth=base64.b64encode(b"prom:s3cret").decode(), **options)
        return self.start_gatehouse(cfg)

    def scrape(self, g):
        status, headers, body = get(g.ports["metrics"], "/metrics", self.AUTH)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        return parse(body)

    def scrape_until(self, g, name, **labels):
        """A request is counted just after its response goes out: scrape
        until the last one shows."""
        deadline = time.monotonic() + 5
        m = self.scrape(g)
        while value(m, name, **labels) is None and time.monotonic() < deadline:
            m = self.scrape(g)
        return m

    def test_counters_increase_with_route_method_and_status_labels(self):
        g = self.start_with_metrics()
        before = self.scrape(g)
        self.assertIsNone(value(before, "pomerium_http_server_requests_total", route="app",
                                method="GET", status="2xx"))
        for _ in range(3):
            self.assertEqual(http_request(g.port, "app.test", "/").status, 200)
        self.assertEqual(http_request(g.port, "app.test", "/status/404").status, 404)
        self.assertEqual(http_request(g.port, "app.test", "/", method="POST", body=b"x").status,
                         200)
        self.assertEqual(http_request(g.port, "down.test", "/").status, 502)
        self.assertEqual(http_request(g.port, "nothing.test", "/").status, 404)
        self.assertNotEqual(http_request(g.port, "closed.test", "/").status, 200)
        self.assertEqual(http_request(g.port, "app.test", "/", method="PUT", body=b"x").status,
                         200)

        m = self.scrape_until(g, "pomerium_http_server_requests_total", route="app",
                              method="PUT", status="2xx")
        requests = "pomerium_http_server_requests_total"
        self.assertEqual(value(m, requests, route="app", method="GET", status="2xx"), 3)
        self.assertEqual(value(m, requests, route="app", method="GET", status="4xx"), 1)
        self.assertEqual(value(m, requests, route="app", method="POST", status="2xx"), 1)
        self.assertEqual(value(m, requests, route="down", method="GET", status="5xx"), 1)
        self.assertEqual(value(m, requests, route="", method="GET", status="4xx"), 1)
        self.assertEqual(value(m, "pomerium_upstream_errors_total", route="down", kind="connect"),
                         1)
        duration = "pomerium_http_server_request_duration_ms"
        self.assertEqual(value(m, duration + "_count", route="app"), 6)
        self.assertEqual(value(m, duration + "_bucket", route="app", le="+Inf"), 6)
        self.assertGreater(value(m, duration + "_sum", route="app"), 0)
        self.assertGreaterEqual(value(m, "pomerium_authorize_evaluations_total",
                                      decision="allow"), 7)
        self.assertEqual(value(m, "pomerium_authorize_evaluations_total", decision="deny"), 1)
        self.assertGreaterEqual(value(m, "pomerium_authorize_evaluation_duration_ms_count"), 8)
        self.assertEqual(value(m, "pomerium_policy_count_total"), 3)
        self.assertEqual(value(m, "pomerium_config_last_reload_success"), 1)
        self.assertGreater(value(m, "pomerium_config_last_reload_success_timestamp"), 1.6e9)
        self.assertEqual(len([k for k in m if k[0] == "pomerium_build_info"]), 1)
        self.assertEqual(value(m, "pomerium_session_cache_ready"), 1)
        self.assertIsNotNone(value(m, "pomerium_session_cache_record_version", type="session"))
        self.assertEqual(value(m, "pomerium_session_cache_sessions"), 0)
        self.assertEqual(value(m, "pomerium_session_cache_parsed_sessions"), 0)
        self.assertIsNotNone(value(m, "pomerium_databroker_record_version"))
        self.assertEqual(value(m, "pomerium_identity_manager_last_session_refresh_errors"), 0)
        self.assertGreater(value(m, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(value(m, "process_cpu_seconds_total"), 0)
        self.assertGreater(value(m, "process_open_fds"), 3)
        self.assertIsNotNone(value(m, "pomerium_http_server_open_connections"))
        # All in one process: the databroker's storage is timed (the session
        # copy's first sync read it), and no gRPC call is served or made.
        self.assertGreaterEqual(value(m, "pomerium_storage_operation_duration_ms_count",
                                      operation="sync_latest", result="success",
                                      backend="memory", service="databroker"), 1)
        self.assertFalse([k for k in m if k[0].startswith("pomerium_grpc_")])

    def test_basic_auth_is_required(self):
        g = self.start_with_metrics()
        port = g.ports["metrics"]
        status, headers, _ = get(port, "/metrics")
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"], 'Basic realm="metrics"')
        wrong = {"Authorization": "Basic " + base64.b64encode(b"prom:s3creT").decode()}
        self.assertEqual(get(port, "/metrics", wrong)[0], 401)
        self.assertEqual(get(port, "/metrics", {"Authorization": "Basic !!"})[0], 401)
        self.assertEqual(get(port, "/metrics", self.AUTH)[0], 200)
        self.assertEqual(get(port, "/other", self.AUTH)[0], 404)

    def test_prefix_and_a_failed_reload(self):
        g = self.start_with_metrics(metrics_prefix="gatehouse_")
        self.assertEqual(http_request(g.port, "app.test", "/").status, 200)
        m = self.scrape_until(g, "gatehouse_http_server_requests_total", route="app",
                              method="GET", status="2xx")
        self.assertEqual(value(m, "gatehouse_http_server_requests_total", route="app",
                               method="GET", status="2xx"), 1)
        self.assertFalse([k for k in m if k[0].startswith("pomerium_")])
        self.assertIsNotNone(value(m, "process_resident_memory_bytes"))

        mark = g.mark()
        with open(g.config_path, "w") as f:
            f.write("routes: [{from: 'htp://x'}]\n")
        g.signal(signal.SIGHUP)
        g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        m = self.scrape(g)
        self.assertEqual(value(m, "gatehouse_config_last_reload_success"), 0)


class HealthTest(GatehouseTestCase):
    def wait_ready(self, port):
        # The session copy's first sync finishes just after start.
        for _ in range(200):
            status, _, body = get(port, "/readyz")
            if status == 200:
                return json.loads(body)
            time.sleep(0.05)
        self.fail("/readyz never answered 200: %s" % body)

    def test_probes_and_readyz_unready_during_drain(self):
        slow = self.upstream("SLOW")
        g = self.start_gatehouse(config([route("http://app.test", slow.url)],
                                        health_check_addr="127.0.0.1:0"))
        port = g.ports["health"]
        ready = self.wait_ready(port)
        self.assertEqual(ready["status"], "RUNNING")
        self.assertEqual(set(ready["checks"]),
                         {"config", "certificates", "databroker.storage", "session.cache"})
        for check in ready["checks"].values():
            self.assertEqual(check["status"], "RUNNING")
        for path in ("/healthz", "/startupz", "/status"):
            status, headers, body = get(port, path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual(json.loads(body)["status"], "RUNNING")
        self.assertEqual(get(port, "/nope")[0], 404)

        proc = subprocess.Popen(
            ["curl", "-sS", "--max-time", "30", "--resolve", "app.test:%d:127.0.0.1" % g.port,
             "http://app.test:%d/slow" % g.port], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        self.assertTrue(slow.arrived.wait(10), "the request did not reach the upstream")
        mark = g.mark()
        g.signal(signal.SIGTERM)
        g.wait_for("shutting down", after=mark)
        # Unready right after the signal, while the request is still in flight.
        deadline = time.monotonic() + 5
        status, _, body = get(port, "/readyz")
        while status == 200 and time.monotonic() < deadline:
            status, _, body = get(port, "/readyz")
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["status"], "TERMINATING")
        self.assertEqual(get(port, "/healthz")[0], 200)
        self.assertIsNone(g.proc.poll(), "exited before the request in flight finished")
        slow.release.set()
        out, err = proc.communicate(timeout=20)
        self.assertEqual(out, b"slow done\n", err)
        self.assertEqual(g.wait_exit(20), 0)

    def test_off_unless_configured(self):
        g = self.start_gatehouse(config([route("http://app.test", "http://127.0.0.1:1")]))
        self.assertNotIn("health", g.ports)
        self.assertNotIn("metrics", g.ports)


if __name__ == "__main__":
    unittest.main()

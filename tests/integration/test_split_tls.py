"""Split mode with TLS on the gRPC connections: https:// service URLs, the
databroker and authorize serving TLS with the process's certificate
(grpc_insecure left at its default), clients verifying it against
certificate_authority_file, override_certificate_name, and what a client
that cannot verify the service gets; a renewed certificate file reaching
the running gRPC services; and tls_derive, TLS with certificates derived
from shared_secret and no certificate files."""

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness as h


class SplitOverTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = h.Upstream()
        cls.addClassCleanup(cls.upstream.close)
        pki_dir = tempfile.mkdtemp(prefix="gatehouse-split-pki-")
        cls.addClassCleanup(shutil.rmtree, pki_dir, True)
        cls.pki = h.Pki(pki_dir)
        # Two authorize replicas: several https:// URLs in one list.
        cls.split = h.start_split(cls, cls.upstream, authorizers=2, grpc_pki=cls.pki)
        cls.browser, r = cls.split.login("alice")
        if r.status != 200:
            raise AssertionError("sign-in over TLS failed: %r %r\n%s" %
                                 (r.status, r.hops, cls.split.log_text()))

    def handshake(self, port, cafile, server_hostname="127.0.0.1"):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                return tls.selected_alpn_protocol()

    def serial(self, port):
        """The serial number (hex) of the certificate a new TLS connection
        to `port` is shown, verified against the test CA."""
        ctx = ssl.create_default_context(cafile=self.pki.ca_cert)
        ctx.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.getpeercert()["serialNumber"]

    def rogue_proxy(self, **extra):
        """Another proxy sharing the deployment's secrets, with `extra` keys."""
        port = h.free_port()
        cfg = self.split.process_config("proxy", address="127.0.0.1:%d" % port,
                                        grpc_address="127.0.0.1:0", **extra)
        g = h.Gatehouse(cfg)
        self.addCleanup(g.cleanup)
        g.start()
        return g, port

    def get(self, port, path):
        t0 = time.monotonic()
        r = self.browser.get("https://app.localhost:%d%s" % (port, path))
        return r, time.monotonic() - t0

    def test_signed_in_requests_pass_through_every_tls_hop(self):
        r = self.browser.get(self.split.url("app", "/tls"))
        self.assertEqual(r.status, 200, r.body[:300])
        headers = {k.lower(): v for k, v in json.loads(r.body)["headers"]}
        claims = h.jwt_parts(headers["x-pomerium-jwt-assertion"])[1]
        self.assertEqual(claims["email"], "alice@example.com")
        # The gRPC ports speak TLS (HTTP/2) with the configured certificate.
        for port in self.split.db_ports + self.split.authorize_ports:
            self.assertEqual(self.handshake(port, self.pki.ca_cert), "h2")

    def test_a_proxy_that_does_not_trust_the_ca_fails_closed(self):
        other_dir = tempfile.mkdtemp(prefix="gatehouse-other-pki-")
        self.addCleanup(shutil.rmtree, other_dir, True)
        other = h.Pki(other_dir)
        before = len(self.upstream.requests)
        g, port = self.rogue_proxy(certificate_authority_file=other.ca_cert)
        r, elapsed = self.get(port, "/untrusted")
        self.assertEqual(r.status, 503, r.body[:300])
        self.assertIsNone(r.header("Location"))
        self.assertLess(elapsed, 5)
        self.assertEqual(len(self.upstream.requests), before)
        line = g.wait_for("http-request", path="/untrusted")
        self.assertIn("authorize service unavailable", line["response-code-details"])
        self.assertEqual(g.stop(), 0)

    def test_override_certificate_name_is_the_name_checked(self):
        # The certificate names localhost: accepted when that is the name
        # checked, refused for a name it does not carry.
        good, good_port = self.rogue_proxy(override_certificate_name="localhost")
        r, _ = self.get(good_port, "/override")
        self.assertEqual(r.status, 200, "%s\n%s" % (r.body[:300], good.log_text()))
        bad, bad_port = self.rogue_proxy(override_certificate_name="elsewhere.test")
        r, _ = self.get(bad_port, "/wrong-name")
        self.assertEqual(r.status, 503, r.body[:300])
        self.assertEqual(good.stop(), 0)
        self.assertEqual(bad.stop(), 0)

    def test_a_renewed_certificate_file_reaches_the_grpc_services_without_a_restart(self):
        grpc_ports = self.split.db_ports + self.split.authorize_ports
        before = {port: self.serial(port) for port in grpc_ports}
        crt, key = self.split.grpc_certificate
        # The renewal: a new key and certificate from the same CA, written
        # over the files every process names, each replaced in one rename
        # (as cert-manager or certbot do).
        new_crt, new_key = self.pki.issue("gatehouse-split-renewed",
                                          sans=["IP:127.0.0.1", "localhost", "*.localhost"])
        expected = subprocess.run(["openssl", "x509", "-in", new_crt, "-noout", "-serial"],
                                  capture_output=True, text=True, check=True).stdout
        expected = expected.strip().split("=", 1)[1].upper()
        load = h.SteadyLoad(self.browser,
                            lambda n: self.split.url("app", "/during-renewal/%d" % n)).start()
        try:
            load.wait_count(5)
            marks = {g: g.mark() for g in self.split.databrokers + self.split.authorizers}
            for src, dst in ((new_key, key), (new_crt, crt)):
                shutil.copyfile(src, dst + ".new")
                os.replace(dst + ".new", dst)
            renewed_at = time.monotonic()
            # New connections to every gRPC port see the new certificate
            # within the reload debounce plus gRPC's one-second refresh.
            pending = set(grpc_ports)
            while pending and time.monotonic() - renewed_at < 10:
                pending = {p for p in pending if self.serial(p) != expected}
                time.sleep(0.05)
            delay = time.monotonic() - renewed_at
            self.assertFalse(pending, "ports %r still show the old certificate after %.1fs\n%s" %
                             (sorted(pending), delay, self.split.log_text()))
            self.assertLess(delay, 3.5)
            for port in grpc_ports:
                self.assertNotEqual(before[port], expected)
            for g, mark in marks.items():
                line = g.wait_for("gRPC certificate reloaded", after=mark)
                self.assertEqual(line["origin"], "certificate_file")
            load.wait_count(load.count() + 5)
        finally:
            results = load.stop()
        # The deployment kept serving throughout: every request passed.
        self.assertEqual(h.SteadyLoad.statuses(results), {200: len(results)})
        # A proxy that starts now connects over the new certificate.
        g, port = self.rogue_proxy()
        r, _ = self.get(port, "/after-renewal")
        self.assertEqual(r.status, 200, "%s\n%s" % (r.body[:300], g.log_text()))
        self.assertEqual(g.stop(), 0)

    def test_a_plaintext_url_to_a_tls_service_fails_closed(self):
        urls = ["http://127.0.0.1:%d" % p for p in self.split.authorize_ports]
        g, port = self.rogue_proxy(authorize_service_urls=urls)
        r, elapsed = self.get(port, "/plaintext")
        self.assertEqual(r.status, 503, r.body[:300])
        self.assertLess(elapsed, 5)
        self.assertEqual(g.stop(), 0)


class SplitOverDerivedTls(unittest.TestCase):
    """https:// service URLs with only shared_secret and tls_derive: no
    certificate files for gRPC, every service presents a certificate for
    the tls_derive domain issued by the CA derived from the secret, and
    every client trusts that CA and checks that name."""

    DOMAIN = "grpc.gatehouse.internal"

    @classmethod
    def setUpClass(cls):
        cls.upstream = h.Upstream()
        cls.addClassCleanup(cls.upstream.close)
        split = h.SplitDeployment(cls.upstream, tls_derive=cls.DOMAIN.upper(),
                                  grpc_insecure=False)
        split.options["databroker_service_urls"] = [
            "https://127.0.0.1:%d" % p for p in split.db_ports]
        split.options["authorize_service_urls"] = [
            "https://127.0.0.1:%d" % p for p in split.authorize_ports]
        cls.addClassCleanup(split.cleanup)
        idp = h.start_idp(cls, clients=[split.idp_client()], users=h.LOGIN_USERS)
        split.start(idp)
        cls.addClassCleanup(cls.stop_split, split)
        cls.split = split
        cls.browser, r = split.login("alice")
        if r.status != 200:
            raise AssertionError("sign-in over derived TLS failed: %r %r\n%s" %
                                 (r.status, r.hops, split.log_text()))

    @staticmethod
    def stop_split(split):
        codes = split.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("split processes did not exit 0 on SIGTERM: %r\n%s" %
                                 (bad, split.log_text()))

    def proxy(self, **extra):
        """Another proxy with the deployment's config and `extra` (a None
        value removes the key)."""
        port = h.free_port()
        cfg = self.split.process_config("proxy", address="127.0.0.1:%d" % port,
                                        grpc_address="127.0.0.1:0", **extra)
        cfg = {k: v for k, v in cfg.items() if v is not None}
        g = h.Gatehouse(cfg)
        self.addCleanup(g.cleanup)
        g.start()
        return g, port

    def get(self, port, path):
        return self.browser.get("https://app.localhost:%d%s" % (port, path))

    def test_signed_in_requests_pass_over_derived_certificates(self):
        r = self.browser.get(self.split.url("app", "/derived"))
        self.assertEqual(r.status, 200, r.body[:300])
        claims = h.jwt_parts(dict((k.lower(), v) for k, v in json.loads(r.body)["headers"])
                             ["x-pomerium-jwt-assertion"])[1]
        self.assertEqual(claims["email"], "alice@example.com")
        # No process has a certificate file; the gRPC ports present a
        # certificate for the domain from the derived CA.
        for g in self.split.processes():
            self.assertNotIn("certificate", h.read_file(g.config_path))
        for port in self.split.db_ports + self.split.authorize_ports:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=self.DOMAIN) as tls:
                    der = tls.getpeercert(binary_form=True)
            text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"],
                                  input=der, capture_output=True).stdout.decode()
            self.assertIn("Issuer: O = Pomerium, CN = Pomerium PSK CA", text)
            self.assertIn("DNS:" + self.DOMAIN, text)

    def test_a_proxy_with_another_shared_secret_fails_the_handshake_closed(self):
        before = len(self.upstream.requests)
        g, port = self.proxy(shared_secret=h.random_secret())
        r = self.get(port, "/other-secret")
        self.assertEqual(r.status, 503, r.body[:300])
        self.assertIsNone(r.header("Location"))
        self.assertEqual(len(self.upstream.requests), before)
        line = g.wait_for("http-request", path="/other-secret")
        self.assertIn("authorize service unavailable", line["response-code-details"])
        self.assertEqual(g.stop(), 0)

    def test_the_derived_certificate_is_verified_not_merely_accepted(self):
        # The same secret, but without tls_derive the client trusts only the
        # system's roots; and with another domain, the name does not match.
        for extra in ({"tls_derive": None}, {"tls_derive": "elsewhere.internal"}):
            g, port = self.proxy(**extra)
            r = self.get(port, "/not-verified")
            self.assertEqual(r.status, 503, "%r %s" % (extra, r.body[:300]))
            self.assertEqual(g.stop(), 0)
        # override_certificate_name replaces the domain as the name checked.
        g, port = self.proxy(override_certificate_name=self.DOMAIN)
        self.assertEqual(self.get(port, "/override").status, 200)
        self.assertEqual(g.stop(), 0)


class GrpcCertificateReload(h.GatehouseTestCase):
    """A config reload that changes an inline certificate changes what the
    running gRPC service presents; a bad pair keeps the previous one."""

    def setUp(self):
        pki_dir = tempfile.mkdtemp(prefix="gatehouse-reload-pki-")
        self.addCleanup(shutil.rmtree, pki_dir, True)
        self.pki = h.Pki(pki_dir)

    def inline(self, name):
        """base64 of a new pair's PEM, as `certificate` / `certificate_key`."""
        crt, key = self.pki.issue(name, sans=["IP:127.0.0.1"])
        return tuple(base64.b64encode(h.read_file(p).encode()).decode() for p in (crt, key))

    def serial(self, port):
        ctx = ssl.create_default_context(cafile=self.pki.ca_cert)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.getpeercert()["serialNumber"]

    def wait_serial(self, port, changed_from, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            serial = self.serial(port)
            if serial != changed_from:
                return serial
            time.sleep(0.05)
        return changed_from

    def test_an_inline_certificate_changed_by_a_reload_is_presented(self):
        cert, key = self.inline("first")
        cfg = {"services": "databroker", "grpc_address": "127.0.0.1:0",
               "shared_secret": h.random_secret(), "certificate": cert, "certificate_key": key}
        g = self.start_gatehouse(cfg)
        port = int(g.wait_for("listening", kind="grpc")["address"].rsplit(":", 1)[1])
        first = self.serial(port)

        # A key that is not the certificate's: refused, the old pair stays.
        other_cert, other_key = self.inline("second")
        mark = g.mark()
        g.write_config(dict(cfg, certificate=other_cert, certificate_key=key))
        deadline = time.monotonic() + 10
        while not any("reload" in (l.get("message") or "") and
                      ("failed" in l["message"] or "not reloaded" in l["message"])
                      for l in g.lines[mark:]):
            self.assertLess(time.monotonic(), deadline, g.log_text())
            time.sleep(0.05)
        self.assertEqual(self.serial(port), first)

        mark = g.mark()
        g.write_config(dict(cfg, certificate=other_cert, certificate_key=other_key))
        line = g.wait_for("gRPC certificate reloaded", after=mark)
        self.assertEqual(line["origin"], "certificate")
        second = self.wait_serial(port, first)
        self.assertNotEqual(second, first)
        self.assertEqual(g.stop(), 0)


class GrpcInsecureDefault(h.GatehouseTestCase):
    """As in Pomerium, a process running only databroker or authorize serves
    TLS unless grpc_insecure says otherwise, so it needs a certificate."""

    def databroker(self, **extra):
        cfg = {"services": "databroker", "grpc_address": "127.0.0.1:0",
               "shared_secret": h.random_secret()}
        cfg.update(extra)
        return self.start_gatehouse(cfg, wait=False)

    def start_error(self, g):
        self.assertEqual(g.wait_exit(20), 1)
        return " ".join(l.get("error", "") for l in g.find("invalid configuration"))

    def test_without_a_certificate_the_start_fails_naming_grpc_insecure(self):
        for extra in ({}, {"grpc_insecure": False}):
            error = self.start_error(self.databroker(**extra))
            self.assertTrue(error.startswith("grpc_insecure: "), error)
            self.assertIn("certificate", error)

    def test_grpc_insecure_true_serves_plaintext_and_warns_about_https_urls(self):
        g = self.databroker(grpc_insecure=True, databroker_service_url="https://127.0.0.1:1")
        g.wait_for("gatehouse started")
        warning = g.wait_for("config", warning=lambda w: w and "databroker_service_urls" in w)
        self.assertIn("plaintext", warning["warning"])
        port = int(g.wait_for("listening", kind="grpc")["address"].rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            self.assertEqual(s.recv(9)[3], 4)  # the server's SETTINGS frame: plaintext h2
        self.assertEqual(g.stop(), 0)


if __name__ == "__main__":
    unittest.main()

"""Split mode with TLS on the gRPC connections: https:// service URLs, the
databroker and authorize serving TLS with the process's certificate
(grpc_insecure left at its default), clients verifying it against
certificate_authority_file, override_certificate_name, and what a client
that cannot verify the service gets."""

import json
import shutil
import socket
import ssl
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

    def test_a_plaintext_url_to_a_tls_service_fails_closed(self):
        urls = ["http://127.0.0.1:%d" % p for p in self.split.authorize_ports]
        g, port = self.rogue_proxy(authorize_service_urls=urls)
        r, elapsed = self.get(port, "/plaintext")
        self.assertEqual(r.status, 503, r.body[:300])
        self.assertLess(elapsed, 5)
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

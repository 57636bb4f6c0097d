"""TLS termination: SNI certificate selection, HSTS, the self-signed
fallback, the HTTP redirect listener, and HTTP/2 from real clients."""

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import (ClassGatehouse, GatehouseTestCase, Pki, config, curl, h2_request, header,
                     pattern_sha256, route)


def peer_certificate(port, server_name=None, cafile=None, alpn=None):
    """(subject CN, SAN DNS names, negotiated ALPN) of the certificate served
    for `server_name` (no SNI when None)."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    if server_name is None:
        ctx.check_hostname = False
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), 10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as s:
            der = s.getpeercert(binary_form=True)
            alpn_chosen = s.selected_alpn_protocol()
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-ext",
                           "subjectAltName"], input=der, capture_output=True).stdout.decode()
    cn = re.search(r"CN\s*=\s*([^,\n/]+)", text)
    names = re.findall(r"DNS:([^,\s]+)", text)
    return (cn.group(1).strip() if cn else None), names, alpn_chosen


class SniTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.pki = Pki(cls.tmp)
        cls.a_cert, cls.a_key = cls.pki.issue("a.test", ["a.test", "*.a.test"])
        cls.b_cert, cls.b_key = cls.pki.issue("b.test", ["b.test"])
        cls.up = cls.class_upstream("UP")

    @classmethod
    def make_config(cls):
        return config([
            route("https://a.test", cls.up.url),
            route("https://*.a.test", cls.up.url),
            route("https://b.test", cls.up.url),
        ], tls=True, certificates=[{"cert": cls.a_cert, "key": cls.a_key},
                                   {"cert": cls.b_cert, "key": cls.b_key}])

    def test_certificate_chosen_by_sni(self):
        ca = self.pki.ca_cert
        self.assertEqual(peer_certificate(self.port, "a.test", ca)[0], "a.test")
        self.assertEqual(peer_certificate(self.port, "b.test", ca)[0], "b.test")
        self.assertEqual(peer_certificate(self.port, "x.a.test", ca)[0], "a.test")
        self.assertEqual(peer_certificate(self.port, "B.TEST", ca)[0], "b.test")

    def test_without_sni_or_unknown_name_the_first_certificate(self):
        self.assertEqual(peer_certificate(self.port, None)[0], "a.test")
        self.assertEqual(peer_certificate(self.port, "unknown.test")[0], "a.test")

    def test_openssl_s_client(self):
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                              "-servername", "b.test", "-CAfile", self.pki.ca_cert,
                              "-verify_hostname", "b.test", "-verify_return_error"],
                             input=b"", capture_output=True, timeout=20)
        text = out.stdout.decode()
        self.assertRegex(text, r"subject=.*CN\s*=\s*b\.test")
        self.assertIn("Verify return code: 0 (ok)", text)

    def test_curl_verifies_the_chain(self):
        for host in ("a.test", "b.test", "deep.a.test"):
            r = curl("https://%s:%d/v" % (host, self.port), cacert=self.pki.ca_cert)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertStatus(r, 200)

    def test_hsts_with_a_configured_certificate(self):
        r = curl("https://a.test:%d/" % self.port, cacert=self.pki.ca_cert)
        self.assertEqual(r.header("strict-transport-security"),
                         "max-age=31536000; includeSubDomains; preload")
        r = curl("https://nowhere.test:%d/" % self.port)
        self.assertStatus(r, 404)
        self.assertIsNotNone(r.header("strict-transport-security"))

    def test_forwarded_proto_is_https(self):
        r = curl("https://a.test:%d/" % self.port, cacert=self.pki.ca_cert)
        self.assertEqual(header(r.json(), "x-forwarded-proto"), ["https"])

    def test_misdirected_http2_request_is_421(self):
        # One connection, certificate for a.test, request for b.test.
        r = h2_request(self.port, "b.test:%d" % self.port, "/", server_name="a.test")
        self.assertEqual(r.alpn, "h2")
        self.assertEqual(r.status, 421)
        # A host the same certificate covers is fine.
        r = h2_request(self.port, "x.a.test:%d" % self.port, "/", server_name="a.test")
        self.assertEqual(r.status, 200)


class SelfSignedTest(GatehouseTestCase):
    def test_self_signed_fallback_names_the_routes_and_has_no_hsts(self):
        up = self.upstream("UP")
        g = self.start_gatehouse(config([route("https://app.test", up.url)], tls=True))
        self.assertTrue(g.find("no certificate configured: serving a self-signed certificate "
                               "that browsers will not trust"))
        cn, names, _ = peer_certificate(g.port, "app.test")
        self.assertIn("app.test", names)
        self.assertIn("localhost", names)
        r = curl("https://app.test:%d/" % g.port)
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("strict-transport-security"))
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        # It is not trusted without -k.
        r = curl("https://app.test:%d/" % g.port, insecure=False)
        self.assertNotEqual(r.returncode, 0)


class RedirectListenerTest(GatehouseTestCase):
    def test_http_redirect_listener(self):
        up = self.upstream("UP")
        g = self.start_gatehouse(config([route("https://app.test", up.url)], tls=True,
                                        http_redirect_addr="127.0.0.1:0"))
        self.assertIn("http-redirect", g.ports)
        r = curl("http://app.test:%d/some/path?q=1" % g.ports["http-redirect"])
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "https://app.test:%d/some/path?q=1" % g.ports["https"])
        self.assertEqual(up.requests, [])
        # Following it lands on the proxy.
        r = curl("http://app.test:%d/x" % g.ports["http-redirect"], "-L", "-k", "--resolve",
                 "app.test:%d:127.0.0.1" % g.ports["https"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["path"], "/x")


class Http2Test(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.up = cls.class_upstream("UP")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.up.url),
                       route("https://direct.test", response={"status": 200, "body": "direct"})],
                      tls=True)

    def url(self, path, host="app.test"):
        return "https://%s:%d%s" % (host, self.port, path)

    def test_alpn(self):
        self.assertEqual(peer_certificate(self.port, "app.test", alpn=["h2", "http/1.1"])[2], "h2")
        self.assertEqual(peer_certificate(self.port, "app.test", alpn=["http/1.1"])[2], "http/1.1")

    def test_curl_http2_to_an_http1_upstream(self):
        r = curl(self.url("/h2/path?x=1"), "--http2", "-H", "X-Custom: v")
        self.assertStatus(r, 200)
        self.assertEqual(r.http_version, "2")
        echo = r.json()
        self.assertEqual(echo["version"], "HTTP/1.1")
        self.assertEqual(echo["path"], "/h2/path?x=1")
        self.assertEqual(header(echo, "host"), ["127.0.0.1:%d" % self.up.port])
        self.assertEqual(header(echo, "x-forwarded-host"), ["app.test:%d" % self.port])
        self.assertEqual(header(echo, "x-forwarded-proto"), ["https"])
        self.assertEqual(header(echo, "x-custom"), ["v"])
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")

    def test_curl_http11_over_tls(self):
        r = curl(self.url("/h1"), "--http1.1")
        self.assertStatus(r, 200)
        self.assertEqual(r.http_version, "1.1")

    def test_http2_post_body(self):
        data = os.urandom(300 * 1024)
        r = curl(self.url("/post"), "--http2", "--data-binary", "@-", input=data)
        self.assertStatus(r, 200)
        echo = r.json()
        self.assertEqual(echo["body_sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(echo["method"], "POST")

    def test_http2_post_answered_before_its_body_is_read(self):
        # The response goes out without the small request body being read:
        # the rest of the body is let in and dropped, not refused with a
        # stream reset, which curl reports as a failed request.
        for _ in range(20):
            r = curl(self.url("/x", host="direct.test"), "--http2", "--data-binary", "@-",
                     input=os.urandom(5000))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertStatus(r, 200)

    def test_http2_download(self):
        size = 5 * 1024 * 1024 + 3
        for path in ("/big/%d" % size, "/big/%d?chunked" % size):
            r = curl(self.url(path), "--http2")
            self.assertStatus(r, 200)
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), pattern_sha256(size))

    def test_http2_parallel_streams(self):
        with tempfile.TemporaryDirectory() as d:
            urls = []
            for i in range(8):
                urls += [self.url("/p/%d" % i), "-o", os.path.join(d, "out%d" % i)]
            out = subprocess.run(["curl", "-sS", "-k", "--http2", "-Z", "--parallel-immediate",
                                  "--resolve", "app.test:%d:127.0.0.1" % self.port,
                                  "-w", "%{http_code} %{http_version}\n"] + urls,
                                 capture_output=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.decode().count("200 2"), 8, out.stdout)
            for i in range(8):
                with open(os.path.join(d, "out%d" % i)) as f:
                    self.assertIn('"/p/%d"' % i, f.read())

    def test_http2_errors_and_local_replies(self):
        r = curl(self.url("/x", host="nowhere.test"), "--http2", "-H", "Accept: application/json")
        self.assertStatus(r, 404)
        self.assertEqual(r.http_version, "2")
        self.assertEqual(r.json()["request_id"], r.header("x-request-id"))
        r = curl(self.url("/", host="direct.test"), "--http2")
        self.assertStatus(r, 200)
        self.assertEqual(r.text, "direct")
        r = curl(self.url("/ping"), "--http2")
        self.assertEqual(r.text, "OK")

    def test_http2_identity_headers_stripped(self):
        r = h2_request(self.port, "app.test:%d" % self.port, "/strip",
                       headers=[("x-pomerium-jwt-assertion", "forged"),
                                ("cookie", "_pomerium=s"), ("cookie", "keep=1"),
                                ("authorization", "Pomerium abc")])
        self.assertEqual(r.status, 200)
        echo = __import__("json").loads(r.body)
        self.assertEqual(header(echo, "x-pomerium-jwt-assertion"), [])
        self.assertEqual(header(echo, "authorization"), [])
        self.assertEqual(header(echo, "cookie"), ["keep=1"])

    def test_http2_cookie_crumbs_are_joined_for_http1(self):
        r = h2_request(self.port, "app.test:%d" % self.port, "/c",
                       headers=[("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "_pomerium=s")])
        self.assertEqual(r.status, 200)
        echo = json.loads(r.body)
        # HTTP/1.1 allows one Cookie field (RFC 9113 section 8.2.3).
        self.assertEqual(header(echo, "cookie"), ["a=1; b=2"])

    def test_http2_head(self):
        r = h2_request(self.port, "app.test:%d" % self.port, "/big/4321", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-length"), "4321")
        self.assertEqual(r.body, b"")
        # A local answer: one content-length, no body.
        r = h2_request(self.port, "direct.test:%d" % self.port, "/", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual([v for k, v in r.headers if k == "content-length"], ["6"])
        self.assertEqual(r.body, b"")

    def test_http2_host_header_without_authority(self):
        r = h2_request(self.port, None, "/h", headers=[("host", "app.test:%d" % self.port)],
                       server_name="app.test", strict=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["path"], "/h")

    def test_http2_authority_decides_over_host(self):
        r = h2_request(self.port, "app.test:%d" % self.port, "/h",
                       headers=[("host", "direct.test")], strict=False)
        if r.status == 200:
            echo = json.loads(r.body)
            self.assertEqual(header(echo, "x-forwarded-host"), ["app.test:%d" % self.port])
        else:
            self.assertEqual(r.status, 400)

    def test_http2_connection_specific_headers_are_malformed(self):
        before = len(self.up.requests)
        for bad in [("connection", "keep-alive"), ("transfer-encoding", "chunked"),
                    ("X-Upper", "x"), ("te", "gzip")]:
            with self.subTest(header=bad[0]):
                r = h2_request(self.port, "app.test:%d" % self.port, "/bad", headers=[bad],
                               strict=False)
                self.assertTrue(r.reset is not None or r.status == 400,
                                (r.status, r.reset, r.headers))
        self.assertEqual(len(self.up.requests), before)

    def test_http2_response_without_connection_specific_headers(self):
        # The upstream's Keep-Alive / Connection / Transfer-Encoding must
        # not appear in an HTTP/2 response; h2 would refuse it.
        r = h2_request(self.port, "app.test:%d" % self.port, "/big/100000?chunked")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.reset)
        names = [k for k, _ in r.headers]
        for name in ("connection", "keep-alive", "transfer-encoding"):
            self.assertNotIn(name, names)
        self.assertEqual(len(r.body), 100000)

    def test_http2_path_normalisation(self):
        r = h2_request(self.port, "app.test:%d" % self.port, "/a/../b/%2e%2e/c//d")
        self.assertEqual(r.status, 200)
        self.assertEqual(__import__("json").loads(r.body)["path"], "/c/d")
        r = h2_request(self.port, "app.test:%d" % self.port, "/a%2Fb")
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    unittest.main()

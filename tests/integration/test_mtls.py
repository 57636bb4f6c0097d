"""Downstream mTLS (`downstream_mtls`): client certificates asked for in the
TLS handshake, verified against the configured CA, decided by the policy
(495 without a valid one under policy_with_default_deny), or refused in the
handshake (reject_connection); the fingerprint in set_request_headers."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ClassGatehouse, Gatehouse, Pki, config, curl, header, route


def fingerprint(cert_path):
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


class MtlsCase(ClassGatehouse):
    """A gatehouse with a server certificate, a client CA and clients:
    alice and bob (issued by the client CA), mallory (another CA)."""

    MTLS = {}

    @classmethod
    def setUpUpstreams(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-mtls-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.server_pki = Pki(os.path.join(cls.tmp, "server"))
        cls.client_pki = Pki(os.path.join(cls.tmp, "clients"))
        cls.other_pki = Pki(os.path.join(cls.tmp, "other"))
        cls.server_cert, cls.server_key = cls.server_pki.issue(
            "server", ["public.test", "pinned.test", "headers.test", "strict.test"])
        cls.alice = cls.client_pki.issue("alice", ["email:alice@example.com"], client=True)
        cls.bob = cls.client_pki.issue("bob", ["email:bob@other.org"], client=True)
        cls.mallory = cls.other_pki.issue("mallory", ["email:mallory@example.com"], client=True)
        cls.up = cls.class_upstream("UP")

    @classmethod
    def routes(cls):
        return [route("https://public.test", cls.up.url)]

    @classmethod
    def make_config(cls):
        mtls = {"ca_file": cls.client_pki.ca_cert}
        mtls.update(cls.MTLS)
        return config(cls.routes(), tls=True,
                      certificates=[{"cert": cls.server_cert, "key": cls.server_key}],
                      downstream_mtls=mtls)

    def get(self, host, client=None, *args):
        extra = list(args)
        if client:
            extra += ["--cert", client[0], "--key", client[1]]
        return curl("https://%s:%d/" % (host, self.port), *extra,
                    cacert=self.server_pki.ca_cert)


class DefaultDenyTest(MtlsCase):
    """enforcement unset: policy_with_default_deny."""

    @classmethod
    def routes(cls):
        alice = fingerprint(cls.alice[0])
        return [
            route("https://public.test", cls.up.url),
            {"from": "https://pinned.test", "to": cls.up.url,
             "policy": {"allow": {"or": [{"client_certificate": {"fingerprint": alice}}]}}},
            route("https://headers.test", cls.up.url, set_request_headers={
                "X-Client-Fingerprint": "${pomerium.client_cert_fingerprint}"}),
        ]

    def test_without_a_certificate_495(self):
        for host in ("public.test", "pinned.test"):
            r = self.get(host)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertStatus(r, 495)

    def test_certificate_from_another_ca_495(self):
        r = self.get("public.test", self.mallory)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertStatus(r, 495)
        self.assertStatus(self.get("pinned.test", self.mallory), 495)

    def test_valid_certificate_then_the_policy_decides(self):
        self.assertStatus(self.get("public.test", self.alice), 200)
        self.assertStatus(self.get("public.test", self.bob), 200)
        self.assertStatus(self.get("pinned.test", self.alice), 200)
        self.assertStatus(self.get("pinned.test", self.bob), 403)

    def test_over_http2(self):
        r = self.get("pinned.test", self.alice, "--http2")
        self.assertEqual(r.http_version, "2")
        self.assertStatus(r, 200)
        r = self.get("pinned.test", self.bob, "--http2")
        self.assertEqual(r.http_version, "2")
        self.assertStatus(r, 403)
        self.assertStatus(self.get("pinned.test", None, "--http2"), 495)

    def test_fingerprint_reaches_the_upstream(self):
        r = self.get("headers.test", self.alice)
        self.assertStatus(r, 200)
        self.assertEqual(header(r.json(), "x-client-fingerprint"), [fingerprint(self.alice[0])])
        # A client cannot send its own value.
        r = self.get("headers.test", self.bob, "-H", "X-Client-Fingerprint: forged")
        self.assertEqual(header(r.json(), "x-client-fingerprint"), [fingerprint(self.bob[0])])

    def test_the_ca_is_named_in_the_certificate_request(self):
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                              "-servername", "public.test", "-tls1_2"],
                             input=b"", capture_output=True, timeout=20).stdout.decode()
        self.assertIn("Acceptable client certificate CA names", out)
        self.assertIn("Gatehouse Integration Test CA", out.split(
            "Acceptable client certificate CA names", 1)[1])


class PolicyEnforcementTest(MtlsCase):
    """enforcement: policy: no default deny, the route's policy decides."""

    MTLS = {"enforcement": "policy"}

    @classmethod
    def routes(cls):
        return [
            route("https://public.test", cls.up.url),
            {"from": "https://strict.test", "to": cls.up.url,
             "policy": [{"allow": {"or": [{"accept": True}]}},
                        {"deny": {"or": [{"invalid_client_certificate": True}]}}]},
        ]

    def test_public_route_without_or_with_any_certificate(self):
        self.assertStatus(self.get("public.test"), 200)
        self.assertStatus(self.get("public.test", self.mallory), 200)
        self.assertStatus(self.get("public.test", self.alice), 200)

    def test_route_that_asks_for_a_valid_certificate(self):
        self.assertStatus(self.get("strict.test"), 495)
        self.assertStatus(self.get("strict.test", self.mallory), 495)
        self.assertStatus(self.get("strict.test", self.alice), 200)


class RejectConnectionTest(MtlsCase):
    MTLS = {"enforcement": "reject_connection"}

    def test_handshake_fails_without_a_valid_certificate(self):
        r = self.get("public.test")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.status, 0)
        r = self.get("public.test", self.mallory)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.status, 0)

    def test_valid_certificate(self):
        r = self.get("public.test", self.alice)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertStatus(r, 200)


class MatchSubjectAltNamesTest(MtlsCase):
    MTLS = {"match_subject_alt_names": [{"email": r".*@example\.com"}]}

    def test_only_a_matching_san_makes_a_certificate_valid(self):
        self.assertStatus(self.get("public.test", self.alice), 200)
        self.assertStatus(self.get("public.test", self.bob), 495)
        # The SAN matches, but the CA is not trusted.
        self.assertStatus(self.get("public.test", self.mallory), 495)


class InvalidSettingsTest(unittest.TestCase):
    def test_error_names_the_key(self):
        # base64 of "not a certificate"
        g = Gatehouse(config([], tls=True, downstream_mtls={"ca": "bm90IGEgY2VydGlmaWNhdGU="}))
        self.addCleanup(g.cleanup)
        g.start(wait=False)
        self.assertNotEqual(g.wait_exit(), 0)
        text = g.log_text() + "\n".join(g.stderr_lines)
        self.assertIn("downstream_mtls.ca: contains no PEM certificate", text)


if __name__ == "__main__":
    unittest.main()

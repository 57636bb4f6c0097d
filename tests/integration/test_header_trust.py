"""What the upstream may trust: forwarding headers, identity headers and
cookies, and the path it receives after normalisation."""

import unittest

from harness import ClassGatehouse, Raw, config, curl, header, route


class ForwardedHeadersTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)])

    def echo(self, *args, path="/"):
        r = curl("http://app.test:%d%s" % (self.port, path), *args)
        self.assertStatus(r, 200)
        return r

    def test_client_address_is_appended_and_spoofs_replaced(self):
        r = self.echo("-H", "X-Forwarded-For: 1.2.3.4", "-H", "X-Forwarded-Proto: https",
                      "-H", "X-Forwarded-Host: evil.example", "-H", "X-Request-Id: mine")
        echo = r.json()
        self.assertEqual(header(echo, "x-forwarded-for"), ["1.2.3.4, 127.0.0.1"])
        self.assertEqual(header(echo, "x-forwarded-proto"), ["http"])
        self.assertEqual(header(echo, "x-forwarded-host"), ["app.test:%d" % self.port])
        # The request id is Gatehouse's own, the one in its log.
        ids = header(echo, "x-request-id")
        self.assertEqual(len(ids), 1)
        self.assertNotEqual(ids[0], "mine")
        self.assertRegex(ids[0], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
        line = self.gatehouse.access_log(ids[0])
        # With no trusted hops the client is the peer, whatever XFF says.
        self.assertEqual(line["forwarded-for"], "127.0.0.1")

    def test_without_client_header(self):
        echo = self.echo().json()
        self.assertEqual(header(echo, "x-forwarded-for"), ["127.0.0.1"])

    def test_identity_headers_are_stripped(self):
        echo = self.echo(
            "-H", "X-Pomerium-Jwt-Assertion: forged.jwt.value",
            "-H", "X-Pomerium-Claim-Email: admin@example.com",
            "-H", "x-pomerium-claim-groups: admins",
            "-H", "X-Pomerium-Jwt-Assertion-For: someone",
            "-H", "Authorization: Pomerium session-token",
            "-H", "X-Other: fine").json()
        names = [k.lower() for k, _ in echo["headers"]]
        self.assertFalse([n for n in names if n.startswith("x-pomerium")], names)
        self.assertEqual(header(echo, "authorization"), [])
        self.assertEqual(header(echo, "x-other"), ["fine"])

    def test_pomerium_bearer_token_is_stripped_other_authorization_kept(self):
        echo = self.echo("-H", "Authorization: Bearer Pomerium-abc").json()
        self.assertEqual(header(echo, "authorization"), [])
        echo = self.echo("-H", "Authorization: Bearer upstream-token").json()
        self.assertEqual(header(echo, "authorization"), ["Bearer upstream-token"])
        echo = self.echo("-H", "Authorization: Basic dXNlcjpwYXNz").json()
        self.assertEqual(header(echo, "authorization"), ["Basic dXNlcjpwYXNz"])

    def test_session_cookie_removed_other_cookies_pass(self):
        echo = self.echo("-H", "Cookie: a=1; _pomerium=secret-session; b=2").json()
        self.assertEqual(header(echo, "cookie"), ["a=1; b=2"])
        echo = self.echo("-H", "Cookie: _pomerium=only").json()
        self.assertEqual(header(echo, "cookie"), [])
        # A cookie whose name only starts the same way is not the session.
        echo = self.echo("-H", "Cookie: _pomerium_csrf=x; my_pomerium=y").json()
        self.assertEqual(header(echo, "cookie"), ["_pomerium_csrf=x; my_pomerium=y"])

    def test_non_ascii_header_value_passes_unchanged(self):
        raw = Raw(self.port)
        self.addCleanup(raw.close)
        raw.send(b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Utf8: caf\xc3\xa9\r\n"
                 b"X-Multi: 1\r\nX-Multi: 2\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        echo = r.json()
        self.assertEqual([v.encode("latin-1") for v in header(echo, "x-utf8")], [b"caf\xc3\xa9"])
        self.assertIn(header(echo, "x-multi"), (["1", "2"], ["1, 2"]))

    def test_underscore_header_is_rejected(self):
        before = len(self.a.requests)
        r = curl("http://app.test:%d/" % self.port, "-H", "X_Pomerium_Jwt_Assertion: forged")
        self.assertStatus(r, 400)
        r = curl("http://app.test:%d/" % self.port, "-H", "X_Custom: x")
        self.assertStatus(r, 400)
        self.assertEqual(len(self.a.requests), before)


class ForwardedHeadersDoNotBuildUrlsTest(ClassGatehouse):
    @classmethod
    def make_config(cls):
        return config([route("https://redir.test", prefix="/p/",
                             redirect={"prefix_rewrite": "/q/", "response_code": 302})])

    def test_redirect_location_ignores_forwarded_headers(self):
        r = curl("http://redir.test:%d/p/x" % self.port, "-H", "X-Forwarded-Host: evil.example",
                 "-H", "X-Forwarded-Proto: https", "-H", "Forwarded: host=evil.example")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://redir.test:%d/q/x" % self.port)

    def test_issuer_ignores_forwarded_headers(self):
        r = curl("http://redir.test:%d/.well-known/pomerium" % self.port,
                 "-H", "X-Forwarded-Host: evil.example")
        self.assertStatus(r, 200)
        self.assertNotIn("evil", r.text)
        self.assertEqual(r.json()["issuer"], "https://redir.test/")


class TrustedHopsTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)], xff_num_trusted_hops=1)

    def test_one_trusted_hop(self):
        r = curl("http://app.test:%d/" % self.port, "-H", "X-Forwarded-For: 9.9.9.9, 1.2.3.4",
                 "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: public.example")
        self.assertStatus(r, 200)
        echo = r.json()
        self.assertEqual(header(echo, "x-forwarded-for"), ["9.9.9.9, 1.2.3.4, 127.0.0.1"])
        # The trusted proxy in front said so.
        self.assertEqual(header(echo, "x-forwarded-proto"), ["https"])
        self.assertEqual(header(echo, "x-forwarded-host"), ["public.example"])
        line = self.gatehouse.access_log(header(echo, "x-request-id")[0])
        # The last address the trusted hop added is the client.
        self.assertEqual(line["forwarded-for"], "1.2.3.4")


    def test_fewer_hops_than_trusted(self):
        r = curl("http://app.test:%d/" % self.port)
        echo = r.json()
        self.assertEqual(header(echo, "x-forwarded-for"), ["127.0.0.1"])
        line = self.gatehouse.access_log(header(echo, "x-request-id")[0])
        self.assertEqual(line["forwarded-for"], "127.0.0.1")


class SkipXffAppendTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)], skip_xff_append=True)

    def test_client_address_not_appended(self):
        echo = curl("http://app.test:%d/" % self.port, "-H", "X-Forwarded-For: 1.2.3.4").json()
        self.assertEqual(header(echo, "x-forwarded-for"), ["1.2.3.4"])
        echo = curl("http://app.test:%d/" % self.port).json()
        self.assertEqual(header(echo, "x-forwarded-for"), [])


class PathNormalisationTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.pub = cls.class_upstream("PUB")
        cls.rest = cls.class_upstream("REST")

    @classmethod
    def make_config(cls):
        return config([
            route("https://app.test", cls.pub.url, prefix="/pub/"),
            route("https://app.test", cls.rest.url),
        ])

    def send(self, target):
        """The raw request target, exactly as written."""
        return curl("http://app.test:%d%s" % (self.port, target), "--path-as-is")

    def seen(self, target):
        r = self.send(target)
        self.assertStatus(r, 200)
        echo = r.json()
        return echo["server"], echo["path"]

    def test_dot_segments_are_resolved_before_matching(self):
        self.assertEqual(self.seen("/pub/../admin"), ("REST", "/admin"))
        self.assertEqual(self.seen("/pub/%2e%2e/admin"), ("REST", "/admin"))
        self.assertEqual(self.seen("/pub/%2E%2E/admin"), ("REST", "/admin"))
        self.assertEqual(self.seen("/pub/.%2e/admin"), ("REST", "/admin"))
        self.assertEqual(self.seen("/pub/./x"), ("PUB", "/pub/x"))
        self.assertEqual(self.seen("/x/../pub/y"), ("PUB", "/pub/y"))
        self.assertEqual(self.seen("/../../pub/y"), ("PUB", "/pub/y"))

    def test_path_parameters_on_dot_segments(self):
        self.assertEqual(self.seen("/pub/..;x/admin"), ("REST", "/admin"))

    def test_repeated_slashes_are_merged(self):
        self.assertEqual(self.seen("//a"), ("REST", "/a"))
        self.assertEqual(self.seen("//pub//x"), ("PUB", "/pub/x"))

    def test_backslash_is_a_slash(self):
        self.assertEqual(self.seen("/pub\\..\\admin"), ("REST", "/admin"))

    def test_unreserved_escapes_are_decoded(self):
        self.assertEqual(self.seen("/%70ub/x"), ("PUB", "/pub/x"))
        # Other escapes stay encoded, and the query is forwarded untouched.
        self.assertEqual(self.seen("/pub/a%20b?q=%2F%2e"), ("PUB", "/pub/a%20b?q=%2F%2e"))

    def test_escaped_slash_and_backslash_are_rejected(self):
        before = len(self.pub.requests) + len(self.rest.requests)
        for target in ("/pub%2F..%2Fadmin", "/pub/a%2fb", "/pub%5C..%5Cadmin", "/pub/a%5cb"):
            r = self.send(target)
            self.assertStatus(r, 400)
        self.assertEqual(len(self.pub.requests) + len(self.rest.requests), before)

    def test_malformed_and_nul_escapes_are_rejected(self):
        for target in ("/pub/%zz", "/pub/%2", "/pub/a%00b"):
            self.assertStatus(self.send(target), 400)

    def test_absolute_form_target_decides_the_authority(self):
        # The request line names app.test, the Host header another host: one
        # authority (the target's) is used for routing and the upstream.
        raw = Raw(self.port)
        self.addCleanup(raw.close)
        raw.send(b"GET http://app.test/pub/x HTTP/1.1\r\nHost: other.test\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200, r.body)
        echo = r.json()
        self.assertEqual((echo["server"], echo["path"]), ("PUB", "/pub/x"))
        self.assertEqual(header(echo, "x-forwarded-host"), ["app.test"])

    def test_duplicate_host_is_rejected(self):
        raw = Raw(self.port)
        self.addCleanup(raw.close)
        raw.send(b"GET /pub/x HTTP/1.1\r\nHost: app.test\r\nHost: other.test\r\n\r\n")
        self.assertEqual(raw.read_response().status, 400)


if __name__ == "__main__":
    unittest.main()

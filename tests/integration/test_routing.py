"""Routing, rewrites, request and response headers, redirect and response
routes, local error pages and the endpoints every host serves."""

import re
import unittest

from harness import ClassGatehouse, Raw, config, curl, dead_port, header, route

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


class RoutingTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")
        cls.b = cls.class_upstream("B")
        cls.c = cls.class_upstream("C")
        cls.w = cls.class_upstream("W")
        cls.e = cls.class_upstream("E")
        cls.r = cls.class_upstream("R")

    @classmethod
    def make_config(cls):
        a, b, c = cls.a.url, cls.b.url, cls.c.url
        return config([
            route("https://app.test", a, prefix="/a/"),
            route("https://app.test", b),
            route("https://app.test", c, prefix="/a/never"),  # shadowed by the first route
            route("https://*.wild.test", cls.w.url),
            route("https://exact.wild.test", cls.e.url, path="/only"),
            route("https://re.test", cls.r.url, regex="^/r/[0-9]+$"),
            route("https://order.test", b, prefix="/"),
            route("https://order.test", a, prefix="/specific"),
            route("https://path.test", a, path="/exact"),
            route("https://private.test", a, allow_public_unauthenticated_access=False),
            route("https://upper.test", a, prefix="/Case"),
            route("https://ported.test:8443", c),
            route("https://cors.test", a, allow_public_unauthenticated_access=False,
                  cors_allow_preflight=True),
        ])

    def get(self, host, path, *args):
        return curl("http://%s:%d%s" % (host, self.port, path), "--path-as-is", *args)

    def served_by(self, host, path):
        r = self.get(host, path)
        self.assertStatus(r, 200)
        return r.json()["server"]

    def test_exact_host_and_prefix(self):
        self.assertEqual(self.served_by("app.test", "/a/x"), "A")
        self.assertEqual(self.served_by("app.test", "/a/never/x"), "A")  # first match wins
        self.assertEqual(self.served_by("app.test", "/b"), "B")
        self.assertEqual(self.served_by("app.test", "/a"), "B")  # "/a" is not under "/a/"

    def test_host_is_case_insensitive_and_port_ignored(self):
        self.assertEqual(self.served_by("APP.Test", "/a/x"), "A")
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host: app.test:1234")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "A")

    def test_trailing_dot_and_odd_hosts(self):
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host: app.test.")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "A")
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host: APP.Test.:1234")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["server"], "A")
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host: [::1]:%d" % self.port)
        self.assertStatus(r, 404)
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host: 127.0.0.1")
        self.assertStatus(r, 404)
        r = curl("http://127.0.0.1:%d/a/x" % self.port, "-H", "Host:")
        self.assertIn(r.status, (400,))

    def test_from_with_a_port_matches_any_port(self):
        self.assertEqual(self.served_by("ported.test", "/"), "C")

    def test_path_match_is_case_sensitive(self):
        self.assertEqual(self.served_by("upper.test", "/Case/x"), "A")
        self.assertStatus(self.get("upper.test", "/case/x"), 404)

    def test_first_match_wins_in_config_order(self):
        self.assertEqual(self.served_by("order.test", "/specific"), "B")
        self.assertEqual(self.served_by("order.test", "/other"), "B")

    def test_wildcard_host(self):
        self.assertEqual(self.served_by("x.wild.test", "/"), "W")
        self.assertEqual(self.served_by("a.b.wild.test", "/deep"), "W")
        self.assertStatus(self.get("wild.test", "/"), 404)
        self.assertStatus(self.get("xwild.test", "/"), 404)

    def test_exact_host_preferred_then_wildcard_fallback(self):
        self.assertEqual(self.served_by("exact.wild.test", "/only"), "E")
        self.assertEqual(self.served_by("exact.wild.test", "/other"), "W")

    def test_path_route_is_exact(self):
        self.assertEqual(self.served_by("path.test", "/exact"), "A")
        self.assertStatus(self.get("path.test", "/exact/"), 404)
        self.assertStatus(self.get("path.test", "/exactly"), 404)
        # The query string takes no part in matching and is forwarded.
        r = self.get("path.test", "/exact?x=/y")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["path"], "/exact?x=/y")

    def test_regex_route_is_anchored(self):
        self.assertEqual(self.served_by("re.test", "/r/123"), "R")
        self.assertStatus(self.get("re.test", "/r/123/x"), 404)
        self.assertStatus(self.get("re.test", "/x/r/123"), 404)
        self.assertStatus(self.get("re.test", "/r/abc"), 404)

    def test_route_without_public_access_is_refused(self):
        # A route with no policy admits nobody, signed in or not (as in
        # Pomerium: no allow rule matches, and there is nothing to sign in
        # for), and nothing reaches the upstream.
        before = len(self.a.requests)
        r = self.get("private.test", "/")
        self.assertStatus(r, 403)
        self.assertEqual(len(self.a.requests), before)

    def test_cors_preflight_passes_a_closed_route(self):
        r = self.get("cors.test", "/api", "-X", "OPTIONS", "-H", "Origin: https://web.example",
                     "-H", "Access-Control-Request-Method: POST")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["method"], "OPTIONS")
        # Anything else on that route is refused.
        self.assertStatus(self.get("cors.test", "/api", "-X", "OPTIONS"), 403)
        self.assertStatus(self.get("cors.test", "/api", "-H", "Origin: https://web.example"), 403)

    def test_404_is_html_with_request_id(self):
        r = self.get("nowhere.test", "/x")
        self.assertStatus(r, 404)
        self.assertTrue(r.header("content-type").startswith("text/html"), r.headers)
        request_id = r.header("x-request-id")
        self.assertRegex(request_id, UUID)
        self.assertIn("404", r.text)
        self.assertIn(request_id, r.text)
        self.assertEqual(r.header("cache-control"), "no-store")
        line = self.gatehouse.access_log(request_id)
        self.assertEqual(line["response-code"], 404)
        self.assertEqual(line["path"], "/x")
        self.assertEqual(line["authority"], "nowhere.test:%d" % self.port)

    def test_404_is_json_when_asked(self):
        r = self.get("nowhere.test", "/x", "-H", "Accept: application/json")
        self.assertStatus(r, 404)
        self.assertEqual(r.header("content-type"), "application/json")
        body = r.json()
        self.assertEqual(body["status"], 404)
        self.assertEqual(body["error"], "Not Found")
        self.assertEqual(body["request_id"], r.header("x-request-id"))
        self.assertRegex(body["request_id"], UUID)
        # Browsers list text/html first: they get the page.
        r = self.get("nowhere.test", "/x", "-H", "Accept: text/html,application/json")
        self.assertTrue(r.header("content-type").startswith("text/html"))

    def test_access_log_of_a_proxied_request(self):
        r = self.get("app.test", "/a/logged?secret=1", "-A", "agent/1.0", "-e", "https://ref.example/")
        self.assertStatus(r, 200)
        request_id = header(r.json(), "x-request-id")[0]
        line = self.gatehouse.access_log(request_id)
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], "/a/logged")  # no query in the log
        self.assertEqual(line["response-code"], 200)
        self.assertEqual(line["upstream"], "http://127.0.0.1:%d" % self.a.port)
        self.assertEqual(line["user-agent"], "agent/1.0")
        self.assertEqual(line["referer"], "https://ref.example/")
        self.assertEqual(line["size"], len(r.body))
        self.assertRegex(line["upstream-cluster"], r"^[0-9a-f]+$")
        self.assertGreater(line["duration"], 0)

    def test_request_ids_are_unique(self):
        ids = {self.get("nowhere.test", "/").header("x-request-id") for _ in range(5)}
        self.assertEqual(len(ids), 5)


class RewriteTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        a = cls.a.url
        return config([
            route("https://rw.test", a, prefix="/old/", prefix_rewrite="/new/"),
            route("https://topath.test", a + "/base/"),
            route("https://regex-rw.test", a, regex_rewrite_pattern="^/service/([^/]+)(/.*)$",
                  regex_rewrite_substitution="\\2/instance/\\1"),
            route("https://host-default.test", a),
            route("https://host-preserve.test", a, preserve_host_header=True),
            route("https://host-rewrite.test", a, host_rewrite="rewritten.internal"),
            route("https://host-header.test", a, host_rewrite_header="X-Target-Host"),
            route("https://by-name.test", "http://localhost:%d" % cls.a.port),
            route("https://hdr.test", a,
                  set_request_headers={"X-Set": "one", "User-Agent": "overridden"},
                  remove_request_headers=["X-Remove-Me", "X-Forwarded-Host"]),
        ])

    def echo(self, host, path, *args):
        r = curl("http://%s:%d%s" % (host, self.port, path), "--path-as-is", *args)
        self.assertStatus(r, 200)
        return r.json()

    def test_prefix_rewrite(self):
        self.assertEqual(self.echo("rw.test", "/old/x/y?q=1&r=%2F")["path"], "/new/x/y?q=1&r=%2F")
        self.assertEqual(self.echo("rw.test", "/old/")["path"], "/new/")

    def test_to_with_a_path_is_a_prefix_rewrite(self):
        self.assertEqual(self.echo("topath.test", "/x?y=1")["path"], "/base/x?y=1")
        self.assertEqual(self.echo("topath.test", "/")["path"], "/base/")

    def test_regex_rewrite(self):
        self.assertEqual(self.echo("regex-rw.test", "/service/foo/bar/baz?k=v")["path"],
                         "/bar/baz/instance/foo?k=v")
        # No match: the path is forwarded unchanged.
        self.assertEqual(self.echo("regex-rw.test", "/other")["path"], "/other")

    def test_host_header_defaults_to_the_upstream(self):
        echo = self.echo("host-default.test", "/")
        self.assertEqual(header(echo, "host"), ["127.0.0.1:%d" % self.a.port])
        self.assertEqual(header(echo, "x-forwarded-host"), ["host-default.test:%d" % self.port])

    def test_upstream_by_host_name(self):
        echo = self.echo("by-name.test", "/n")
        self.assertEqual(header(echo, "host"), ["localhost:%d" % self.a.port])

    def test_preserve_host_header(self):
        echo = self.echo("host-preserve.test", "/")
        self.assertEqual(header(echo, "host"), ["host-preserve.test:%d" % self.port])

    def test_host_rewrite(self):
        echo = self.echo("host-rewrite.test", "/")
        self.assertEqual(header(echo, "host"), ["rewritten.internal"])

    def test_host_rewrite_header(self):
        echo = self.echo("host-header.test", "/", "-H", "X-Target-Host: chosen.internal")
        self.assertEqual(header(echo, "host"), ["chosen.internal"])
        # Without the header, the upstream's own name.
        echo = self.echo("host-header.test", "/")
        self.assertEqual(header(echo, "host"), ["127.0.0.1:%d" % self.a.port])

    def test_methods_and_empty_bodies_pass_through(self):
        for method in ("DELETE", "OPTIONS", "PATCH", "PUT", "POST"):
            echo = self.echo("rw.test", "/old/m", "-X", method)
            self.assertEqual(echo["method"], method)
        echo = self.echo("rw.test", "/old/m", "-X", "POST", "-H", "Content-Length: 0")
        self.assertEqual(header(echo, "content-length"), ["0"])
        self.assertEqual(echo["body_length"], 0)

    def test_set_and_remove_request_headers(self):
        echo = self.echo("hdr.test", "/", "-H", "X-Remove-Me: secret", "-H", "X-Set: client",
                         "-H", "X-Other: kept", "-A", "curl-agent")
        self.assertEqual(header(echo, "x-set"), ["one"])
        self.assertEqual(header(echo, "user-agent"), ["overridden"])
        self.assertEqual(header(echo, "x-remove-me"), [])
        self.assertEqual(header(echo, "x-other"), ["kept"])
        # Listing X-Forwarded-Host in remove_request_headers keeps it out.
        self.assertEqual(header(echo, "x-forwarded-host"), [])


class ResponseHeaderTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        a = cls.a.url
        return config([
            route("https://plain.test", a),
            route("https://resp.test", a,
                  set_response_headers={"X-Route": "r", "X-Frame-Options": "DENY"}),
            route("https://resp-disable.test", a, set_response_headers={"disable": "true"}),
            route("https://rewrite-resp.test", a, rewrite_response_headers=[
                {"header": "Location", "prefix": "http://internal.example/",
                 "value": "https://rewrite-resp.test/"}]),
        ])

    def get(self, host, path="/", *args):
        return curl("http://%s:%d%s" % (host, self.port, path), *args)

    def test_defaults_on_proxied_responses(self):
        r = self.get("plain.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        self.assertEqual(r.header("x-xss-protection"), "1; mode=block")
        # No certificate is configured (plain HTTP listener): no HSTS.
        self.assertIsNone(r.header("strict-transport-security"))
        self.assertEqual(r.header("x-upstream"), "A")

    def test_defaults_on_local_replies(self):
        r = self.get("nowhere.test")
        self.assertStatus(r, 404)
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")
        self.assertEqual(r.header("x-xss-protection"), "1; mode=block")

    def test_route_headers_override_the_global_ones(self):
        r = self.get("resp.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.header_all("x-frame-options"), ["DENY"])
        self.assertEqual(r.header("x-route"), "r")
        self.assertEqual(r.header("x-xss-protection"), "1; mode=block")

    def test_disable_removes_every_response_header(self):
        r = self.get("resp-disable.test")
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("x-frame-options"))
        self.assertIsNone(r.header("x-xss-protection"))
        self.assertIsNone(r.header("disable"))

    def test_rewrite_response_headers(self):
        r = self.get("rewrite-resp.test", "/location?to=http://internal.example/some/where")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "https://rewrite-resp.test/some/where")
        # Only a prefix match rewrites.
        r = self.get("rewrite-resp.test", "/location?to=http://elsewhere.example/internal.example/")
        self.assertEqual(r.header("location"), "http://elsewhere.example/internal.example/")

    def test_upstream_cannot_set_identity_headers(self):
        r = self.get("plain.test", "/pomerium-headers")
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("x-pomerium-jwt-assertion"))
        self.assertEqual(r.header("x-kept"), "yes")


class GlobalResponseHeaderTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://plain.test", cls.a.url)],
                      set_response_headers={"X-Global": "g"})

    def test_configured_map_replaces_the_defaults(self):
        r = curl("http://plain.test:%d/" % self.port)
        self.assertStatus(r, 200)
        self.assertEqual(r.header("x-global"), "g")
        self.assertIsNone(r.header("x-frame-options"))
        self.assertIsNone(r.header("x-xss-protection"))


class RedirectAndResponseTest(ClassGatehouse):
    @classmethod
    def make_config(cls):
        return config([
            route("https://redir.test", prefix="/https", redirect={"https_redirect": True}),
            route("https://redir.test", prefix="/moved",
                  redirect={"host_redirect": "new.test", "path_redirect": "/landing",
                            "response_code": 302, "strip_query": True}),
            route("https://redir.test", prefix="/pref/",
                  redirect={"prefix_rewrite": "/other/", "response_code": 308}),
            route("https://redir.test", prefix="/port",
                  redirect={"scheme_redirect": "https", "port_redirect": 8443,
                            "response_code": 307}),
            route("https://static.test", response={"status": 503, "body": "down for maintenance"}),
            route("https://ok.test", response={"status": 200, "body": "hello\n"}),
        ])

    def get(self, host, path, *args):
        return curl("http://%s:%d%s" % (host, self.port, path), *args)

    def test_https_redirect_keeps_path_and_query(self):
        r = self.get("redir.test", "/https/x?q=1")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "https://redir.test:%d/https/x?q=1" % self.port)

    def test_host_and_path_redirect_with_strip_query(self):
        r = self.get("redir.test", "/moved/x?q=1")
        self.assertStatus(r, 302)
        self.assertEqual(r.header("location"), "http://new.test/landing")

    def test_prefix_rewrite_redirect(self):
        r = self.get("redir.test", "/pref/a/b?x=1")
        self.assertStatus(r, 308)
        self.assertEqual(r.header("location"), "http://redir.test:%d/other/a/b?x=1" % self.port)

    def test_scheme_and_port_redirect(self):
        r = self.get("redir.test", "/port/p")
        self.assertStatus(r, 307)
        self.assertEqual(r.header("location"), "https://redir.test:8443/port/p")

    def test_https_redirect_drops_the_default_http_port(self):
        r = curl("http://127.0.0.1:%d/https/x" % self.port, "-H", "Host: redir.test:80")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("location"), "https://redir.test/https/x")

    def test_redirect_carries_response_headers(self):
        r = self.get("redir.test", "/https")
        self.assertEqual(r.header("x-frame-options"), "SAMEORIGIN")

    def test_direct_response(self):
        r = self.get("static.test", "/anything")
        self.assertStatus(r, 503)
        self.assertEqual(r.text, "down for maintenance")
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        r = self.get("ok.test", "/")
        self.assertStatus(r, 200)
        self.assertEqual(r.text, "hello\n")

    def test_direct_response_to_head_has_no_body(self):
        # HEAD then GET on one connection: a body after the HEAD answer
        # would be read as the start of the second response.
        raw = Raw(self.port)
        raw.send(b"HEAD / HTTP/1.1\r\nHost: ok.test\r\n\r\n"
                 b"GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n")
        head = raw.read_response(head_request=True)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("content-length"), "6")
        get = raw.read_response()
        self.assertEqual(get.status, 200)
        self.assertEqual(get.body, b"hello\n")
        raw.close()


class ErrorDetailsTest(ClassGatehouse):
    @classmethod
    def setUpClass(cls):
        cls.dead, cls.dead_port = dead_port()
        cls.addClassCleanup(cls.dead.close)
        super().setUpClass()

    @classmethod
    def make_config(cls):
        dead = "http://127.0.0.1:%d" % cls.dead_port
        return config([route("https://details.test", dead, show_error_details=True),
                       route("https://quiet.test", dead)])

    def test_details_only_when_the_route_asks(self):
        r = curl("http://details.test:%d/" % self.port, "-H", "Accept: application/json")
        self.assertStatus(r, 502)
        self.assertIn("connect", r.json().get("details", ""))
        r = curl("http://details.test:%d/" % self.port)
        self.assertIn("connect", r.text)
        r = curl("http://quiet.test:%d/" % self.port, "-H", "Accept: application/json")
        self.assertStatus(r, 502)
        self.assertNotIn("details", r.json())
        self.assertNotIn(str(self.dead_port), curl("http://quiet.test:%d/" % self.port).text)


class BuiltInEndpointTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        # A catch-all route must not shadow the built-in endpoints.
        return config([route("https://*.test", cls.a.url), route("https://app.test", cls.a.url)])

    def get(self, host, path, *args):
        return curl("http://%s:%d%s" % (host, self.port, path), *args)

    def test_ping_and_healthz(self):
        before = len(self.a.requests)
        for path in ("/ping", "/healthz"):
            for host in ("app.test", "unrouted.example"):
                r = self.get(host, path)
                self.assertStatus(r, 200)
                self.assertEqual(r.text, "OK")
        self.assertEqual(len(self.a.requests), before)

    def test_ping_refuses_other_methods(self):
        r = self.get("app.test", "/ping", "-X", "POST", "-d", "x")
        self.assertStatus(r, 405)

    def test_well_known_pomerium(self):
        r = self.get("app.test", "/.well-known/pomerium")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        doc = r.json()
        self.assertEqual(doc["issuer"], "https://app.test/")
        self.assertEqual(doc["jwks_uri"], "https://app.test/.well-known/pomerium/jwks.json")
        self.assertTrue(doc["authentication_callback_endpoint"].endswith("/oauth2/callback"))
        self.assertIn("frontchannel_logout_uri", doc)

    def test_jwks(self):
        r = self.get("other.test", "/.well-known/pomerium/jwks.json")
        self.assertStatus(r, 200)
        self.assertIn("keys", r.json())
        self.assertIsInstance(r.json()["keys"], list)

    def test_reserved_paths_are_not_forwarded(self):
        before = len(self.a.requests)
        r = self.get("app.test", "/.pomerium/anything")
        self.assertStatus(r, 404)
        r = self.get("app.test", "/.well-known/pomerium/other")
        self.assertStatus(r, 404)
        self.assertEqual(len(self.a.requests), before)
        # A path that only looks similar is forwarded.
        r = self.get("app.test", "/.pomeriumx")
        self.assertStatus(r, 200)


if __name__ == "__main__":
    unittest.main()

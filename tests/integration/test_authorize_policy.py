"""Authorization end to end: route policies in Pomerium Policy Language and
the legacy keys, decided for real users signed in through the test IdP
(alice@example.com in admins and users, bob@corp.example in users, carol
with the claim department: eng, dave without groups), the responses to a
request without a session (302, 401 JSON, 401 gRPC), and invalid policies
in the configuration.
"""

import json
import signal
import subprocess
import time
import unittest

from harness import (AuthorizeTestCase, Gatehouse, GatehouseTestCase, config, curl,
                     gatehouse_bin, h2_request, route)

ALL = ("alice", "bob", "carol", "dave")


def allow(*criteria, op="or"):
    return {"allow": {op: list(criteria)}}


class PolicyTest(AuthorizeTestCase):
    # host -> (route keys, users allowed; everyone else is refused with 403)
    CASES = {
        "p-email": ({"policy": allow({"email": {"is": "alice@example.com"}})}, {"alice"}),
        "p-email-bare": ({"policy": allow({"email": "bob@corp.example"})}, {"bob"}),
        "p-ends-with": ({"policy": allow({"email": {"ends_with": "@corp.example"}})}, {"bob"}),
        "p-domain": ({"policy": allow({"domain": {"is": "example.com"}})},
                     {"alice", "carol", "dave"}),
        "p-groups": ({"policy": allow({"groups": {"has": "admins"}})}, {"alice"}),
        "p-groups-users": ({"policy": allow({"groups": "users"})}, {"alice", "bob"}),
        "p-claim": ({"policy": allow({"claim/department": "eng"})}, {"carol"}),
        "p-claim-groups": ({"policy": allow({"claim/groups": {"has": "users"}})},
                           {"alice", "bob"}),
        "p-user": ({"policy": allow({"user": {"is": "dave"}})}, {"dave"}),
        "p-and": ({"policy": allow({"domain": {"is": "example.com"}},
                                   {"groups": {"has": "admins"}}, op="and")}, {"alice"}),
        # `not` is "none of them".
        "p-not": ({"policy": allow({"email": {"is": "alice@example.com"}},
                                   {"email": {"is": "bob@corp.example"}}, op="not")},
                  {"carol", "dave"}),
        # `nor` is "not all of them".
        "p-nor": ({"policy": allow({"groups": {"has": "admins"}},
                                   {"domain": {"is": "example.com"}}, op="nor")},
                  {"bob", "carol", "dave"}),
        # Several operators in one rule are OR-ed.
        "p-multi": ({"policy": {"allow": {
            "and": [{"domain": {"is": "example.com"}}, {"groups": {"has": "admins"}}],
            "or": [{"email": {"is": "bob@corp.example"}}]}}}, {"alice", "bob"}),
        # A list of rules; deny wins over allow.
        "p-deny": ({"policy": [{"allow": {"or": [{"authenticated_user": True}]}},
                               {"deny": {"or": [{"email": {"in": ["bob@corp.example",
                                                                  "dave@example.com"]}}]}}]},
                   {"alice", "carol"}),
        "p-in": ({"policy": allow({"email": {"in": ["carol@example.com", "dave@example.com"]}})},
                 {"carol", "dave"}),
        "p-reject": ({"policy": allow({"reject": True})}, set()),
        "p-source-ip": ({"policy": allow({"authenticated_user": True},
                                         {"source_ip": ["127.0.0.0/8", "::1/128"]}, op="and")},
                        set(ALL)),
        "p-source-ip-other": ({"policy": allow({"source_ip": "10.0.0.0/8"})}, set()),
        "p-date": ({"policy": allow({"authenticated_user": True},
                                    {"date": {"after": "2000-01-01T00:00:00Z"}}, op="and")},
                   set(ALL)),
        "p-date-past": ({"policy": allow({"date": {"before": "2000-01-01T00:00:00Z"}})}, set()),
        "p-day": ({"policy": allow({"authenticated_user": True},
                                   {"day_of_week": "mon-sun"}, op="and")}, set(ALL)),
        # Legacy keys.
        "l-users": ({"allowed_users": ["bob@corp.example", "carol"]}, {"bob", "carol"}),
        "l-domains": ({"allowed_domains": ["corp.example"]}, {"bob"}),
        "l-claims": ({"allowed_idp_claims": {"department": ["eng", "support"]}},
                     {"bob", "carol"}),
        "l-claim-groups": ({"allowed_idp_claims": {"groups": ["admins"]}}, {"alice"}),
        "l-any": ({"allow_any_authenticated_user": True}, set(ALL)),
        # Legacy keys and a policy: either allows, a deny wins.
        "l-mixed": ({"allowed_users": ["bob@corp.example"],
                     "policy": allow({"email": {"is": "alice@example.com"}})}, {"alice", "bob"}),
        "l-deny": ({"allowed_domains": ["example.com"],
                    "policy": {"deny": {"or": [{"email": {"is": "alice@example.com"}}]}}},
                   {"carol", "dave"}),
        # Only GET and HEAD; /admin only for admins.
        "p-method-path": ({"policy": [
            {"allow": {"and": [{"authenticated_user": True},
                               {"http_method": {"in": ["GET", "HEAD"]}}]}},
            {"deny": {"and": [{"http_path": {"starts_with": "/admin"}},
                              {"groups": {"exclude": "admins"}}]}}]}, set(ALL)),
    }
    route_hosts = tuple(CASES) + ("l-public", "l-public-deny")

    @classmethod
    def extra_routes(cls):
        routes = [cls.route(host, **keys) for host, (keys, _) in cls.CASES.items()]
        routes.append(cls.route("l-public", allow_public_unauthenticated_access=True))
        return routes

    def assertGrpcRefusal(self, r, grpc_status):
        # As Envoy answers a gRPC request locally: a trailers-only response,
        # HTTP 200 with the gRPC status in the headers, no body.
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertTrue(r.header("Content-Type").startswith("application/grpc"), r.headers)
        self.assertEqual(r.header("grpc-status"), grpc_status, r.headers)
        self.assertTrue(r.header("grpc-message"), r.headers)
        self.assertIsNone(r.header("X-Upstream"))
        self.assertIsNone(r.header("Location"))
        self.assertEqual(r.body, b"")

    def test_each_user_gets_what_the_policy_says(self):
        for user in ALL:
            self.session(user)
        before = len(self.upstream.requests)
        forwarded = 0
        for host, (keys, allowed) in self.CASES.items():
            for user in ALL:
                with self.subTest(host=host, user=user):
                    r = self.as_user(user, host, "/page")
                    want = 200 if user in allowed else 403
                    self.assertEqual(r.status, want, "%s as %s (%s): %s" % (
                        host, user, json.dumps(keys), r.text[:300]))
                    if want == 200:
                        forwarded += 1
                        self.assertEqual(r.header("X-Upstream"), "app")
                    else:
                        self.assertIsNone(r.header("X-Upstream"))
                        self.assertIn("text/html", r.header("Content-Type") or "")
        # Denied requests never reached the upstream.
        self.assertEqual(len(self.upstream.requests) - before, forwarded)

    def test_denied_json_and_grpc_clients(self):
        r = self.as_user("bob", "p-email", "/api", accept="application/json")
        self.assertEqual(r.status, 403, r.text)
        self.assertIn("application/json", r.header("Content-Type"))
        body = r.json()
        self.assertTrue(body.get("error"), body)
        self.assertTrue(body.get("request_id"), body)
        r = self.as_user("bob", "p-email", "/pkg.Service/Method", method="POST",
                         headers={"Content-Type": "application/grpc", "TE": "trailers"},
                         data=b"\0\0\0\0\0")
        self.assertGrpcRefusal(r, "7")  # PERMISSION_DENIED

    def test_method_and_path(self):
        self.assertEqual(self.as_user("bob", "p-method-path", "/x").status, 200)
        self.assertEqual(self.as_user("bob", "p-method-path", "/x", method="HEAD").status, 200)
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                r = self.as_user("alice", "p-method-path", "/x", method=method, data=b"{}")
                self.assertEqual(r.status, 403, r.text)
        self.assertEqual(self.as_user("alice", "p-method-path", "/admin/users").status, 200)
        for path in ("/admin", "/admin/users", "/x/../admin/users", "//admin/users"):
            with self.subTest(path=path):
                r = self.as_user("bob", "p-method-path", path)
                self.assertEqual(r.status, 403, "%s: %s" % (path, r.text[:200]))
        # A method override header does not change the method the policy sees.
        r = self.as_user("alice", "p-method-path", "/x", method="POST", data=b"{}",
                         headers={"X-HTTP-Method-Override": "GET"})
        self.assertEqual(r.status, 403, r.text[:200])
        # The path is matched, not the query.
        self.assertEqual(self.as_user("bob", "p-method-path", "/x?/admin").status, 200)

    def test_http2_requests_are_decided_alike(self):
        cookie = "_pomerium=" + self.session("bob")
        ca = self.site.pki.ca_cert
        for host, want in (("p-email", 403), ("p-email-bare", 200), ("p-groups-users", 200)):
            with self.subTest(host=host):
                r = curl(self.host_url(host, "/h2"), "--http2", "-H", "Cookie: " + cookie,
                         "-H", "Accept: application/json", cacert=ca)
                self.assertEqual(r.http_version, "2", r.info)
                self.assertEqual(r.status, want, r.body[:300])
        r = curl(self.host_url("p-email", "/h2"), "--http2", "-H", "Accept: application/json",
                 cacert=ca)
        self.assertEqual(r.status, 401, r.body[:300])
        self.assertTrue(r.json()["request_id"])
        # gRPC over HTTP/2 without a session: UNAUTHENTICATED in the headers.
        r = h2_request(self.port, "p-email.localhost:%d" % self.port, "/pkg.Service/Method",
                       method="POST", body=b"\0\0\0\0\0",
                       headers=[("content-type", "application/grpc"), ("te", "trailers")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("grpc-status"), "16")

    def test_forwarded_for_does_not_change_the_source_ip(self):
        # xff_num_trusted_hops is 0: the client's X-Forwarded-For is not its address.
        for xff in ("10.1.2.3", "10.1.2.3, 127.0.0.1"):
            with self.subTest(xff=xff):
                r = self.as_user("alice", "p-source-ip-other", "/",
                                 headers={"X-Forwarded-For": xff, "X-Real-IP": "10.1.2.3"})
                self.assertEqual(r.status, 403, r.text[:200])

    def test_session_from_a_header_is_decided_by_the_same_policy(self):
        token = self.session("bob")
        for name, value in (("Authorization", "Pomerium " + token),
                            ("X-Pomerium-Authorization", token)):
            with self.subTest(header=name):
                r = self.as_user(None, "p-email", "/cli", headers={name: value},
                                 accept="application/json")
                self.assertEqual(r.status, 403, r.text[:200])
                r = self.as_user(None, "p-email-bare", "/cli", headers={name: value},
                                 accept="application/json")
                self.assertEqual(r.status, 200, r.text[:200])

    def test_without_a_session(self):
        before = len(self.upstream.requests)
        for host in ("p-email", "p-deny", "l-users", "l-any", "p-source-ip", "p-not"):
            with self.subTest(host=host, client="browser"):
                r = self.as_user(None, host, "/x?y=1")
                self.assertEqual(r.status, 302, r.text[:300])
                self.assertTrue(r.header("Location").startswith(
                    self.url("authenticate", "/.pomerium/sign_in?")), r.header("Location"))
            with self.subTest(host=host, client="json"):
                r = self.as_user(None, host, "/api", accept="application/json")
                self.assertEqual(r.status, 401, r.text[:300])
                self.assertIsNone(r.header("Location"))
                self.assertIn("application/json", r.header("Content-Type"))
                body = r.json()
                self.assertTrue(body.get("error"), body)
                self.assertTrue(body.get("request_id"), body)
            with self.subTest(host=host, client="grpc"):
                r = self.as_user(None, host, "/pkg.Service/Method", method="POST",
                                 headers={"Content-Type": "application/grpc", "TE": "trailers"},
                                 data=b"\0\0\0\0\0")
                self.assertGrpcRefusal(r, "16")  # UNAUTHENTICATED
        # A policy that never looks at the user: no sign-in, just 403.
        r = self.as_user(None, "p-source-ip-other", "/x")
        self.assertEqual(r.status, 403, r.text[:300])
        # The public route needs no session.
        r = self.as_user(None, "l-public", "/x")
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(len(self.upstream.requests), before + 1)

    def test_a_denied_browser_login_ends_on_403(self):
        # The whole sign-in through a route that refuses the user: back on
        # the route host with the session, and then 403.
        browser = self.browser()
        r = browser.login(self.host_url("p-groups", "/start"), "bob", "bob-password")
        self.assertEqual(r.status, 403, r.hops)
        self.assertEqual(r.url, self.host_url("p-groups", "/start"))
        self.assertIsNotNone(browser.cookie("_pomerium", "p-groups.localhost"))
        r = browser.get(self.host_url("p-groups-users", "/ok"), follow=True)
        self.assertEqual(r.status, 200, r.hops)

    def test_sign_out_ends_the_session_on_every_route(self):
        browser = self.browser()
        r = browser.login(self.host_url("p-domain", "/in"), "carol", "carol-password")
        self.assertEqual(r.status, 200, r.hops)
        old = browser.cookie("_pomerium", "p-domain.localhost")
        self.assertEqual(self.as_user(None, "p-claim", "/", cookies={"_pomerium": old}).status,
                         200)
        r = browser.get(self.host_url("p-domain", "/.pomerium/sign_out"))
        self.assertEqual(r.status, 302, r.text)
        browser.logout(r.header("Location"))
        deadline = time.monotonic() + 1.0
        while True:
            statuses = [self.as_user(None, host, "/after", accept="application/json",
                                     cookies={"_pomerium": old}).status
                        for host in ("p-domain", "p-claim", "l-any")]
            if statuses == [401, 401, 401] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(statuses, [401, 401, 401])
        r = self.as_user(None, "p-claim", "/after", cookies={"_pomerium": old})
        self.assertEqual(r.status, 302, r.text[:300])


class InvalidPolicyTest(GatehouseTestCase):
    """A policy Gatehouse cannot compile is a configuration error that names
    the route and the criterion; a reload with one keeps the old config."""

    BAD = {"allow": {"and": [{"email": {"is": "a@example.com"}}, {"emial": "x"}]}}

    def bad_config(self, upstream):
        return config([route("https://pub.test", upstream.url),
                       {"from": "https://guarded.test", "to": upstream.url,
                        "policy": self.BAD}])

    def test_validate_names_the_route_and_the_criterion(self):
        up = self.upstream()
        g = Gatehouse(self.bad_config(up))
        self.addCleanup(g.cleanup)
        r = subprocess.run([gatehouse_bin(), "validate", "--config", g.config_path],
                           capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        self.assertIn("routes[1]", out)
        self.assertIn("emial", out)

    def test_other_invalid_policies(self):
        up = self.upstream()
        for policy, words in (
                ({"allow": {"xor": [{"accept": True}]}}, ["xor"]),
                ({"allow": {"or": [{"email": {"is": "a", "matches": "b"}}]}}, ["matches"]),
                ({"allow": {"or": [{"source_ip": "not-an-ip"}]}}, ["source_ip", "not-an-ip"]),
                ({"permit": {"or": [{"accept": True}]}}, ["permit"]),
                ({"allow": {"or": [{"email": "a", "domain": "b"}]}}, ["email"])):
            with self.subTest(policy=policy):
                g = Gatehouse(config([{"from": "https://guarded.test", "to": up.url,
                                       "policy": policy}]))
                self.addCleanup(g.cleanup)
                r = subprocess.run([gatehouse_bin(), "validate", "--config", g.config_path],
                                   capture_output=True, text=True, timeout=30)
                out = r.stdout + r.stderr
                self.assertEqual(r.returncode, 1, out)
                self.assertIn("routes[0]", out)
                for w in words:
                    self.assertIn(w, out)

    def test_startup_fails(self):
        up = self.upstream()
        g = Gatehouse(self.bad_config(up))
        self.addCleanup(g.cleanup)
        g.start(wait=False)
        rc = g.wait_exit()
        self.assertNotEqual(rc, 0)
        text = g.log_text() + "\n".join(g.stderr_lines)
        self.assertIn("routes[1]", text)
        self.assertIn("emial", text)

    def test_reload_keeps_the_old_config(self):
        up = self.upstream()
        g = self.start_gatehouse(config([route("https://pub.test", up.url)]))
        mark = g.mark()
        g.write_config(self.bad_config(up))
        line = g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertIn("routes[1]", line["error"])
        self.assertIn("emial", line["error"])
        self.assertStatus(curl("http://pub.test:%d/" % g.port), 200)
        self.assertStatus(curl("http://guarded.test:%d/" % g.port), 404)
        # The same with SIGHUP.
        mark = g.mark()
        g.signal(signal.SIGHUP)
        g.wait_for("config reload failed, keeping the previous configuration", after=mark)
        self.assertStatus(curl("http://pub.test:%d/" % g.port), 200)


if __name__ == "__main__":
    unittest.main()

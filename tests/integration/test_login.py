"""Sign-in end to end: Gatehouse (authenticate and proxy in one process)
against the test OpenID Connect provider, with a browserless client that
follows every hop, and once with headless Chromium.

The flow (Pomerium's stateful login): route host -> authenticate
/.pomerium/sign_in -> IdP /auth -> sign-in form -> authenticate
/oauth2/callback -> route host /.pomerium/callback/ -> the original URL.
"""

import time
import unittest
import urllib.parse

from harness import (LoginTestCase, browser_login, free_port, header, jwt_parts, set_cookie,
                     set_cookie_names, url_query)


class LoginFlowTest(LoginTestCase):
    # Where sign-out ends: a page on the public route (the upstream).
    site_options = {"signout_redirect_url": "https://public.localhost:PORT/bye"}
    extra_logout_uris = ("https://public.localhost:PORT/bye",)

    def assertNoIdpHop(self, r):
        idp_hops = [h for h in r.hops if h.url.startswith(self.idp.issuer)]
        self.assertEqual(idp_hops, [], r.hops)

    # -- before login ------------------------------------------------------
    def test_browser_without_session_is_sent_to_sign_in(self):
        before = len(self.upstream.requests)
        r = self.browser().get(self.url("app", "/x?y=1"))
        self.assertEqual(r.status, 302, r.text)
        location = r.header("Location")
        self.assertTrue(location.startswith(self.url("authenticate", "/.pomerium/sign_in?")),
                        location)
        q = url_query(location)
        self.assertEqual(q["pomerium_redirect_uri"], self.url("app", "/x?y=1"))
        for name in ("pomerium_idp_id", "pomerium_issued", "pomerium_expiry",
                     "pomerium_signature"):
            self.assertTrue(q.get(name), (name, location))
        lifetime = int(q["pomerium_expiry"]) - int(q["pomerium_issued"])
        self.assertTrue(0 < lifetime <= 300, lifetime)
        self.assertLessEqual(abs(int(q["pomerium_issued"]) - time.time()), 5)
        self.assertEqual(len(self.upstream.requests), before)

    def test_api_clients_get_401(self):
        before = len(self.upstream.requests)
        for accept in ("application/json", "text/plain", "application/json, text/html;q=0.5"):
            with self.subTest(accept=accept):
                r = self.browser(headers={"Accept": accept}).get(self.url("app", "/api"))
                self.assertEqual(r.status, 401, r.text)
                self.assertIsNone(r.header("Location"))
        # A JSON client gets a JSON body.
        r = self.api_client().get(self.url("app", "/api"))
        self.assertEqual(r.status, 401)
        self.assertIn("application/json", r.header("Content-Type"))
        self.assertIn("error", r.json())
        self.assertEqual(len(self.upstream.requests), before)

    def test_a_session_header_without_a_session_is_401(self):
        # A client that sends its session in a header is a program: when
        # the session is no good it gets 401, not a login page, whatever
        # its Accept says (Pomerium's ShouldRedirect).
        browser, _ = self.signed_in()
        stale = browser.cookie("_pomerium", "app.localhost")
        stale = stale[:-3] + ("A" if stale[-3] != "A" else "B") + stale[-2:]
        before = len(self.upstream.requests)
        for name, value in (("Authorization", "Pomerium not-a-jwt"),
                            ("Authorization", "Pomerium " + stale),
                            ("Authorization", "Bearer Pomerium-" + stale),
                            ("X-Pomerium-Authorization", stale)):
            for accept in (None, "*/*", "text/html"):
                with self.subTest(header=name, value=value[:20], accept=accept):
                    headers = {name: value}
                    if accept:
                        headers["Accept"] = accept
                    r = self.browser().get(self.url("app", "/api"), headers=headers)
                    self.assertEqual(r.status, 401, r.text)
                    self.assertIsNone(r.header("Location"))
        self.assertEqual(len(self.upstream.requests), before)

    def test_xhr_never_reaches_the_idp(self):
        auths = self.idp.stats()["requests"].get("/auth", 0)
        r = self.browser().get(self.url("app", "/xhr"), follow=True,
                               headers={"X-Requested-With": "XMLHttpRequest"})
        self.assertEqual(r.status, 401, r.hops)
        self.assertEqual(self.idp.stats()["requests"].get("/auth", 0), auths)

    # -- the login ---------------------------------------------------------
    def test_full_login_hop_by_hop(self):
        browser = self.browser()
        start = self.url("app", "/x?y=1")
        token_requests = len(self.idp.stats()["token_requests"])
        r = browser.login(start, "alice", "alice-password")
        self.assertEqual(r.status, 200, "%r %s" % (r.hops, r.text[:500]))
        hops = r.hops
        urls = [h.url.split("?")[0] for h in hops]

        # 1. The route host sends the browser to sign_in.
        self.assertEqual((hops[0].url, hops[0].status), (start, 302))
        self.assertEqual(urls[1], self.url("authenticate", "/.pomerium/sign_in"))

        # 2. sign_in sends it to the IdP with state, nonce and PKCE, and
        #    sets the CSRF and PKCE cookies.
        sign_in = hops[1]
        self.assertEqual(sign_in.status, 302)
        self.assertEqual(sign_in.location.split("?")[0], self.idp.url("/auth"))
        auth = url_query(sign_in.location)
        self.assertEqual(auth["response_type"], "code")
        self.assertEqual(auth["client_id"], "gatehouse")
        self.assertEqual(auth["redirect_uri"], self.url("authenticate", "/oauth2/callback"))
        self.assertIn("openid", auth["scope"].split())
        self.assertTrue(auth["state"] and auth["nonce"])
        self.assertEqual(auth["code_challenge_method"], "S256")
        self.assertEqual(len(auth["code_challenge"]), 43)
        names = set_cookie_names(sign_in.response)
        self.assertIn("_pomerium_csrf", names)
        self.assertTrue(any(n.startswith("_pomerium_pkce") for n in names), names)
        csrf = set_cookie(sign_in.response, "_pomerium_csrf")
        self.assertIn("secure", csrf)
        self.assertIn("httponly", csrf)

        # 3. The IdP comes back to /oauth2/callback with code, state and iss.
        callback_index = urls.index(self.url("authenticate", "/oauth2/callback"))
        callback = hops[callback_index]
        q = url_query(callback.url)
        self.assertEqual(q["state"], auth["state"])
        self.assertEqual(q["iss"], self.idp.issuer)
        self.assertTrue(q["code"])

        # 4. The callback sets the authenticate cookie and hands the session
        #    to the route host's callback in a signed URL.
        self.assertEqual(callback.status, 302, callback.response.text)
        self.assertEqual(callback.location.split("?")[0], self.url("app", "/.pomerium/callback/"))
        handoff = url_query(callback.location)
        self.assertTrue(handoff["pomerium_session_encrypted"])
        self.assertEqual(handoff["pomerium_redirect_uri"], start)
        self.assertTrue(handoff["pomerium_signature"])
        authn = set_cookie(callback.response, "_pomerium_authenticate")
        self.assertIsNotNone(authn, callback.response.headers)
        self.assertIn("secure", authn)
        self.assertIn("httponly", authn)
        # The code was redeemed with the PKCE verifier.
        redeemed = self.idp.stats()["token_requests"][token_requests:]
        self.assertEqual([t["grant_type"] for t in redeemed], ["authorization_code"])
        self.assertEqual(redeemed[0]["client_auth"], "basic")
        self.assertEqual(len(redeemed[0]["code_verifier"] or ""), 43)

        # 5. The route host's callback sets the session cookie and returns
        #    to the original URL, query included.
        proxy_cb = hops[callback_index + 1]
        self.assertEqual(proxy_cb.url, callback.location)
        self.assertEqual((proxy_cb.status, proxy_cb.location), (302, start))
        cookie = set_cookie(proxy_cb.response, "_pomerium")
        self.assertIsNotNone(cookie, proxy_cb.response.headers)
        self.assertIn("secure", cookie)
        self.assertIn("httponly", cookie)
        self.assertEqual(cookie.get("path"), "/")
        self.assertNotIn("domain", cookie)  # host-only without cookie_domain
        if "max-age" in cookie:
            self.assertAlmostEqual(int(cookie["max-age"]), 14 * 3600, delta=5)
        else:
            from email.utils import parsedate_to_datetime
            expires = parsedate_to_datetime(cookie["expires"]).timestamp()
            self.assertAlmostEqual(expires - time.time(), 14 * 3600, delta=60)
        # The cookie is the session handle: HS256, no exp, the user as sub.
        head, claims = jwt_parts(cookie["value"])
        self.assertEqual(head["alg"], "HS256")
        self.assertEqual(claims["sub"], "alice")
        self.assertTrue(claims["jti"])
        self.assertNotIn("exp", claims)

        # 6. The upstream got the request, without the session cookie or a
        #    Pomerium authorization.
        self.assertEqual(hops[-1].url, start)
        echo = r.json()
        self.assertEqual(echo["path"], "/x?y=1")
        for value in header(echo, "Cookie"):
            self.assertNotIn("_pomerium", value)
        for value in header(echo, "Authorization"):
            self.assertNotIn("Pomerium", value)

        # A second request is served at once, with no IdP hop.
        auths = self.idp.stats()["requests"].get("/auth", 0)
        r = browser.get(self.url("app", "/again"))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json()["path"], "/again")
        self.assertEqual(self.idp.stats()["requests"].get("/auth", 0), auths)

    def test_second_route_host_skips_the_idp(self):
        browser, _ = self.signed_in(self.url("app", "/first"))
        auths = self.idp.stats()["requests"].get("/auth", 0)
        r = browser.get(self.url("other", "/second?z=2"), follow=True)
        self.assertEqual(r.status, 200, r.hops)
        self.assertNoIdpHop(r)
        self.assertEqual([h.url.split("?")[0] for h in r.hops], [
            self.url("other", "/second"), self.url("authenticate", "/.pomerium/sign_in"),
            self.url("other", "/.pomerium/callback/"), self.url("other", "/second")])
        self.assertEqual(r.json()["path"], "/second?z=2")
        self.assertEqual(self.idp.stats()["requests"].get("/auth", 0), auths)
        self.assertIsNotNone(browser.cookie("_pomerium", "other.localhost"))

    def test_each_login_is_a_new_session(self):
        _, _ = self.signed_in()
        first, _ = self.signed_in()
        second, _ = self.signed_in()
        a = jwt_parts(first.cookie("_pomerium", "app.localhost"))[1]
        b = jwt_parts(second.cookie("_pomerium", "app.localhost"))[1]
        self.assertNotEqual(a["jti"], b["jti"])

    def test_depends_on_signs_in_to_both_hosts(self):
        browser, r = self.signed_in(self.url("a", "/start"))
        urls = [h.url.split("?")[0] for h in r.hops]
        self.assertIn(self.url("a", "/.pomerium/callback/"), urls)
        self.assertIn(self.url("b", "/.pomerium/callback/"), urls)
        self.assertEqual(r.hops[-1].url, self.url("a", "/start"))
        self.assertIsNotNone(browser.cookie("_pomerium", "a.localhost"))
        self.assertIsNotNone(browser.cookie("_pomerium", "b.localhost"))
        r = browser.get(self.url("b", "/direct"))
        self.assertEqual(r.status, 200, r.text)

    # -- programmatic login --------------------------------------------------
    def programmatic_url(self, target):
        return self.url("app", "/.pomerium/api/v1/login?pomerium_redirect_uri=" +
                        urllib.parse.quote(target, safe=""))

    def test_programmatic_login(self):
        cli_port = free_port()
        target = "http://localhost:%d/" % cli_port
        r = self.api_client().get(self.programmatic_url(target))
        self.assertEqual(r.status, 200, r.text)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"), r.headers)
        sign_in = r.text.strip()
        self.assertTrue(sign_in.startswith(self.url("authenticate", "/.pomerium/sign_in?")),
                        sign_in)
        q = url_query(sign_in)
        self.assertEqual(q["pomerium_redirect_uri"], target)
        self.assertEqual(q.get("pomerium_programmatic"), "true")
        self.assertTrue(q["pomerium_signature"])

        browser = self.browser()
        r = browser.login(sign_in, "alice", "alice-password", stop_before=target)
        last = r.hops[-1]
        self.assertTrue(last.location and last.location.startswith(target + "?"), r.hops)
        token = url_query(last.location)["pomerium_jwt"]
        self.assertEqual(jwt_parts(token)[1]["sub"], "alice")

        # The CLI then sends the JWT; no cookie is involved.
        for name, value in (("Authorization", "Pomerium " + token),
                            ("Authorization", "Bearer Pomerium-" + token),
                            ("X-Pomerium-Authorization", token)):
            with self.subTest(header=name, value=value.split(" ")[0]):
                r = self.api_client().get(self.url("app", "/cli"), headers={name: value})
                self.assertEqual(r.status, 200, r.text)
                echo = r.json()
                self.assertEqual(echo["path"], "/cli")
                for v in header(echo, "Authorization") + header(echo, "X-Pomerium-Authorization"):
                    self.assertNotIn(token[:40], v)
        # One byte changed: no session.
        broken = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        r = self.api_client().get(self.url("app", "/cli"),
                                  headers={"Authorization": "Pomerium " + broken})
        self.assertEqual(r.status, 401, r.text)

    def test_programmatic_redirect_targets_are_checked(self):
        client = self.api_client()
        for target in ("//evil.example", "/\\evil.example", "https://ok@evil.example",
                       "https://evil.example/", "http://localhost.evil.example/",
                       "http://evil.example\\@localhost/", "javascript:alert(1)", ""):
            with self.subTest(target=target):
                r = client.get(self.programmatic_url(target))
                self.assertEqual(r.status, 400, r.text)
                self.assertNotIn("sign_in", r.text)
        r = client.get(self.url("app", "/.pomerium/api/v1/login"))
        self.assertEqual(r.status, 400, r.text)

    # -- sign-out ------------------------------------------------------------
    def test_sign_out(self):
        browser, _ = self.signed_in()
        old = browser.cookie("_pomerium", "app.localhost")
        r = browser.get(self.url("app", "/.pomerium/sign_out"))
        self.assertEqual(r.status, 302, r.text)
        cleared = set_cookie(r, "_pomerium")
        self.assertIsNotNone(cleared, r.headers)
        self.assertTrue(cleared["value"] == "" or cleared.get("max-age") in ("0", "-1"), cleared)
        location = r.header("Location")
        self.assertTrue(location.startswith(self.url("authenticate", "/.pomerium/sign_out?")),
                        location)
        self.assertTrue(url_query(location).get("pomerium_signature"), location)

        # authenticate ends the session and sends the browser to the IdP's
        # end-session page, which comes back to signout_redirect_url.
        r = browser.get(location)
        self.assertEqual(r.status, 302, r.text)
        authn = set_cookie(r, "_pomerium_authenticate")
        self.assertIsNotNone(authn, r.headers)
        end_session = r.header("Location")
        self.assertTrue(end_session.startswith(self.idp.url("/session/end")), end_session)
        self.assertEqual(url_query(end_session).get("post_logout_redirect_uri"),
                         self.url("public", "/bye"))
        done = browser.logout(end_session)
        self.assertEqual(done.status, 200, done.hops)
        self.assertEqual(done.url.split("?")[0], self.url("public", "/bye"))

        # The old cookie is no session any more (browser: login, API: 401).
        deadline = time.monotonic() + 1.5
        while True:
            r = self.api_client().get(self.url("app", "/after"),
                                      cookies={"_pomerium": old})
            if r.status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 401, r.text)
        r = self.browser().get(self.url("app", "/after"), cookies={"_pomerium": old})
        self.assertEqual(r.status, 302, r.text)
        self.assertIn("/.pomerium/sign_in?", r.header("Location"))

        # Signing in again works, with the IdP's form again, and makes a new
        # session.
        r = browser.login(self.url("app", "/again"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        self.assertTrue(any(h.method == "POST" for h in r.hops), r.hops)
        new = browser.cookie("_pomerium", "app.localhost")
        self.assertNotEqual(new, old)
        self.assertNotEqual(jwt_parts(new)[1]["jti"], jwt_parts(old)[1]["jti"])

    def test_unsigned_sign_out_asks_and_ignores_the_redirect(self):
        browser, _ = self.signed_in()
        r = browser.get(self.url("authenticate", "/.pomerium/sign_out?pomerium_redirect_uri=" +
                                 urllib.parse.quote("https://evil.example/", safe="")))
        self.assertEqual(r.status, 200, r.text)
        self.assertIsNone(r.header("Location"))
        self.assertNotIn("evil.example", r.text)
        forms = browser.forms(r)
        self.assertEqual(len(forms), 1, r.text)
        form = forms[0]
        self.assertEqual(form.method, "post")
        self.assertIn("csrf", form.fields)

        # A POST without the form's token changes nothing.
        r = self.browser().post(self.url("authenticate", "/.pomerium/sign_out"),
                                data={"csrf": "x" * 43})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(browser.get(self.url("app", "/still")).status, 200)

        # The form signs out and goes to signout_redirect_url (through the
        # IdP's end-session page), never to the link's target.
        r = browser.submit(form, follow=False)
        self.assertEqual(r.status, 302, r.text)
        location = r.header("Location")
        self.assertNotIn("evil.example", location)
        self.assertTrue(location.startswith(self.idp.url("/session/end")) or
                        location == self.url("public", "/bye"), location)
        if location.startswith(self.idp.url("/session/end")):
            self.assertEqual(url_query(location).get("post_logout_redirect_uri"),
                             self.url("public", "/bye"))
        # The route host's cookie is no session any more once the deletion
        # has reached the decision's copy of the sessions (in split mode
        # another process's, a few milliseconds later), as in test_sign_out.
        deadline = time.monotonic() + 1.5
        while True:
            r = browser.get(self.url("app", "/after-form"))
            if r.status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 302, r.text)

    # -- a real browser ------------------------------------------------------
    def test_chromium_signs_in(self):
        url = self.url("app", "/chromium")
        result = browser_login(url, "alice", "alice-password", expect_text='"/chromium"')
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["final_url"], url)
        self.assertIn('"server": "app"', result["body_excerpt"])
        visited = [n["url"].split("?")[0] for n in result["navigations"]]
        self.assertIn(self.url("authenticate", "/oauth2/callback"), visited)
        self.assertIn(self.url("app", "/.pomerium/callback/"), visited)


if __name__ == "__main__":
    unittest.main()

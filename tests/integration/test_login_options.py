"""Sign-in settings end to end: an IdP that does not advertise PKCE, the
cookie settings, the IdP scopes and request parameters, and a route with
its own IdP client."""

import time
import unittest

from harness import LoginTestCase, jwt_parts, set_cookie


class LoginWithoutPkceTest(LoginTestCase):
    idp_options = {"pkce_advertise": False}

    def test_login_without_pkce(self):
        self.assertNotIn("code_challenge_methods_supported", self.idp.discovery())
        browser = self.browser()
        r = browser.login(self.url("app", "/nopkce"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        self.assertEqual(r.json()["path"], "/nopkce")
        auth = self.idp.last_authorization()
        self.assertNotIn("code_challenge", auth)
        self.assertNotIn("code_challenge_method", auth)
        self.assertTrue(auth["state"] and auth["nonce"])
        sign_in = next(h for h in r.hops if "/.pomerium/sign_in" in h.url)
        self.assertFalse(any(h.split("=")[0].startswith("_pomerium_pkce")
                             for h in sign_in.response.header_all("Set-Cookie")))
        self.assertIsNone(self.idp.stats()["token_requests"][-1]["code_verifier"])


class LoginSettingsTest(LoginTestCase):
    site_options = {
        "cookie_name": "_gatehouse",
        "cookie_expire": "2h",
        "cookie_same_site": "lax",
        "idp_scopes": ["openid", "email", "profile"],
        "idp_request_params": {"ui_locales": "de"},
    }
    extra_client_ids = ("gatehouse-special",)

    @classmethod
    def extra_routes(cls):
        return [{"from": "https://special.localhost:%d" % cls.port, "to": cls.upstream.url,
                 "allow_any_authenticated_user": True,
                 "idp_client_id": "gatehouse-special",
                 "idp_client_secret": "gatehouse-special-secret"}]

    def test_cookie_settings(self):
        browser = self.browser()
        r = browser.login(self.url("app", "/cookie"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        callback = next(h for h in r.hops if h.url.startswith(self.url("app",
                                                                       "/.pomerium/callback/")))
        cookie = set_cookie(callback.response, "_gatehouse")
        self.assertIsNotNone(cookie, callback.response.headers)
        self.assertIsNone(set_cookie(callback.response, "_pomerium"))
        self.assertEqual(cookie.get("samesite", "").lower(), "lax")
        self.assertIn("secure", cookie)
        if "max-age" in cookie:
            self.assertAlmostEqual(int(cookie["max-age"]), 2 * 3600, delta=5)
        else:
            from email.utils import parsedate_to_datetime
            expires = parsedate_to_datetime(cookie["expires"]).timestamp()
            self.assertAlmostEqual(expires - time.time(), 2 * 3600, delta=60)
        self.assertEqual(jwt_parts(cookie["value"])[1]["sub"], "alice")
        # The authenticate host's cookie follows the name.
        self.assertIsNotNone(browser.cookie("_gatehouse_authenticate"))
        # The upstream sees neither cookie.
        for k, v in r.json()["headers"]:
            if k.lower() == "cookie":
                self.assertNotIn("_gatehouse", v)

    def test_scopes_and_request_params(self):
        r = self.browser().login(self.url("app", "/scopes"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        auth = self.idp.last_authorization()
        self.assertEqual(auth["scope"].split(), ["openid", "email", "profile"])
        self.assertEqual(auth["ui_locales"], "de")

    def test_route_with_its_own_idp_client(self):
        browser = self.browser()
        r = browser.login(self.url("app", "/default"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        self.assertEqual(self.idp.last_authorization()["client_id"], "gatehouse")
        default_idp = next(h for h in r.hops if "/.pomerium/sign_in" in h.url)
        # The session of the default client does not sign in to the route
        # with its own client: the IdP is asked again, for that client (its
        # own session there means no form).
        r = browser.get(self.url("special", "/own"), follow=True)
        self.assertEqual(r.status, 200, r.hops)
        self.assertEqual(r.json()["path"], "/own")
        auth = self.idp.last_authorization()
        self.assertEqual(auth["client_id"], "gatehouse-special")
        sign_in = next(h for h in r.hops if "/.pomerium/sign_in" in h.url)
        self.assertNotEqual(sign_in.url.split("pomerium_idp_id=")[1][:16],
                            default_idp.url.split("pomerium_idp_id=")[1][:16])
        self.assertFalse(any(h.method == "POST" for h in r.hops), r.hops)


class LoginShortSessionTest(LoginTestCase):
    site_options = {"cookie_expire": "3s"}

    def test_session_ends_at_cookie_expire(self):
        browser = self.browser()
        r = browser.login(self.url("app", "/short"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        first = browser.cookie("_pomerium", "app.localhost")
        time.sleep(4)
        # The record has expired: no session, whatever the cookie says.
        r = self.api_client().get(self.url("app", "/late"), cookies={"_pomerium": first})
        self.assertEqual(r.status, 401, r.text)
        # The browser signs in again (the IdP still knows it: no form), and
        # the authenticate host's expired session is not reused.
        r = browser.get(self.url("app", "/late"), follow=True)
        self.assertEqual(r.status, 200, r.hops)
        self.assertTrue(any(h.url.startswith(self.idp.url("/auth")) for h in r.hops), r.hops)
        self.assertNotEqual(browser.cookie("_pomerium", "app.localhost"), first)


class LoginRefreshTest(LoginTestCase):
    # Access tokens last 5 s: the refresher (a minute ahead of expiry, at
    # most every 10 s per session) keeps renewing them.
    idp_options = {"access_token_ttl": 5}

    def wait_until(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertTrue(value, "%s within %ss; gatehouse log:\n%s" % (
            what, timeout, self.gatehouse.log_text(30)))
        return value

    def test_tokens_are_refreshed_and_a_revoked_grant_ends_the_session(self):
        browser = self.browser()
        r = browser.login(self.url("app", "/refresh"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        cookie = browser.cookie("_pomerium", "app.localhost")
        before = self.idp.token_count("refresh_token")
        # A claim changed at the IdP reaches the session with the refresh.
        self.idp.set_user("alice", name="Alice Renamed")
        self.wait_until(lambda: self.idp.token_count("refresh_token") > before, 30,
                        "a refresh_token grant at the IdP")
        self.wait_until(lambda: self.api_client().get(
            self.url("app", "/.pomerium/user"), cookies={"_pomerium": cookie}).json().get(
                "name") == "Alice Renamed", 20, "the new name in the session")
        # The session kept working all along.
        r = self.api_client().get(self.url("app", "/still"), cookies={"_pomerium": cookie})
        self.assertEqual(r.status, 200, r.text)
        refreshed = self.idp.token_count("refresh_token")

        # The IdP revokes the grant: the next refresh is refused and the
        # session ends.
        self.idp.revoke("alice")
        self.wait_until(lambda: self.api_client().get(
            self.url("app", "/revoked"), cookies={"_pomerium": cookie}).status == 401, 40,
            "the session ended after the refused refresh")
        errors = [e for e in self.idp.stats()["token_errors"]
                  if e["grant_type"] == "refresh_token"]
        self.assertTrue(errors, self.idp.stats()["token_errors"])
        self.assertEqual(self.idp.token_count("refresh_token"), refreshed)


if __name__ == "__main__":
    unittest.main()

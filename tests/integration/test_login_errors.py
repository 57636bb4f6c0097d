"""Sign-in that must fail, each with its exact status: the OAuth callback
without or with someone else's state, IdP errors, a replayed code, ID
tokens that must not be believed, altered sign-in links, altered or
foreign session cookies, and an IdP that is down.

ID tokens are crafted here and handed to Gatehouse by the IdP's fault
injection on its token endpoint; each crafted case has a control (a token
built the same way that is accepted), so that a refusal is the token's
doing and not the crafting's."""

import base64
import hashlib
import hmac
import json
import os
import time
import unittest
import urllib.parse

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness import (LOGIN_CLIENT_ID, LOGIN_CLIENT_SECRET, LoginTestCase, start_login_site,
                     url_query)


def b64url(data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def flip(text, index):
    """`text` with the base64url character at `index` replaced by another."""
    c = text[index]
    return text[:index] + ("B" if c == "A" else "A") + text[index + 1:]


class LoginErrorsTest(LoginTestCase):
    extra_ports = 1  # a second deployment, for a cookie it made

    @property
    def callback_prefix(self):
        return self.url("authenticate", "/oauth2/callback")

    def until_callback(self, browser=None, url=None):
        """Starts a login and stops where the IdP sends the browser to
        /oauth2/callback; returns (browser, callback URL)."""
        browser = browser or self.browser()
        r = browser.login(url or self.url("app", "/start"), "alice", "alice-password",
                          stop_before=self.callback_prefix)
        location = r.hops[-1].location
        self.assertTrue(location and location.startswith(self.callback_prefix + "?"), r.hops)
        return browser, location

    def csrf_and_pkce(self, browser):
        """The CSRF and PKCE cookies the browser holds for the authenticate host."""
        return {c.name: c.value for c in browser.cookies
                if c.name == "_pomerium_csrf" or c.name.startswith("_pomerium_pkce")}

    # -- the OAuth callback ----------------------------------------------------
    def test_callback_without_code_or_state(self):
        browser, callback = self.until_callback()
        q = url_query(callback)
        for drop in ("state", "code"):
            with self.subTest(missing=drop):
                rest = {k: v for k, v in q.items() if k != drop}
                r = browser.get(self.callback_prefix + "?" + urllib.parse.urlencode(rest))
                self.assertEqual(r.status, 400, r.text)
                self.assertIsNone(r.header("Location"))
        r = browser.get(self.callback_prefix)
        self.assertEqual(r.status, 400, r.text)
        garbled = dict(q, state=q["state"][:-4] + "AAAA")
        r = browser.get(self.callback_prefix + "?" + urllib.parse.urlencode(garbled))
        self.assertEqual(r.status, 400, r.text)
        # RFC 9207: the answer names another issuer.
        other_iss = dict(q, iss="http://evil.example")
        r = browser.get(self.callback_prefix + "?" + urllib.parse.urlencode(other_iss))
        self.assertEqual(r.status, 400, r.text)
        # The untouched callback still completes (control).
        r = browser.get(callback)
        self.assertEqual(r.status, 302, r.text)

    def test_state_from_another_login(self):
        a, callback_a = self.until_callback()
        b, callback_b = self.until_callback()
        # Browser B cannot finish A's login: A's state names A's CSRF token.
        r = b.get(callback_a)
        self.assertEqual(r.status, 400, r.text)
        # Nor can a browser with no CSRF cookie at all.
        r = self.browser().get(callback_a)
        self.assertEqual(r.status, 400, r.text)
        # A CSRF cookie that is not the state's.
        other = self.browser()
        other.cookies.set("_pomerium_csrf", "x" * 43, domain="authenticate.localhost", path="/")
        r = other.get(callback_a)
        self.assertEqual(r.status, 400, r.text)
        # Each browser finishes its own (control).
        r = a.get(callback_a, follow=True)
        self.assertEqual(r.status, 200, r.hops)
        r = b.get(callback_b, follow=True)
        self.assertEqual(r.status, 200, r.hops)

    def test_missing_pkce_verifier(self):
        browser, callback = self.until_callback()
        cookies = self.csrf_and_pkce(browser)
        self.assertIn("_pomerium_csrf", cookies)
        self.assertEqual(len(cookies), 2, cookies)
        fresh = self.browser()
        r = fresh.get(callback, headers={"Cookie": "_pomerium_csrf=" + cookies["_pomerium_csrf"]})
        self.assertEqual(r.status, 400, r.text)

    def test_idp_errors(self):
        browser, callback = self.until_callback()
        state = url_query(callback)["state"]
        for error, status in (("access_denied", 401), ("unauthorized_client", 401),
                              ("server_error", 400), ("invalid_scope", 400),
                              ("temporarily_unavailable", 400)):
            with self.subTest(error=error):
                r = browser.get(self.callback_prefix + "?" + urllib.parse.urlencode(
                    {"error": error, "error_description": "<b>nope</b>", "state": state,
                     "iss": self.idp.issuer}))
                self.assertEqual(r.status, status, r.text)
                self.assertIsNone(r.header("Location"))
                self.assertNotIn("<b>nope</b>", r.text)

    def test_cancel_at_the_idp_is_401(self):
        browser = self.browser()
        page = browser.get(self.url("app", "/cancel"), follow=True)
        form = browser.form(page, "abort-form")
        self.assertIsNotNone(form, page.hops)
        r = browser.submit(form)
        self.assertTrue(r.url.startswith(self.callback_prefix + "?"), r.hops)
        self.assertEqual(url_query(r.url)["error"], "access_denied")
        self.assertEqual(r.status, 401, r.text)

    def test_replayed_code(self):
        browser, callback = self.until_callback()
        cookies = self.csrf_and_pkce(browser)
        r = browser.get(callback, follow=True)
        self.assertEqual(r.status, 200, r.hops)
        # The same answer again, with the cookies that came with it.
        replay = self.browser()
        r = replay.get(callback, headers={"Cookie": "; ".join(
            "%s=%s" % kv for kv in cookies.items())})
        self.assertEqual(r.status, 400, r.text)
        self.assertIsNone(replay.cookie("_pomerium_authenticate"))

    def test_route_host_callback_checks(self):
        browser = self.browser()
        app_callback = self.url("app", "/.pomerium/callback/")
        r = browser.login(self.url("app", "/handoff?q=1"), "alice", "alice-password",
                          stop_before=app_callback)
        handoff = r.hops[-1].location
        self.assertTrue(handoff.startswith(app_callback + "?"), r.hops)
        base, _, query = handoff.partition("?")
        pairs = urllib.parse.parse_qsl(query)
        q = dict(pairs)

        def variant(**changes):
            return base + "?" + urllib.parse.urlencode(
                [(k, changes.get(k, v)) for k, v in pairs if changes.get(k, v) is not None])
        cases = {
            "another host": handoff.replace("://app.localhost:", "://other.localhost:", 1),
            "another redirect": variant(pomerium_redirect_uri="https://evil.example/"),
            "session altered": variant(pomerium_session_encrypted=flip(
                q["pomerium_session_encrypted"], 20)),
            "signature altered": variant(pomerium_signature=flip(q["pomerium_signature"], 3)),
            "no signature": variant(pomerium_signature=None),
            "no session": variant(pomerium_session_encrypted=None),
        }
        for name, url in cases.items():
            with self.subTest(case=name):
                r = self.browser().get(url)
                self.assertEqual(r.status, 400, r.text)
                self.assertIsNone(r.header("Location"))
                self.assertNotIn("_pomerium=", " ".join(r.header_all("Set-Cookie")))
        # The untouched hand-off signs the browser in (control).
        r = browser.get(handoff, follow=True)
        self.assertEqual(r.status, 200, r.hops)
        self.assertEqual(r.json()["path"], "/handoff?q=1")

    # -- ID tokens -----------------------------------------------------------
    def real_tokens(self):
        """A real access token for alice, from an authorization request made
        here with Gatehouse's client (the crafted token responses carry it,
        so that userinfo answers)."""
        browser = self.browser()
        redirect_uri = self.callback_prefix
        auth = self.idp.discovery()["authorization_endpoint"] + "?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": LOGIN_CLIENT_ID, "redirect_uri": redirect_uri,
            "scope": "openid profile email", "state": "s", "nonce": "n"})
        r = browser.login(auth, "alice", "alice-password", stop_before=redirect_uri)
        code = url_query(r.hops[-1].location)["code"]
        t = requests.post(self.idp.discovery()["token_endpoint"], timeout=10,
                          auth=(LOGIN_CLIENT_ID, LOGIN_CLIENT_SECRET),
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": redirect_uri})
        self.assertEqual(t.status_code, 200, t.text)
        return t.json()

    def idp_key(self, alg):
        with open(os.path.join(self.idp.config["state_dir"], "idp-keys.json")) as f:
            jwk = next(k for k in json.load(f)["keys"] if k["alg"] == alg)
        return jwk["kid"], jwt.PyJWK(jwk).key

    def claims(self, expected_nonce, **changes):
        now = int(time.time())
        c = {"iss": self.idp.issuer, "sub": "alice", "aud": LOGIN_CLIENT_ID, "iat": now,
             "exp": now + 300, "nonce": expected_nonce, "email": "alice@example.com",
             "email_verified": True, "name": "Alice Example"}
        for k, v in changes.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def rs256(self, claims, kid=None, key=None):
        real_kid, real_key = self.idp_key("RS256")
        return jwt.encode(claims, key or real_key, algorithm="RS256",
                          headers={"kid": kid or real_kid})

    def callback_with_id_token(self, make_token, access_token):
        """Runs a login up to the callback, has the IdP's token endpoint
        answer with the ID token `make_token(nonce)` and returns Gatehouse's
        answer to the callback."""
        browser, callback = self.until_callback()
        nonce = self.idp.last_authorization()["nonce"]
        self.idp.fault("/token", 200, {"access_token": access_token, "token_type": "Bearer",
                                       "expires_in": 300, "id_token": make_token(nonce),
                                       "scope": "openid profile email"})
        r = browser.get(callback)
        return browser, r

    def test_crafted_id_tokens(self):
        access = self.real_tokens()["access_token"]
        # Control: a token built here with the IdP's key and the right nonce.
        # (The IdP's fault answered the token request: no code was redeemed.)
        redeemed = self.idp.token_count("authorization_code")
        browser, r = self.callback_with_id_token(lambda n: self.rs256(self.claims(n)), access)
        self.assertEqual(r.status, 302, r.text)
        self.assertEqual(browser.get(r.header("Location"), follow=True).status, 200)
        self.assertEqual(self.idp.token_count("authorization_code"), redeemed)

        _, private = self.idp_key("RS256")
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = self.idp_key("RS256")[0]

        def hs256(claims, key):
            head = b64url({"alg": "HS256", "typ": "JWT", "kid": kid})
            body = b64url(claims)
            sig = hmac.new(key, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
            return "%s.%s.%s" % (head, body, b64url(sig))

        def unsigned(claims):
            return "%s.%s." % (b64url({"alg": "none", "typ": "JWT"}), b64url(claims))

        def altered(n):
            token = self.rs256(self.claims(n))
            head, body, sig = token.split(".")
            return "%s.%s.%s" % (head, b64url(dict(self.claims(n), sub="bob")), sig)

        cases = {
            "wrong nonce": lambda n: self.rs256(self.claims("not-" + n)),
            "no nonce": lambda n: self.rs256(self.claims(n, nonce=None)),
            "alg none": lambda n: unsigned(self.claims(n)),
            "HS256 with the client secret": lambda n: hs256(self.claims(n),
                                                            LOGIN_CLIENT_SECRET.encode()),
            "HS256 with the public key": lambda n: hs256(self.claims(n), public_pem),
            "another audience": lambda n: self.rs256(self.claims(n, aud="someone-else")),
            "another issuer": lambda n: self.rs256(self.claims(n, iss="http://evil.example")),
            "expired": lambda n: self.rs256(self.claims(n, exp=int(time.time()) - 3600,
                                                        iat=int(time.time()) - 7200)),
            "unknown key": lambda n: self.rs256(self.claims(n), kid="stranger", key=stranger),
            "a known kid, another key": lambda n: self.rs256(self.claims(n), key=stranger),
            "payload changed after signing": altered,
        }
        for name, make in cases.items():
            with self.subTest(case=name):
                browser, r = self.callback_with_id_token(make, access)
                self.assertEqual(r.status, 400, r.text)
                self.assertIn("ID token", r.text)
                self.assertIsNone(r.header("Location"))
                self.assertIsNone(browser.cookie("_pomerium_authenticate"))

    # -- the signed sign-in link -----------------------------------------------
    def test_altered_sign_in_links(self):
        r = self.browser().get(self.url("app", "/x"))
        self.assertEqual(r.status, 302)
        link = r.header("Location")
        base, _, query = link.partition("?")
        pairs = urllib.parse.parse_qsl(query)

        def variant(**changes):
            out = []
            for k, v in pairs:
                if k in changes:
                    if changes[k] is None:
                        continue
                    v = changes[k]
                out.append((k, v))
            return base + "?" + urllib.parse.urlencode(out)
        q = dict(pairs)
        cases = {
            "later expiry": variant(pomerium_expiry=str(int(q["pomerium_expiry"]) + 3600)),
            "earlier issue": variant(pomerium_issued=str(int(q["pomerium_issued"]) - 3600)),
            "expired and re-dated": variant(pomerium_issued="1000000000",
                                            pomerium_expiry="1000000300"),
            "signature changed": variant(pomerium_signature=flip(q["pomerium_signature"], 5)),
            "no signature": variant(pomerium_signature=None),
            "another redirect": variant(pomerium_redirect_uri="https://evil.example/"),
            "another idp": variant(pomerium_idp_id="0000000000000000"),
        }
        for name, url in cases.items():
            with self.subTest(case=name):
                r = self.browser().get(url)
                self.assertEqual(r.status, 400, r.text)
                self.assertIsNone(r.header("Location"))
        # The untouched link goes on to the IdP (control).
        r = self.browser().get(link)
        self.assertEqual(r.status, 302, r.text)
        self.assertTrue(r.header("Location").startswith(self.idp.url("/auth?")))

    # -- session cookies -------------------------------------------------------
    def assertNoSession(self, cookie_value):
        r = self.browser().get(self.url("app", "/c"), cookies={"_pomerium": cookie_value})
        self.assertEqual(r.status, 302, r.text)
        self.assertTrue(r.header("Location").startswith(
            self.url("authenticate", "/.pomerium/sign_in?")))
        r = self.api_client().get(self.url("app", "/c"), cookies={"_pomerium": cookie_value})
        self.assertEqual(r.status, 401, r.text)

    def test_altered_session_cookie(self):
        browser, _ = self.signed_in()
        value = browser.cookie("_pomerium", "app.localhost")
        r = self.api_client().get(self.url("app", "/c"), cookies={"_pomerium": value})
        self.assertEqual(r.status, 200, r.text)  # control
        head, body, sig = value.split(".")
        positions = {"header": 3, "payload start": len(head) + 5,
                     "payload end": len(head) + len(body) - 2,
                     "signature": len(head) + len(body) + 10, "last byte": len(value) - 2}
        for name, index in positions.items():
            with self.subTest(byte=name):
                self.assertNoSession(flip(value, index))
        for name, other in (("empty", ""), ("garbage", "x" * 300), ("truncated", value[:-10]),
                            ("no signature", head + "." + body + "."),
                            ("alg none", b64url({"alg": "none"}) + "." + body + ".")):
            with self.subTest(cookie=name):
                self.assertNoSession(other)

    def test_cookie_from_another_deployment(self):
        port2 = self.more_ports[0]
        other = start_login_site(self, self.idp, self.upstream, port=port2)
        browser = other.browser()
        self.addCleanup(browser.close)
        r = browser.login(other.url("app", "/there"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)
        foreign = browser.cookie("_pomerium", "app.localhost")
        self.assertIsNotNone(foreign)
        # It works where it was made (control), and nowhere else.
        r = browser.get(other.url("app", "/there-again"))
        self.assertEqual(r.status, 200, r.text)
        self.assertNoSession(foreign)
        r = self.api_client().get(self.url("app", "/c"),
                                  headers={"Authorization": "Pomerium " + foreign})
        self.assertEqual(r.status, 401, r.text)
        self.assertNotEqual(other.shared_secret, self.site.shared_secret)


class LoginIdpDownTest(LoginTestCase):
    """The IdP is down before anyone has signed in (so Gatehouse has not
    read its discovery document yet), then comes back; later it is down at
    the code exchange."""

    def test_idp_down(self):
        self.idp.kill()
        browser = self.browser()
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                t0 = time.monotonic()
                r = browser.get(self.url("app", "/down"), follow=True)
                self.assertLess(time.monotonic() - t0, 12)
                self.assertEqual(r.status, 503, r.hops)
                self.assertEqual(len(r.hops), 2, r.hops)  # the route, then sign_in
                self.assertEqual(r.url.split("?")[0], self.url("authenticate",
                                                               "/.pomerium/sign_in"))
                self.assertIsNone(r.header("Location"))
                self.assertIn("text/html", r.header("Content-Type"))
        # An API client still gets 401 at the route.
        self.assertEqual(self.api_client().get(self.url("app", "/down")).status, 401)

        # Back: the next login works (within a few seconds at most).
        self.idp.start()
        deadline = time.monotonic() + 10
        while True:
            r = browser.login(self.url("app", "/back"), "alice", "alice-password")
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(r.status, 200, r.hops)
        self.assertEqual(r.json()["path"], "/back")

        # Down between the IdP's answer and the code exchange: 503, no
        # redirect; a new login works once it is back.
        browser = self.browser()
        r = browser.login(self.url("app", "/exchange"), "alice", "alice-password",
                          stop_before=self.url("authenticate", "/oauth2/callback"))
        callback = r.hops[-1].location
        self.assertTrue(callback.startswith(self.url("authenticate", "/oauth2/callback?")),
                        r.hops)
        self.idp.kill()
        try:
            r = browser.get(callback)
            self.assertEqual(r.status, 503, r.text)
            self.assertIsNone(r.header("Location"))
        finally:
            self.idp.start()
        r = self.browser().login(self.url("app", "/exchange"), "alice", "alice-password")
        self.assertEqual(r.status, 200, r.hops)


if __name__ == "__main__":
    unittest.main()

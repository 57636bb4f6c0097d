"""The test OpenID Connect provider (tests/support/idp) and the harness's
sign-in clients, on their own: a small relying party in this file signs in
through the provider with the browserless client and with headless
Chromium, then exchanges, refreshes and revokes tokens."""

import base64
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests

from harness import BrowserClient, Pki, browser_login, idp_client, idp_user, start_idp

CLIENT_ID = "gatehouse-test"
CLIENT_SECRET = "gatehouse-test-secret"


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


class RelyingParty:
    """A minimal OpenID Connect client at http://app.localhost:PORT:
    /start redirects to the provider (state, nonce and, with pkce=True, an
    S256 challenge); /callback checks state and iss, exchanges the code with
    client_secret_basic and shows the e-mail claim of the ID token."""

    def __init__(self, pkce=False):
        self.pkce = pkce
        self.pending = {}  # state -> (nonce, verifier)
        self.results = []
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/start":
                    return self.redirect(rp.authorize_url())
                if url.path == "/callback":
                    return self.reply(*rp.callback(q))
                self.reply(404, "not found")

            def redirect(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def reply(self, status, text):
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = "http://app.localhost:%d" % self.port
        self.redirect_uri = self.base + "/callback"
        self.idp = None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorize_url(self, **extra):
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = None
        params = {"response_type": "code", "client_id": CLIENT_ID,
                  "redirect_uri": self.redirect_uri, "scope": "openid profile email offline_access",
                  "state": state, "nonce": nonce}
        if self.pkce:
            verifier, challenge = pkce_pair()
            params.update(code_challenge=challenge, code_challenge_method="S256")
        params.update(extra)
        self.pending[state] = (nonce, verifier)
        return self.idp.discovery()["authorization_endpoint"] + "?" + urllib.parse.urlencode(
            params)

    def callback(self, q):
        result = {"query": q}
        self.results.append(result)
        if "error" in q:
            return 400, "error: %s" % q["error"]
        if q.get("iss") != self.idp.issuer or q.get("state") not in self.pending:
            return 400, "bad iss or state"
        nonce, verifier = self.pending.pop(q["state"])
        data = {"grant_type": "authorization_code", "code": q["code"],
                "redirect_uri": self.redirect_uri}
        if verifier:
            data["code_verifier"] = verifier
        r = requests.post(self.idp.discovery()["token_endpoint"], data=data,
                          auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
        result["token_status"] = r.status_code
        result["tokens"] = r.json()
        if r.status_code != 200:
            return 502, "token exchange failed: %s" % r.text
        claims = verify_id_token(self.idp, r.json()["id_token"])
        result["claims"] = claims
        if claims.get("nonce") != nonce:
            return 400, "bad nonce"
        return 200, "<p id=who>Signed in as %s</p>" % claims["email"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify_id_token(idp, token):
    header = jwt.get_unverified_header(token)
    keys = [k for k in idp.jwks()["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(keys[0]).key
    return jwt.decode(token, key, algorithms=[header["alg"]], audience=CLIENT_ID,
                      issuer=idp.issuer)


def token_request(idp, **data):
    return requests.post(idp.discovery()["token_endpoint"], data=data,
                         auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)


class IdpTestCase(unittest.TestCase):
    maxDiff = 4000

    def start_idp(self, rp, **kw):
        kw.setdefault("clients", [idp_client(CLIENT_ID, CLIENT_SECRET, [rp.redirect_uri],
                                             post_logout_redirect_uris=[rp.base + "/bye"])])
        kw.setdefault("users", {
            "alice": idp_user("alice-password", "alice@example.com", "Alice Example",
                              ["admins", "users"], department="engineering"),
            "bob": idp_user("bob-password", "bob@example.com", "Bob Example", []),
        })
        idp = start_idp(self, **kw)
        rp.idp = idp
        return idp

    def relying_party(self, **kw):
        rp = RelyingParty(**kw)
        self.addCleanup(rp.close)
        return rp

    def browser(self, **kw):
        client = BrowserClient(**kw)
        self.addCleanup(client.close)
        return client

    def signed_in(self, rp, user="alice", password="alice-password", client=None):
        client = client or self.browser()
        r = client.login(rp.base + "/start", user, password)
        self.assertEqual(r.status, 200, "%r %s" % (r.hops, r.text))
        return client, r, rp.results[-1]


class ProviderTest(IdpTestCase):
    def setUp(self):
        self.rp = self.relying_party()
        self.idp = self.start_idp(self.rp, access_token_ttl=120, id_token_ttl=300)

    def test_discovery(self):
        d = self.idp.discovery()
        self.assertEqual(d["issuer"], self.idp.issuer)
        self.assertTrue(self.idp.issuer.startswith("http://127.0.0.1:"))
        for key, path in (("authorization_endpoint", "/auth"), ("token_endpoint", "/token"),
                          ("userinfo_endpoint", "/me"), ("jwks_uri", "/jwks"),
                          ("revocation_endpoint", "/token/revocation"),
                          ("end_session_endpoint", "/session/end")):
            self.assertEqual(d[key], self.idp.issuer + path)
        self.assertEqual(d["code_challenge_methods_supported"], ["S256"])
        self.assertTrue(d["authorization_response_iss_parameter_supported"])
        for scope in ("openid", "profile", "email", "offline_access", "groups"):
            self.assertIn(scope, d["scopes_supported"])
        algs = sorted(k["alg"] for k in self.idp.jwks()["keys"])
        self.assertEqual(algs, ["ES256", "RS256"])
        self.assertEqual(self.idp.gatehouse_options(), {
            "idp_provider": "oidc", "idp_provider_url": self.idp.issuer,
            "idp_client_id": CLIENT_ID, "idp_client_secret": CLIENT_SECRET})

    def test_code_flow_hop_by_hop(self):
        client, r, result = self.signed_in(self.rp)
        self.assertIn("Signed in as alice@example.com", r.text)
        # start -> authorize -> sign-in page -> form POST -> ... -> callback
        hops = r.hops
        self.assertEqual((hops[0].status, hops[0].location.split("?")[0]),
                         (302, self.idp.url("/auth")))
        self.assertEqual(hops[1].status, 303)
        self.assertTrue(hops[1].location.startswith(self.idp.url("/interaction/")))
        self.assertEqual(hops[2].status, 200)
        self.assertEqual(hops[3].method, "POST")
        self.assertEqual(hops[3].url, hops[2].url + "/login")
        self.assertEqual(hops[-1].url.split("?")[0], self.rp.redirect_uri)
        self.assertEqual(hops[-2].status, 303)
        self.assertTrue(hops[-2].location.startswith(self.rp.redirect_uri + "?"))

        q = result["query"]
        self.assertEqual(q["iss"], self.idp.issuer)
        self.assertEqual(set(q), {"code", "state", "iss"})
        tokens = result["tokens"]
        self.assertEqual(tokens["token_type"], "Bearer")
        self.assertEqual(tokens["expires_in"], 120)
        self.assertIn("refresh_token", tokens)
        claims = result["claims"]
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(claims["email"], "alice@example.com")
        self.assertIs(claims["email_verified"], True)
        self.assertEqual(claims["name"], "Alice Example")
        self.assertEqual(claims["groups"], ["admins", "users"])
        self.assertEqual(claims["department"], "engineering")
        self.assertEqual(claims["exp"] - claims["iat"], 300)

        stats = self.idp.stats()
        self.assertEqual(stats["token"], {"authorization_code": 1})
        self.assertEqual(stats["token_requests"][0]["client_auth"], "basic")
        self.assertIsNone(stats["token_requests"][0]["code_verifier"])
        self.assertNotIn("code_challenge", self.idp.last_authorization())
        self.assertEqual(stats["logins"], 1)

        # The IdP session signs the user in again without the form.
        r2 = client.login(self.rp.base + "/start", "alice", "wrong")
        self.assertEqual(r2.status, 200, r2.text)
        self.assertFalse(any(h.method == "POST" for h in r2.hops), r2.hops)
        self.assertEqual(self.idp.stats()["logins"], 1)

    def test_userinfo_refresh_and_revocation(self):
        _, _, result = self.signed_in(self.rp)
        tokens = result["tokens"]
        d = self.idp.discovery()
        info = requests.get(d["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": "Bearer " + tokens["access_token"]}).json()
        self.assertEqual((info["email"], info["groups"], info["department"]),
                         ("alice@example.com", ["admins", "users"], "engineering"))

        r = token_request(self.idp, grant_type="refresh_token",
                          refresh_token=tokens["refresh_token"])
        self.assertEqual(r.status_code, 200, r.text)
        refreshed = r.json()
        self.assertNotEqual(refreshed["access_token"], tokens["access_token"])
        self.assertEqual(verify_id_token(self.idp, refreshed["id_token"])["groups"],
                         ["admins", "users"])
        self.assertEqual(self.idp.token_count("refresh_token"), 1)
        refresh = refreshed.get("refresh_token", tokens["refresh_token"])

        # Claims changed at the IdP show in the next refresh.
        self.idp.set_user("alice", groups=["users"])
        r = token_request(self.idp, grant_type="refresh_token", refresh_token=refresh)
        self.assertEqual(verify_id_token(self.idp, r.json()["id_token"])["groups"], ["users"])
        refresh = r.json().get("refresh_token", refresh)

        # An injected failure, then normal service again.
        self.idp.fault("/token", 503)
        r = token_request(self.idp, grant_type="refresh_token", refresh_token=refresh)
        self.assertEqual((r.status_code, r.json()), (503, {"error": "temporarily_unavailable"}))
        r = token_request(self.idp, grant_type="refresh_token", refresh_token=refresh)
        self.assertEqual(r.status_code, 200, r.text)
        refresh = r.json().get("refresh_token", refresh)

        # Revocation (RFC 7009) ends the refresh token.
        r = requests.post(d["revocation_endpoint"], timeout=10, auth=(CLIENT_ID, CLIENT_SECRET),
                          data={"token": refresh, "token_type_hint": "refresh_token"})
        self.assertEqual(r.status_code, 200, r.text)
        r = token_request(self.idp, grant_type="refresh_token", refresh_token=refresh)
        self.assertEqual((r.status_code, r.json()["error"]), (400, "invalid_grant"))
        self.assertEqual(self.idp.stats()["requests"]["/token/revocation"], 1)

    def test_revoke_everything_of_a_user(self):
        _, _, result = self.signed_in(self.rp)
        self.assertEqual(self.idp.revoke("alice"), 1)
        r = token_request(self.idp, grant_type="refresh_token",
                          refresh_token=result["tokens"]["refresh_token"])
        self.assertEqual((r.status_code, r.json()["error"]), (400, "invalid_grant"))

    def test_wrong_password_shows_the_error(self):
        client = self.browser()
        r = client.login(self.rp.base + "/start", "alice", "not-her-password")
        self.assertEqual(r.status, 401)
        self.assertIn("Invalid user name or password.", r.text)
        self.assertIsNotNone(client.form(r, "login-form"))
        self.assertEqual(r.hops[-1].method, "POST")
        r = client.login(self.rp.base + "/start", "nobody", "x")
        self.assertEqual(r.status, 401)
        self.assertEqual(self.idp.stats()["failed_logins"], 2)
        self.assertEqual(self.rp.results, [])

    def test_cancel_gives_access_denied(self):
        client = self.browser()
        page = client.get(self.rp.base + "/start", follow=True)
        r = client.submit(client.form(page, "abort-form"))
        self.assertEqual(r.status, 400)
        self.assertEqual(self.rp.results[-1]["query"]["error"], "access_denied")
        self.assertEqual(self.rp.results[-1]["query"]["iss"], self.idp.issuer)

    def test_sign_out(self):
        client, _, result = self.signed_in(self.rp)
        d = self.idp.discovery()
        url = d["end_session_endpoint"] + "?" + urllib.parse.urlencode({
            "id_token_hint": result["tokens"]["id_token"],
            "post_logout_redirect_uri": self.rp.base + "/bye", "state": "s1"})
        r = client.logout(url)
        self.assertEqual(r.url, self.rp.base + "/bye?state=s1")
        # The IdP session is gone: the next sign-in shows the form.
        page = client.get(self.rp.base + "/start", follow=True)
        self.assertIsNotNone(client.form(page, "login-form"))

    def test_clear_sessions_and_restart(self):
        client, _, result = self.signed_in(self.rp)
        kids = sorted(k["kid"] for k in self.idp.jwks()["keys"])
        issuer = self.idp.issuer
        self.idp.restart()
        self.assertEqual(self.idp.issuer, issuer)
        self.assertEqual(sorted(k["kid"] for k in self.idp.jwks()["keys"]), kids)
        r = token_request(self.idp, grant_type="refresh_token",
                          refresh_token=result["tokens"]["refresh_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.idp.clear_sessions(), 1)
        page = client.get(self.rp.base + "/start", follow=True)
        self.assertIsNotNone(client.form(page, "login-form"))
        self.idp.restart(keep_state=False)
        self.assertNotEqual(sorted(k["kid"] for k in self.idp.jwks()["keys"]), kids)

    def test_names_are_mapped_to_loopback_inside_the_client_only(self):
        client = self.browser()
        for host in ("app.localhost", "deep.name.test", "localhost"):
            r = client.get("http://%s:%d/nothing" % (host, self.rp.port))
            self.assertEqual(r.status, 404)
        self.assertEqual(r.raw.request.headers["Accept"].split(",")[0], "text/html")
        with self.assertRaises(requests.exceptions.ConnectionError):
            requests.get("http://app.test:%d/" % self.rp.port, timeout=5)


class PkceTest(IdpTestCase):
    def test_required_for_a_client(self):
        rp = self.relying_party(pkce=True)
        idp = self.start_idp(rp, clients=[idp_client(CLIENT_ID, CLIENT_SECRET, [rp.redirect_uri],
                                                      pkce=True)])
        _, _, result = self.signed_in(rp)
        self.assertEqual(result["token_status"], 200)
        auth = idp.last_authorization()
        self.assertEqual(auth["code_challenge_method"], "S256")
        self.assertEqual(len(auth["code_challenge"]), 43)
        self.assertEqual(len(idp.stats()["token_requests"][-1]["code_verifier"]), 64)

        # Without a challenge the request is refused at the redirect URI.
        rp.pkce = False
        client = self.browser()
        r = client.login(rp.base + "/start", "alice", "alice-password")
        self.assertEqual(r.status, 400)
        self.assertEqual(rp.results[-1]["query"]["error"], "invalid_request")

    def test_wrong_verifier_is_refused(self):
        rp = self.relying_party(pkce=True)
        idp = self.start_idp(rp, pkce_required=True)
        client = self.browser()
        client.login(rp.base + "/start", "alice", "alice-password")
        # Sign in again, stopping at the callback to exchange the code by hand.
        r = client.get(rp.authorize_url(), follow=True, stop_before=rp.redirect_uri)
        self.assertEqual(r.status, 303)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.hops[-1].location).query))
        r = token_request(idp, grant_type="authorization_code", code=q["code"],
                          redirect_uri=rp.redirect_uri, code_verifier=pkce_pair()[0])
        self.assertEqual((r.status_code, r.json()["error"]), (400, "invalid_grant"))

    def test_advertisement_can_be_switched_off(self):
        rp = self.relying_party()
        idp = self.start_idp(rp, pkce_advertise=False)
        self.assertNotIn("code_challenge_methods_supported", idp.discovery())
        # ... while a challenge that is sent anyway is still checked.
        rp.pkce = True
        _, _, result = self.signed_in(rp)
        self.assertEqual(result["token_status"], 200)


class TlsAndConsentTest(IdpTestCase):
    def test_https_issuer_and_consent_form(self):
        pki_dir = tempfile.mkdtemp(prefix="idp-pki-")
        self.addCleanup(shutil.rmtree, pki_dir, True)
        pki = Pki(pki_dir)
        rp = self.relying_party()
        idp = self.start_idp(rp, tls=pki, consent="form")
        self.assertTrue(idp.issuer.startswith("https://127.0.0.1:"))
        self.assertEqual(idp.gatehouse_options(CLIENT_ID)["certificate_authority_file"],
                         pki.ca_cert)
        client = self.browser(cafile=pki.ca_cert)
        self.assertEqual(client.get(idp.discovery_url).json()["issuer"], idp.issuer)
        # The relying party here talks to the IdP with requests' default
        # trust store, so it is told about the test CA.
        os.environ["REQUESTS_CA_BUNDLE"] = pki.ca_cert
        self.addCleanup(os.environ.pop, "REQUESTS_CA_BUNDLE", None)
        r = client.login(rp.base + "/start", "bob", "bob-password")
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Signed in as bob@example.com", r.text)
        self.assertTrue(any(h.url.endswith("/confirm") for h in r.hops), r.hops)
        self.assertEqual(rp.results[-1]["claims"]["groups"], [])
        # An unverified certificate is refused when a CA is given.
        other = Pki(os.path.join(pki_dir, "other"))
        with self.assertRaises(requests.exceptions.SSLError):
            self.browser(cafile=other.ca_cert).get(idp.discovery_url)


@unittest.skipUnless(os.access("/usr/bin/chromium", os.X_OK), "no /usr/bin/chromium")
class ChromiumTest(IdpTestCase):
    def test_browser_signs_in(self):
        rp = self.relying_party(pkce=True)
        self.start_idp(rp)
        result = browser_login(rp.base + "/start", "alice", "alice-password",
                               expect_text="Signed in as alice@example.com")
        self.assertTrue(result["ok"], json.dumps(result, indent=1))
        self.assertEqual(result["status"], 200)
        self.assertTrue(result["final_url"].startswith(rp.redirect_uri + "?"))
        self.assertEqual(rp.results[-1]["claims"]["email"], "alice@example.com")

    def test_browser_reports_a_wrong_password(self):
        rp = self.relying_party()
        self.start_idp(rp)
        result = browser_login(rp.base + "/start", "alice", "wrong")
        self.assertFalse(result["ok"])
        self.assertEqual(result["error"], "Invalid user name or password.")
        self.assertEqual(result["status"], 401)


if __name__ == "__main__":
    unittest.main()

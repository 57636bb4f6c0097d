"""Identity headers end to end: the X-Pomerium-Jwt-Assertion an upstream
receives, verified independently (PyJWT and cryptography) against the keys
of /.well-known/pomerium/jwks.json; the claim headers; set_request_headers
templates; client-sent identity headers; and Gatehouse's own endpoints that
show the identity (/.pomerium/user, /.pomerium/jwt, the routes portal).
"""

import json
import time
import unittest

from harness import (AuthorizeTestCase, header, jwk_thumbprint, jwt_parts,
                     verify_identity_jwt)

IDENTITY_HEADERS = ("X-Pomerium-Jwt-Assertion", "X-Pomerium-Jwt-Assertion-For",
                    "X-Pomerium-Claim-Email", "X-Pomerium-Claim-Groups",
                    "X-Pomerium-Claim-Department")


class IdentityHeadersTest(AuthorizeTestCase):
    route_hosts = ("jwt", "nojwt", "uri", "carols", "*.wild")
    site_options = {"jwt_claims_headers": ["email", "groups", "department"]}

    @classmethod
    def extra_routes(cls):
        return [
            cls.route("jwt", allow_any_authenticated_user=True, pass_identity_headers=True,
                      set_request_headers={
                          "X-Id-Token": "${pomerium.id_token}",
                          "X-Access-Token": "${pomerium.access_token}",
                          "X-Jwt": "${pomerium.jwt}",
                          "X-Foo-Copy": "foo=${pomerium.request.headers.x-foo};",
                      }),
            cls.route("nojwt", allow_any_authenticated_user=True,
                      set_request_headers={"X-Jwt": "${pomerium.jwt}"}),
            cls.route("uri", allow_any_authenticated_user=True, pass_identity_headers=True,
                      jwt_issuer_format="uri"),
            cls.route("*.wild", allow_any_authenticated_user=True, pass_identity_headers=True),
            cls.route("carols", pass_identity_headers=True,
                      policy={"allow": {"or": [{"claim/department": "eng"}]}}),
        ]

    def assertion(self, echo):
        values = header(echo, "X-Pomerium-Jwt-Assertion")
        self.assertEqual(len(values), 1, echo["headers"])
        return values[0]

    # -- the identity JWT ----------------------------------------------------
    def test_jwt_verifies_against_the_jwks(self):
        jwks = self.jwks("jwt")
        for user, email, name, groups in (
                ("alice", "alice@example.com", "Alice Example", ["admins", "users"]),
                ("bob", "bob@corp.example", "Bob Corp", ["users"]),
                ("dave", "dave@example.com", "Dave Example", [])):
            with self.subTest(user=user):
                echo = self.echo_as(user, "jwt", "/who")
                token = self.assertion(echo)
                head, claims = verify_identity_jwt(token, jwks, audience="jwt.localhost",
                                                   issuer="jwt.localhost",
                                                   algorithms=["ES256"])
                self.assertEqual(head["alg"], "ES256")
                self.assertEqual(head.get("typ"), "JWT")
                key = next(k for k in jwks["keys"] if k["kid"] == head["kid"])
                self.assertEqual(head["kid"], jwk_thumbprint(key))
                self.assertEqual(claims["aud"], "jwt.localhost")
                self.assertEqual(claims["iss"], "jwt.localhost")
                self.assertEqual(claims["sub"], user)
                self.assertEqual(claims["user"], user)
                self.assertEqual(claims["email"], email)
                self.assertEqual(claims["name"], name)
                self.assertIsInstance(claims["groups"], list)
                self.assertEqual(sorted(claims["groups"]), groups)
                self.assertEqual(claims["exp"] - claims["iat"], 300)
                self.assertLessEqual(abs(claims["iat"] - time.time()), 10)
                self.assertTrue(claims.get("jti"))
                session = jwt_parts(self.session(user))[1]
                self.assertEqual(claims["sid"], session["jti"])
                # An extra claim named in jwt_claims_headers is in the JWT too.
                self.assertEqual(claims.get("department"),
                                 self.users[user].get("department"))
                # The JWT is for this host only.
                with self.assertRaises(AssertionError):
                    verify_identity_jwt(token, jwks, audience="uri.localhost")

    def test_issuer_uri_format(self):
        token = self.assertion(self.echo_as("alice", "uri", "/"))
        _, claims = verify_identity_jwt(token, self.jwks("uri"), audience="uri.localhost",
                                        issuer="https://uri.localhost/")
        self.assertEqual(claims["sub"], "alice")

    def test_wildcard_route_jwt_is_for_the_host_asked_for(self):
        for host in ("one.wild", "two.wild"):
            with self.subTest(host=host):
                token = self.assertion(self.echo_as("alice", host, "/"))
                _, claims = verify_identity_jwt(token, self.jwks(host),
                                                audience=host + ".localhost",
                                                issuer=host + ".localhost")
                self.assertEqual(claims["sub"], "alice")

    def test_no_identity_headers_without_pass_identity_headers(self):
        echo = self.echo_as("alice", "nojwt", "/x",
                            headers={"X-Pomerium-Jwt-Assertion": "forged",
                                     "X-Pomerium-Claim-Email": "evil@example.com"})
        names = [k.lower() for k, _ in echo["headers"]]
        for name in IDENTITY_HEADERS:
            self.assertNotIn(name.lower(), names, echo["headers"])
        # set_request_headers still render the JWT on request.
        jwt = header(echo, "X-Jwt")
        self.assertEqual(len(jwt), 1, echo["headers"])
        _, claims = verify_identity_jwt(jwt[0], self.jwks("nojwt"), audience="nojwt.localhost")
        self.assertEqual(claims["email"], "alice@example.com")

    def test_claim_headers(self):
        echo = self.echo_as("alice", "jwt", "/claims")
        self.assertEqual(header(echo, "X-Pomerium-Claim-Email"), ["alice@example.com"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Groups"), ["admins,users"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Department"), ["sales"])
        echo = self.echo_as("dave", "jwt", "/claims")
        self.assertEqual(header(echo, "X-Pomerium-Claim-Email"), ["dave@example.com"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Groups"), [""])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Department"), [""])

    def test_set_request_headers_templates(self):
        import jwt as pyjwt
        import requests
        echo = self.echo_as("alice", "jwt", "/templates", headers={"X-Foo": "bar baz"})
        assertion = self.assertion(echo)
        self.assertEqual(header(echo, "X-Jwt"), [assertion])
        self.assertEqual(header(echo, "X-Foo-Copy"), ["foo=bar baz;"])
        # The IdP's ID token, verified against the IdP's own keys.
        id_token = header(echo, "X-Id-Token")[0]
        head = pyjwt.get_unverified_header(id_token)
        key = next(k for k in self.idp.jwks()["keys"] if k["kid"] == head["kid"])
        claims = pyjwt.decode(id_token, pyjwt.PyJWK(key).key, algorithms=[head["alg"]],
                              audience=self.site.client_id, issuer=self.idp.issuer,
                              options={"verify_exp": False})
        self.assertEqual(claims["sub"], "alice")
        # The access token is one the IdP honours.
        access_token = header(echo, "X-Access-Token")[0]
        self.assertTrue(access_token)
        r = requests.get(self.idp.url("/me"), timeout=10,
                         headers={"Authorization": "Bearer " + access_token})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["sub"], "alice")
        # Without the request header the template renders empty.
        echo = self.echo_as("alice", "jwt", "/templates")
        self.assertEqual(header(echo, "X-Foo-Copy"), ["foo=;"])

    # -- headers a client must not be able to set ------------------------------
    def test_client_sent_identity_headers_never_reach_the_upstream(self):
        forged = {"X-Pomerium-Jwt-Assertion": "forged",
                  "X-Pomerium-Claim-Email": "evil@example.com",
                  "X-Pomerium-Claim-Groups": "admins",
                  "X-Pomerium-Claim-Other": "evil"}
        echo = self.echo_as("bob", "jwt", "/forged", headers=forged)
        token = self.assertion(echo)
        _, claims = verify_identity_jwt(token, self.jwks("jwt"), audience="jwt.localhost")
        self.assertEqual(claims["email"], "bob@corp.example")
        self.assertEqual(header(echo, "X-Pomerium-Claim-Email"), ["bob@corp.example"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Groups"), ["users"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Other"), [])
        # The incoming assertion is carried over as -For (Pomerium chains
        # identity across proxies this way), never as the assertion.
        self.assertEqual(header(echo, "X-Pomerium-Jwt-Assertion-For"), ["forged"])
        echo = self.echo_as("bob", "jwt", "/forged", headers=dict(
            forged, **{"X-Pomerium-Jwt-Assertion-For": "earlier-hop"}))
        self.assertEqual(header(echo, "X-Pomerium-Jwt-Assertion-For"), ["earlier-hop"])
        self.assertNotEqual(self.assertion(echo), "forged")

        # A public route strips them too.
        r = self.as_user(None, "public", "/forged", headers=forged)
        self.assertEqual(r.status, 200, r.text)
        names = [k.lower() for k, _ in r.json()["headers"]]
        for name in list(forged) + ["X-Pomerium-Jwt-Assertion-For"]:
            self.assertNotIn(name.lower(), names)

    def test_underscore_header_names_are_refused(self):
        before = len(self.upstream.requests)
        for name in ("x_pomerium_jwt_assertion", "X_Pomerium_Claim_Email"):
            with self.subTest(name=name):
                r = self.as_user("alice", "jwt", "/underscore", headers={name: "forged"})
                self.assertEqual(r.status, 400, r.text[:300])
        self.assertEqual(len(self.upstream.requests), before)

    def test_session_credentials_never_reach_the_upstream(self):
        token = self.session("alice")
        echo = self.echo_as("alice", "jwt", "/cookies", cookies={"theme": "dark"},
                            headers={"Authorization": "Bearer upstream-token"})
        cookie = "; ".join(header(echo, "Cookie"))
        self.assertIn("theme=dark", cookie)
        self.assertNotIn("_pomerium", cookie)
        self.assertNotIn(token[:30], cookie)
        self.assertEqual(header(echo, "Authorization"), ["Bearer upstream-token"])
        for value in ("Pomerium " + token, "Bearer Pomerium-" + token):
            with self.subTest(authorization=value.split(" ")[0]):
                echo = self.echo_as(None, "jwt", "/header-session",
                                    headers={"Authorization": value})
                self.assertEqual(header(echo, "Authorization"), [])
                _, claims = verify_identity_jwt(self.assertion(echo), self.jwks("jwt"),
                                                audience="jwt.localhost")
                self.assertEqual(claims["sub"], "alice")
        echo = self.echo_as(None, "jwt", "/header-session",
                            headers={"X-Pomerium-Authorization": token})
        self.assertEqual(header(echo, "X-Pomerium-Authorization"), [])

    # -- the JWKS --------------------------------------------------------------
    def test_jwks_on_every_host(self):
        docs = []
        for host in ("jwt", "nojwt", "public", "authenticate", "carols"):
            with self.subTest(host=host):
                # No session needed, and no sign-in redirect.
                r = self.as_user(None, host, "/.well-known/pomerium/jwks.json",
                                 accept="application/json")
                self.assertEqual(r.status, 200, r.text[:300])
                self.assertIn("application/json", r.header("Content-Type"))
                self.assertIn("max-age=60", r.header("Cache-Control") or "")
                self.assertTrue(r.header("ETag"), r.headers)
                self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
                doc = r.json()
                self.assertTrue(doc["keys"], doc)
                for k in doc["keys"]:
                    self.assertEqual(k["kty"], "EC")
                    self.assertEqual(k["crv"], "P-256")
                    self.assertEqual(k.get("alg"), "ES256")
                    self.assertEqual(k.get("use"), "sig")
                    self.assertNotIn("d", k)
                    self.assertEqual(k["kid"], jwk_thumbprint(k))
                docs.append((r.header("ETag"), doc))
        self.assertEqual(len({json.dumps(d, sort_keys=True) for _, d in docs}), 1)
        self.assertEqual(len({e for e, _ in docs}), 1)

    def test_well_known_pomerium(self):
        r = self.as_user(None, "jwt", "/.well-known/pomerium", accept="application/json")
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        doc = r.json()
        self.assertTrue(doc["jwks_uri"].startswith("https://jwt.localhost"), doc)
        self.assertTrue(doc["jwks_uri"].endswith("/.well-known/pomerium/jwks.json"), doc)

    # -- Gatehouse's own identity endpoints ------------------------------------
    def test_user_endpoint(self):
        r = self.as_user(None, "jwt", "/.pomerium/user")
        self.assertEqual(r.status, 302, r.text[:300])
        r = self.as_user(None, "jwt", "/.pomerium/user", accept="application/json")
        self.assertEqual(r.status, 401, r.text[:300])
        r = self.as_user("bob", "jwt", "/.pomerium/user", accept="application/json")
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertIn("application/json", r.header("Content-Type"))
        claims = r.json()
        self.assertEqual(claims["email"], "bob@corp.example")
        self.assertEqual(claims["sub"], "bob")
        self.assertEqual(claims["user"], "bob")
        self.assertEqual(claims["groups"], ["users"])
        self.assertEqual(claims["name"], "Bob Corp")
        self.assertEqual(claims["sid"], jwt_parts(self.session("bob"))[1]["jti"])
        for name in ("iss", "aud", "exp", "iat", "jti"):
            self.assertNotIn(name, claims)
        # Not forwarded: Gatehouse answers it on every route host.
        self.assertNotEqual(r.header("X-Upstream"), "app")

    def test_user_endpoint_ignores_client_sent_assertions(self):
        # A JWT the client sends (even one Gatehouse signed for another
        # user) is not an identity: only the session is.
        alice_jwt = self.assertion(self.echo_as("alice", "jwt", "/who"))
        for forged in (alice_jwt, "forged"):
            r = self.as_user(None, "jwt", "/.pomerium/user", accept="application/json",
                             headers={"X-Pomerium-Jwt-Assertion": forged})
            self.assertEqual(r.status, 401, r.text[:300])
            r = self.as_user("bob", "jwt", "/.pomerium/user", accept="application/json",
                             headers={"X-Pomerium-Jwt-Assertion": forged,
                                      "X-Pomerium-Claim-Email": "alice@example.com"})
            self.assertEqual(r.status, 200, r.text[:300])
            self.assertEqual(r.json()["email"], "bob@corp.example")
            self.assertEqual(r.json()["sub"], "bob")

    def test_jwt_endpoint_is_off_by_default(self):
        r = self.as_user("alice", "jwt", "/.pomerium/jwt")
        self.assertEqual(r.status, 404, r.text[:300])
        self.assertNotIn("eyJ", r.text)

    def test_routes_portal_lists_the_routes_a_user_may_open(self):
        for path in ("/.pomerium/routes", "/.pomerium/api/v1/routes"):
            with self.subTest(path=path):
                self.assertEqual(self.as_user(None, "jwt", path).status, 302)
                self.assertEqual(
                    self.as_user(None, "jwt", path, accept="application/json").status, 401)
        r = self.as_user("alice", "jwt", "/.pomerium/routes")
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertIn("text/html", r.header("Content-Type"))

        def listed(user):
            r = self.as_user(user, "jwt", "/.pomerium/api/v1/routes",
                             accept="application/json")
            self.assertEqual(r.status, 200, r.text[:300])
            self.assertIn("application/json", r.header("Content-Type"))
            routes = r.json()["routes"]
            return " ".join(route["from"] for route in routes)

        alice, carol = listed("alice"), listed("carol")
        for host in ("jwt", "nojwt", "uri", "app", "public"):
            self.assertIn("%s.localhost" % host, alice)
            self.assertIn("%s.localhost" % host, carol)
        self.assertNotIn("carols.localhost", alice)
        self.assertIn("carols.localhost", carol)

    def test_the_policy_route_still_decides(self):
        self.assertEqual(self.as_user("alice", "carols", "/").status, 403)
        echo = self.echo_as("carol", "carols", "/")
        _, claims = verify_identity_jwt(self.assertion(echo), self.jwks("carols"),
                                        audience="carols.localhost")
        self.assertEqual(claims["email"], "carol@example.com")
        self.assertEqual(claims["groups"], [])


if __name__ == "__main__":
    unittest.main()

"""The identity JWT's signing key end to end: a configured signing_key (EC
P-256, base64 of the PEM, as Pomerium takes it) and its kid, rotation with
two keys in one value, an RSA key (RS256), the global pass_identity_headers
and jwt_claims_headers in the map form, and /.pomerium/jwt behind its
runtime flag.
"""

import base64
import unittest

from harness import (AuthorizeTestCase, generate_signing_key, header, jwk_thumbprint,
                     jwt_parts, verify_identity_jwt)

KEY1, PEM1, JWK1 = generate_signing_key("ec")


class SigningKeyTest(AuthorizeTestCase):
    route_hosts = ("keys", "keys-off")
    site_options = {
        "signing_key": KEY1,
        "pass_identity_headers": True,
        "jwt_claims_headers": {"X-Email": "email", "X-Dept": "department",
                               "X-Groups": "groups"},
        "runtime_flags": {"pomerium_jwt_endpoint": True},
    }

    @classmethod
    def extra_routes(cls):
        return [cls.route("keys", allow_any_authenticated_user=True),
                cls.route("keys-off", allow_any_authenticated_user=True,
                          pass_identity_headers=False)]

    def assertion(self, user="alice", host="keys"):
        echo = self.echo_as(user, host, "/jwt")
        values = header(echo, "X-Pomerium-Jwt-Assertion")
        self.assertEqual(len(values), 1, echo["headers"])
        return values[0]

    def jwks_response(self):
        r = self.as_user(None, "keys", "/.well-known/pomerium/jwks.json",
                         accept="application/json")
        self.assertEqual(r.status, 200, r.text)
        return r

    def reload_with(self, **options):
        g = self.gatehouse
        mark = g.mark()
        self.site.options.update(options)
        g.write_config(self.site.make_config())
        g.wait_for("config reloaded", after=mark)

    def test_global_pass_identity_headers_and_claims_map(self):
        echo = self.echo_as("alice", "keys", "/claims")
        self.assertEqual(header(echo, "X-Email"), ["alice@example.com"])
        self.assertEqual(header(echo, "X-Dept"), ["sales"])
        self.assertEqual(header(echo, "X-Groups"), ["admins,users"])
        self.assertEqual(header(echo, "X-Pomerium-Claim-Email"), [])
        token = header(echo, "X-Pomerium-Jwt-Assertion")[0]
        _, claims = verify_identity_jwt(token, self.jwks("keys"), audience="keys.localhost",
                                        issuer="keys.localhost")
        self.assertEqual(claims["department"], "sales")
        # The route's own pass_identity_headers: false wins, claim headers
        # included; a client cannot set them either.
        echo = self.echo_as("alice", "keys-off", "/claims",
                            headers={"X-Email": "evil@example.com"})
        names = [k.lower() for k, _ in echo["headers"]]
        for name in ("x-pomerium-jwt-assertion", "x-dept", "x-groups"):
            self.assertNotIn(name, names)
        self.assertNotIn("alice@example.com", header(echo, "X-Email"))

    def test_jwt_endpoint_with_its_runtime_flag(self):
        r = self.as_user(None, "keys", "/.pomerium/jwt", accept="application/json")
        self.assertEqual(r.status, 401, r.text[:300])
        r = self.as_user("bob", "keys", "/.pomerium/jwt")
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertIn("application/jwt", r.header("Content-Type"))
        _, claims = verify_identity_jwt(r.text.strip(), self.jwks("keys"),
                                        audience="keys.localhost", issuer="keys.localhost")
        self.assertEqual(claims["email"], "bob@corp.example")
        self.assertEqual(claims["sub"], "bob")
        # The session's JWT, not one the client sends.
        r = self.as_user("bob", "keys", "/.pomerium/jwt",
                         headers={"X-Pomerium-Jwt-Assertion": "forged"})
        self.assertEqual(r.status, 200, r.text[:300])
        self.assertNotIn("forged", r.text)
        self.assertEqual(jwt_parts(r.text.strip())[1]["sub"], "bob")

    def test_signing_key_rotation_and_rsa(self):
        self.addCleanup(self.reload_with, signing_key=KEY1)
        # The configured key, and its thumbprint as kid.
        r = self.jwks_response()
        kid1 = jwk_thumbprint(JWK1)
        self.assertEqual([k["kid"] for k in r.json()["keys"]], [kid1])
        only = r.json()["keys"][0]
        self.assertEqual((only["x"], only["y"]), (JWK1["x"], JWK1["y"]))
        etag1 = r.header("ETag")
        old = self.assertion("carol")
        head, _ = verify_identity_jwt(old, r.json(), audience="keys.localhost")
        self.assertEqual(head["kid"], kid1)

        # Rotation: the new key first, the old one still published.
        # A key whose x coordinate starts with a zero byte (one in 256):
        # the JWK and its thumbprint keep all 32 bytes (RFC 7518 §6.2.1.2).
        while True:
            key2, pem2, jwk2 = generate_signing_key("ec")
            if base64.urlsafe_b64decode(jwk2["x"] + "=")[0] == 0:
                break
        kid2 = jwk_thumbprint(jwk2)
        self.reload_with(signing_key=base64.b64encode((pem2 + PEM1).encode()).decode())
        r = self.jwks_response()
        jwks = r.json()
        self.assertEqual([k["kid"] for k in jwks["keys"]], [kid2, kid1])
        self.assertNotEqual(r.header("ETag"), etag1)
        new = self.assertion("carol")
        head, claims = verify_identity_jwt(new, jwks, audience="keys.localhost",
                                           algorithms=["ES256"])
        self.assertEqual(head["kid"], kid2)
        self.assertEqual(claims["email"], "carol@example.com")
        # A JWT signed before the rotation still verifies.
        head, claims = verify_identity_jwt(old, jwks, audience="keys.localhost")
        self.assertEqual(head["kid"], kid1)
        self.assertEqual(claims["sub"], "carol")
        # Sessions survive the reload.
        self.assertEqual(self.as_user("alice", "keys", "/").status, 200)

        # An RSA key signs with RS256.
        rsa_key, _, rsa_jwk = generate_signing_key("rsa")
        self.reload_with(signing_key=rsa_key)
        jwks = self.jwks_response().json()
        self.assertEqual(len(jwks["keys"]), 1, jwks)
        published = jwks["keys"][0]
        self.assertEqual(published["kty"], "RSA")
        self.assertEqual(published.get("alg"), "RS256")
        self.assertEqual((published["n"], published["e"]), (rsa_jwk["n"], rsa_jwk["e"]))
        self.assertEqual(published["kid"], jwk_thumbprint(rsa_jwk))
        token = self.assertion("alice")
        head, claims = verify_identity_jwt(token, jwks, audience="keys.localhost",
                                           algorithms=["RS256"])
        self.assertEqual(head["alg"], "RS256")
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(jwt_parts(token)[0]["kid"], published["kid"])


if __name__ == "__main__":
    unittest.main()

#include "crypto/jws.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "crypto/hmac.h"
#include "unit/crypto/test_keys.h"
#include "unit/crypto/test_util.h"

namespace gatehouse::crypto {
namespace {

using namespace testing;  // NOLINT: test data

Jwk pemKey(std::string_view base64_pem, std::optional<JwsAlgorithm> algorithm = std::nullopt) {
  auto key = Jwk::fromPem(*base64Decode(base64_pem), "", algorithm);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return *key;
}

Jwk jsonKey(std::string_view json) {
  auto key = Jwk::parse(json);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return *key;
}

// A compact JWS with the given header and payload JSON and signature text.
std::string token(std::string_view header, std::string_view payload,
                  std::string_view signature = "c2ln") {
  return base64UrlEncode(header) + "." + base64UrlEncode(payload) + "." + std::string(signature);
}

TEST(Jws, VerifiesRfc7515Hs256) {
  auto jws = Jws::parse(kRfc7515Hs256Token);
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_EQ(jws->header().algorithm, JwsAlgorithm::kHs256);
  EXPECT_EQ(jws->header().type, "JWT");
  auto key = Jwk::fromSecret(*base64Decode(kRfc7515HmacKey));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(jws->verify(*key).ok());
  EXPECT_EQ(jws->payload(),
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  auto other = Jwk::fromSecret(std::string(64, 'k'));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(jws->verify(*other).error().code, ErrorCode::kUnauthenticated);
}

TEST(Jws, VerifiesRfc7515Es256) {
  auto jws = Jws::parse(kRfc7515Es256Token);
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_TRUE(jws->verify(jsonKey(kRfc7515EcJwk)).ok());
  // Another EC key does not verify it.
  EXPECT_FALSE(jws->verify(jsonKey(kPomeriumEcPublicJwk)).ok());
}

TEST(Jws, VerifiesRfc8037EdDsa) {
  auto jws = Jws::parse(kRfc8037EdDsaToken);
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_TRUE(jws->verify(jsonKey(kRfc8037Jwk)).ok());
  EXPECT_EQ(jws->payload(), "Example of Ed25519 signing");
}

TEST(Jws, VerifiesRsaTokensFromAnotherImplementation) {
  const Jwk rs256_key = jsonKey(kPomeriumRsaPublicJwk);  // declares RS256
  auto rs = Jws::parse(kRs256Token);
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->header().key_id, "rsa-1");
  EXPECT_TRUE(rs->verify(rs256_key).ok());

  auto ps = Jws::parse(kPs256Token);
  ASSERT_TRUE(ps.ok());
  // The key declares RS256, so it may not check a PS256 signature...
  EXPECT_FALSE(ps->verify(rs256_key).ok());
  // ...but the same key without "alg" may.
  const Jwk any_rsa = *Jwk::fromOpensslKey(rs256_key.opensslKey(), "", JwsAlgorithm::kPs256);
  EXPECT_TRUE(ps->verify(any_rsa).ok());
  // A PKCS#1 v1.5 signature relabelled as PSS does not verify.
  const std::string relabelled = base64UrlEncode(R"({"alg":"PS256"})") +
                                 std::string(kRs256Token.substr(kRs256Token.find('.')));
  auto forged = Jws::parse(relabelled);
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(forged->verify(any_rsa).ok());
}

TEST(Jws, SignsAndVerifiesWithEveryAlgorithm) {
  struct Case {
    Jwk key;
    JwsAlgorithm algorithm;
  };
  const Case cases[] = {
      {*Jwk::fromSecret(std::string(32, 's')), JwsAlgorithm::kHs256},
      {pemKey(kPomeriumEcKeyBase64), JwsAlgorithm::kEs256},
      {pemKey(kPomeriumRsaKeyBase64), JwsAlgorithm::kRs256},
      {pemKey(kPomeriumRsaKeyBase64, JwsAlgorithm::kPs256), JwsAlgorithm::kPs256},
      {pemKey(kPomeriumEd25519KeyBase64), JwsAlgorithm::kEdDsa},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(jwsAlgorithmName(c.algorithm)));
    auto signed_token = Jws::sign(c.key, R"({"sub":"user"})");
    ASSERT_TRUE(signed_token.ok()) << signed_token.error().message;
    auto jws = Jws::parse(*signed_token);
    ASSERT_TRUE(jws.ok()) << jws.error().message;
    EXPECT_EQ(jws->header().algorithm, c.algorithm);
    EXPECT_EQ(jws->header().type, "JWT");
    EXPECT_EQ(jws->header().key_id, c.key.keyId());
    EXPECT_EQ(jws->payload(), R"({"sub":"user"})");
    EXPECT_TRUE(jws->verify(c.key).ok());
    // And with the public half alone, as an upstream would.
    if (c.algorithm != JwsAlgorithm::kHs256) {
      auto published = Jwk::parse(c.key.toPublicJson());
      ASSERT_TRUE(published.ok()) << published.error().message;
      EXPECT_TRUE(jws->verify(*published).ok());
      EXPECT_TRUE(jws->verify(Jwks({*published})).ok());
    }
    // Any changed byte breaks it.
    std::string tampered = *signed_token;
    tampered[tampered.find('.') + 2] ^= 1;
    auto changed = Jws::parse(tampered);
    if (changed.ok()) {
      EXPECT_FALSE(changed->verify(c.key).ok());
    }
  }
}

TEST(Jws, Es256HeaderAndSignatureAreWhatVerifiersExpect) {
  const Jwk key = pemKey(kPomeriumEcKeyBase64);
  auto signed_token = Jws::sign(key, "{}");
  ASSERT_TRUE(signed_token.ok());
  const std::string header_part = signed_token->substr(0, signed_token->find('.'));
  // go-jose's member order, as in Pomerium's X-Pomerium-Jwt-Assertion.
  EXPECT_EQ(
      *base64Decode(header_part),
      R"({"alg":"ES256","kid":"d591aa6e01e57ea8b80f349dc5de8517aa7b1f12f77700d89cbdba83938c0c61","typ":"JWT"})");
  // r || s, not DER.
  EXPECT_EQ(base64Decode(signed_token->substr(signed_token->rfind('.') + 1))->size(), 64u);

  JwsSignOptions bare;
  bare.type = "";
  bare.include_key_id = false;
  auto minimal = Jws::sign(key, "{}", bare);
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(*base64Decode(minimal->substr(0, minimal->find('.'))), R"({"alg":"ES256"})");
}

TEST(Jws, SigningNeedsAPrivateKeyOfTheRightKind) {
  EXPECT_FALSE(Jws::sign(jsonKey(kRfc7515EcJwk), "{}").ok());
  JwsSignOptions hs;
  hs.algorithm = JwsAlgorithm::kHs256;
  EXPECT_FALSE(Jws::sign(pemKey(kPomeriumEcKeyBase64), "{}", hs).ok());
  JwsSignOptions rs;
  rs.algorithm = JwsAlgorithm::kRs256;
  EXPECT_FALSE(Jws::sign(pemKey(kPomeriumEcKeyBase64), "{}", rs).ok());
}

// RFC 8725 section 2.1: "none" and algorithm confusion.
TEST(Jws, RefusesAlgNone) {
  const std::string payload = R"({"sub":"admin"})";
  for (const char* alg : {"none", "None", "NONE", ""}) {
    const std::string header = std::string(R"({"alg":")") + alg + "\"}";
    auto unsigned_token =
        Jws::parse(base64UrlEncode(header) + "." + base64UrlEncode(payload) + ".");
    EXPECT_FALSE(unsigned_token.ok()) << alg;
    auto with_signature = Jws::parse(token(header, payload));
    EXPECT_FALSE(with_signature.ok()) << alg;
  }
}

TEST(Jws, RefusesHmacWithAPublicKey) {
  // The classic confusion: HS256 "signed" with the verifier's public key.
  const Jwk ec = jsonKey(kPomeriumEcPublicJwk);
  const Jwk rsa = jsonKey(kPomeriumRsaPublicJwk);
  for (const Jwk* key : {&ec, &rsa}) {
    const std::string input =
        base64UrlEncode(R"({"alg":"HS256"})") + "." + base64UrlEncode(R"({"sub":"admin"})");
    for (const std::string& secret : {key->toPublicJson(), std::string(key->thumbprint())}) {
      const std::string forged =
          input + "." + base64UrlEncode(hmac(HmacHash::kSha256, secret, input));
      auto jws = Jws::parse(forged);
      ASSERT_TRUE(jws.ok());
      auto verified = jws->verify(*key);
      ASSERT_FALSE(verified.ok());
      EXPECT_EQ(verified.error().code, ErrorCode::kUnauthenticated);
      EXPECT_FALSE(jws->verify(Jwks({*key})).ok());
    }
  }
}

TEST(Jws, RefusesAnAlgorithmForAnotherKeyType) {
  auto rs = Jws::parse(kRs256Token);
  ASSERT_TRUE(rs.ok());
  EXPECT_FALSE(rs->verify(jsonKey(kPomeriumEcPublicJwk)).ok());
  EXPECT_FALSE(rs->verify(jsonKey(kRfc8037Jwk)).ok());
  auto es = Jws::parse(kRfc7515Es256Token);
  ASSERT_TRUE(es.ok());
  EXPECT_FALSE(es->verify(jsonKey(kPomeriumRsaPublicJwk)).ok());
}

TEST(Jws, HeaderIsParsedStrictly) {
  const std::string payload = "{}";
  // Critical extensions, unencoded payloads, JWE headers.
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","crit":["exp"],"exp":1})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","crit":[]})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","b64":false})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","enc":"A256GCM"})", payload)).ok());
  // Duplicate "alg": a second parser might read the other one.
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","alg":"HS256"})", payload)).ok());
  // Wrong types, unknown algorithms, not an object, not JSON.
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","kid":1})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256","typ":null})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":["ES256"]})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES512"})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"HS512"})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"typ":"JWT"})", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"(["ES256"])", payload)).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"ES256"} )"
                                "x",
                                payload))
                   .ok());
  EXPECT_FALSE(Jws::parse(token("\xff\xfe", payload)).ok());
  // Keys named by the token are ignored, never refused or used.
  auto with_jwk = Jws::parse(token(
      R"({"alg":"ES256","jwk":{"kty":"EC"},"jku":"https://evil.example/jwks","x5u":"x","kid":"k","cty":"JWT"})",
      payload));
  ASSERT_TRUE(with_jwk.ok()) << with_jwk.error().message;
  EXPECT_EQ(with_jwk->header().key_id, "k");
  EXPECT_EQ(with_jwk->header().content_type, "JWT");
}

TEST(Jws, CompactFormIsParsedStrictly) {
  const std::string good = token(R"({"alg":"HS256"})", "{}");
  ASSERT_TRUE(Jws::parse(good).ok());
  EXPECT_FALSE(Jws::parse("").ok());
  EXPECT_FALSE(Jws::parse("a.b").ok());
  EXPECT_FALSE(Jws::parse(good + ".x").ok());
  EXPECT_FALSE(Jws::parse(good + "=").ok());                           // padding
  EXPECT_FALSE(Jws::parse(good + "+").ok());                           // standard alphabet
  EXPECT_FALSE(Jws::parse(" " + good).ok());                           // whitespace
  EXPECT_FALSE(Jws::parse(good.substr(0, good.rfind('.') + 1)).ok());  // no signature
  EXPECT_FALSE(Jws::parse(good.substr(good.find('.'))).ok());          // no header
  // Non-canonical base64url: "c2k" and "c2l" decode to the same two bytes
  // and differ only in unused low bits; only the canonical text is taken.
  EXPECT_TRUE(Jws::parse(token(R"({"alg":"HS256"})", "{}", "c2k")).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"HS256"})", "{}", "c2l")).ok());
}

TEST(Jws, SizeAndDepthLimits) {
  JwsLimits limits;
  limits.max_token_bytes = 200;
  EXPECT_TRUE(Jws::parse(token(R"({"alg":"HS256"})", std::string(100, 'a')), limits).ok());
  EXPECT_FALSE(Jws::parse(token(R"({"alg":"HS256"})", std::string(200, 'a')), limits).ok());
  const std::string big_header = R"({"alg":"HS256","x":")" + std::string(5000, 'a') + "\"}";
  EXPECT_FALSE(Jws::parse(token(big_header, "{}")).ok());
  std::string deep = R"({"alg":"HS256","x":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  EXPECT_FALSE(Jws::parse(token(deep, "{}")).ok());
}

TEST(Jws, KeySetSelectsByKeyId) {
  const Jwk ec = pemKey(kPomeriumEcKeyBase64);
  const Jwk rsa = pemKey(kPomeriumRsaKeyBase64);
  const Jwks published({*Jwk::parse(ec.toPublicJson()), *Jwk::parse(rsa.toPublicJson())});
  auto by_ec = Jws::parse(*Jws::sign(ec, "{}"));
  ASSERT_TRUE(by_ec.ok());
  EXPECT_TRUE(by_ec->verify(published).ok());

  // An unknown "kid" is kNotFound, which lets a caller refetch the JWKS.
  auto renamed = Jwk::fromPem(*base64Decode(kPomeriumEcKeyBase64), "rotated");
  ASSERT_TRUE(renamed.ok());
  auto unknown = Jws::parse(*Jws::sign(*renamed, "{}"));
  ASSERT_TRUE(unknown.ok());
  auto missing = unknown->verify(published);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  // Without a "kid", every key that allows the algorithm is tried.
  JwsSignOptions no_kid;
  no_kid.include_key_id = false;
  auto anonymous = Jws::parse(*Jws::sign(rsa, "{}", no_kid));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_TRUE(anonymous->verify(published).ok());

  // The right "kid" with a bad signature is kUnauthenticated.
  std::string bad = *Jws::sign(ec, "{}");
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  auto forged = Jws::parse(bad);
  ASSERT_TRUE(forged.ok());
  auto result = forged->verify(published);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthenticated);
}

TEST(Jws, MalformedSignaturesFailCleanly) {
  const Jwk ec = jsonKey(kRfc7515EcJwk);
  const Jwk ed = jsonKey(kRfc8037Jwk);
  const Jwk rsa = jsonKey(kPomeriumRsaPublicJwk);
  for (const std::string& signature :
       {std::string(""), std::string(1, '\0'), std::string(63, '\x01'), std::string(64, '\0'),
        std::string(64, '\xff'), std::string(65, '\x01'), std::string(256, '\x01'),
        std::string(512, '\x7f')}) {
    const std::string sig = signature.empty() ? "AA" : base64UrlEncode(signature);
    for (const char* alg : {"ES256", "EdDSA", "RS256"}) {
      auto jws = Jws::parse(token(std::string(R"({"alg":")") + alg + "\"}", "{}", sig));
      ASSERT_TRUE(jws.ok());
      EXPECT_FALSE(jws->verify(ec).ok());
      EXPECT_FALSE(jws->verify(ed).ok());
      EXPECT_FALSE(jws->verify(rsa).ok());
    }
  }
}

}  // namespace
}  // namespace gatehouse::crypto

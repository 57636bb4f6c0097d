// PS256 and EdDSA as an identity provider uses them: keys published as JWK
// JSON in a key set, tokens signed elsewhere and checked here.

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/base64.h"
#include "crypto/jwk.h"
#include "crypto/jwks.h"
#include "crypto/jws.h"

namespace gatehouse::crypto {
namespace {

Jwk generated(const char* type, const char* kid, JwsAlgorithm algorithm) {
  EVP_PKEY* key = std::string_view(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  auto jwk = Jwk::fromOpensslKey(key, kid, algorithm);
  EVP_PKEY_free(key);
  EXPECT_TRUE(jwk.ok());
  return *jwk;
}

// The private keys of an "identity provider", and its published key set.
struct Issuer {
  Jwk pss = generated("RSA", "pss", JwsAlgorithm::kPs256);
  Jwk ed = generated("ED25519", "ed", JwsAlgorithm::kEdDsa);
  Jwks published =
      *Jwks::parse(R"({"keys":[)" + pss.toPublicJson() + "," + ed.toPublicJson() + "]}");
};

const Issuer& issuer() {
  static const Issuer instance;
  return instance;
}

TEST(JwsPssEdDsa, PublishedKeysParseWithTheirAlgorithm) {
  const Jwks& keys = issuer().published;
  ASSERT_EQ(keys.keys().size(), 2u) << (keys.skipped().empty() ? "" : keys.skipped()[0]);
  EXPECT_EQ(keys.keys()[0].type(), Jwk::Type::kRsa);
  EXPECT_EQ(keys.keys()[0].declaredAlgorithm(), JwsAlgorithm::kPs256);
  EXPECT_EQ(keys.keys()[1].type(), Jwk::Type::kOkp);
  EXPECT_EQ(keys.keys()[1].declaredAlgorithm(), JwsAlgorithm::kEdDsa);
  EXPECT_FALSE(keys.keys()[1].isPrivate());
  // The public JWK round-trips to the same key.
  EXPECT_EQ(keys.keys()[1].thumbprint(), issuer().ed.thumbprint());
}

TEST(JwsPssEdDsa, TokensVerifyAgainstThePublishedSet) {
  for (const Jwk* key : {&issuer().pss, &issuer().ed}) {
    auto token = Jws::sign(*key, R"({"sub":"u"})");
    ASSERT_TRUE(token.ok()) << token.error().message;
    auto jws = Jws::parse(*token);
    ASSERT_TRUE(jws.ok());
    EXPECT_EQ(jws->header().key_id, key->keyId());
    EXPECT_TRUE(jws->verify(issuer().published).ok()) << key->keyId();
  }
}

TEST(JwsPssEdDsa, PssSignaturesAreRandomisedButBothVerify) {
  auto first = Jws::sign(issuer().pss, "{}");
  auto second = Jws::sign(issuer().pss, "{}");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);  // a fresh salt each time
  EXPECT_TRUE(Jws::parse(*second)->verify(issuer().published).ok());
}

TEST(JwsPssEdDsa, AlteredTokensAndSwappedAlgorithmsAreRefused) {
  for (const Jwk* key : {&issuer().pss, &issuer().ed}) {
    std::string token = *Jws::sign(*key, R"({"sub":"u"})");
    // One bit of the payload changed.
    const size_t dot = token.find('.');
    std::string altered = token;
    altered[dot + 2] = altered[dot + 2] == 'A' ? 'B' : 'A';
    auto jws = Jws::parse(altered);
    if (jws.ok()) {
      auto verified = jws->verify(issuer().published);
      ASSERT_FALSE(verified.ok());
      EXPECT_EQ(verified.error().code, ErrorCode::kUnauthenticated);
    }
  }
  // A PS256 signature relabelled RS256 (same RSA key): the key declares
  // PS256, so no key in the set allows RS256.
  std::string pss = *Jws::sign(issuer().pss, "{}");
  std::string relabelled =
      base64UrlEncode(R"({"alg":"RS256","kid":"pss"})") + pss.substr(pss.find('.'));
  auto jws = Jws::parse(relabelled);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->verify(issuer().published).error().code, ErrorCode::kNotFound);

  // An EdDSA signature of the wrong length fails cleanly.
  std::string ed = *Jws::sign(issuer().ed, "{}");
  std::string truncated = ed.substr(0, ed.size() - 4);
  auto short_sig = Jws::parse(truncated);
  if (short_sig.ok()) EXPECT_FALSE(short_sig->verify(issuer().published).ok());
}

TEST(JwsPssEdDsa, OkpKeysOfOtherCurvesOrSizesAreRefused) {
  const std::string x = base64UrlEncode(std::string(32, '\x01'));
  EXPECT_FALSE(Jwk::parse(R"({"kty":"OKP","crv":"X25519","x":")" + x + "\"}").ok());
  EXPECT_FALSE(Jwk::parse(R"({"kty":"OKP","crv":"Ed448","x":")" + x + "\"}").ok());
  EXPECT_FALSE(
      Jwk::parse(R"({"kty":"OKP","crv":"Ed25519","x":")" + base64UrlEncode("short") + "\"}").ok());
  EXPECT_FALSE(
      Jwk::parse(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","alg":"ES256"})").ok());
}

}  // namespace
}  // namespace gatehouse::crypto

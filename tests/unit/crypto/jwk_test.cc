#include "crypto/jwk.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "crypto/jwks.h"
#include "unit/crypto/test_keys.h"
#include "unit/crypto/test_util.h"

namespace gatehouse::crypto {
namespace {

using namespace testing;  // NOLINT: test data

std::string pem(std::string_view base64_pem) { return *base64Decode(base64_pem); }

constexpr std::string_view kEncryptedPem = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBAxCPbQSPu9srii7MG8
F5IPAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQtFLAnqk6AIjtwV5w
Xro8uwRAsJXQC40d2BDd8dLAgS3VNVvjRoXvYiHDFqFyyWFb+CAK0rTcbH3UUkHN
YlhO47HdLAQBWx7jXYrd4HhV2hvklQ==
-----END ENCRYPTED PRIVATE KEY-----
)";

constexpr std::string_view kEcPublicPem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoLZD26lGXDHQBhafGelEfD7e6f3i
DcYROV7TlYHtqucPE/hHwgfaMcqAPFlFjnyJrIraa1eClYE2zRKSBNd5pQ==
-----END PUBLIC KEY-----
)";

constexpr std::string_view kP384Pem = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAIOKL8o2GCYRLI46lm
rqpwiCKTPNLi7RCO4IaRpWqd/t70Gp1qpz+qtQnFXK1yqd6hZANiAASKV6XwZuiK
9VGtZYQgODBDNZfrnipM4ZcH1i8BNUeobIABPf/YtEKttz/4cWhWQN+U77kBLVW4
cDU0epk50Ac668iMcdFFY/uzITymx6cl8k3sApkxyxILSj2mYZb1jpw=
-----END PRIVATE KEY-----
)";

// Pomerium's TestPublicJWKFromBytes: same "kid" (hex RFC 7638 thumbprint)
// and the same JSON, member order included.
TEST(Jwk, PemKeysGivePomeriumsPublicJwks) {
  auto rsa = Jwk::fromPem(pem(kPomeriumRsaKeyBase64));
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(rsa->type(), Jwk::Type::kRsa);
  EXPECT_TRUE(rsa->isPrivate());
  EXPECT_EQ(rsa->keyId(), "f0cc8033b422c2a199dcb456dde29589a9f5edd27d1c345bdf308957e957becf");
  EXPECT_EQ(rsa->toPublicJson(), kPomeriumRsaPublicJwk);

  auto ec = Jwk::fromPem(pem(kPomeriumEcKeyBase64));
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ(ec->type(), Jwk::Type::kEc);
  EXPECT_EQ(ec->thumbprintHex(), ec->keyId());
  EXPECT_EQ(ec->toPublicJson(), kPomeriumEcPublicJwk);
}

// Pomerium's old Ed25519 case expects "kid" 3aa84783..., which go-jose
// computed from a malformed template ({"crv":..,"kty":"OKP",x":..}, a quote
// missing). Pomerium no longer signs with Ed25519 keys; Gatehouse follows
// RFC 8037, and the public key itself matches.
TEST(Jwk, Ed25519PemFollowsRfc8037) {
  auto ed = Jwk::fromPem(pem(kPomeriumEd25519KeyBase64));
  ASSERT_TRUE(ed.ok()) << ed.error().message;
  EXPECT_EQ(ed->type(), Jwk::Type::kOkp);
  EXPECT_EQ(
      ed->toPublicJson(),
      R"({"use":"sig","kty":"OKP","kid":"9935c8811af93ab090d1cd943e4f1e67ed2a41d630797a8c33f2fb7c4f476a1e","crv":"Ed25519","alg":"EdDSA","x":"xsg1A67wECXAmRnSib8lSsgatcNcYm7vvspQnocPQNc"})");
}

TEST(Jwk, ThumbprintsMatchTheRfcs) {
  auto rsa = Jwk::parse(kRfc7638Jwk);
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(base64UrlEncode(rsa->thumbprint()), kRfc7638Thumbprint);
  EXPECT_EQ(rsa->keyId(), "2011-04-29");
  EXPECT_EQ(rsa->declaredAlgorithm(), JwsAlgorithm::kRs256);
  EXPECT_FALSE(rsa->isPrivate());

  auto okp = Jwk::parse(kRfc8037Jwk);
  ASSERT_TRUE(okp.ok()) << okp.error().message;
  EXPECT_EQ(base64UrlEncode(okp->thumbprint()), kRfc8037Thumbprint);
  EXPECT_EQ(okp->keyId(), "");
}

TEST(Jwk, ParsedKeyRoundTripsThroughItsPublicJson) {
  auto ec = Jwk::parse(kPomeriumEcPublicJwk);
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ(ec->toPublicJson(), kPomeriumEcPublicJwk);
  auto rsa = Jwk::parse(kPomeriumRsaPublicJwk);
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(rsa->toPublicJson(), kPomeriumRsaPublicJwk);
  EXPECT_EQ(rsa->thumbprintHex(), rsa->keyId());
}

TEST(Jwk, AlgorithmMustFitKeyType) {
  auto ec = Jwk::parse(kRfc7515EcJwk);
  ASSERT_TRUE(ec.ok());
  EXPECT_TRUE(ec->allows(JwsAlgorithm::kEs256));
  EXPECT_FALSE(ec->allows(JwsAlgorithm::kHs256));
  EXPECT_FALSE(ec->allows(JwsAlgorithm::kRs256));
  EXPECT_FALSE(ec->allows(JwsAlgorithm::kEdDsa));

  // Without "alg", an RSA key allows both RSA algorithms; with it, only that.
  auto rsa = Jwk::parse(
      R"({"kty":"RSA","n":"67KjqmQYGq0MVtACVpeCmXminlQbDPGLmsZAUEwueHQnrt3WtvpDOm6AlaJMUnW-Hu55jjokalKeVjTKmgYGbqUzVDoMbPDaHekltdBTMGlOUFsP4UJSDrO4zdN-zo428TX2PnG2FCdVKGy4PE8ilHbWLcr871YjV51fw8CLDX9PZJNu861CF7V9iEJm6sSfQlmnhN8j3-WzVbPQNy1WsR7i9e9j63EqKt22Q9OXL-WAcKskoISmCNVRUAjU8YRVcgQJB-zQ34AQPlz0Op5O_QN_MedjaF8wLS-iv_zviS8cqPbxo6sLq6FNTltk_QkxeCeKKTQe_3kPYvQAdnl65Q","e":"AQAB"})");
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_TRUE(rsa->allows(JwsAlgorithm::kRs256));
  EXPECT_TRUE(rsa->allows(JwsAlgorithm::kPs256));
  EXPECT_FALSE(rsa->allows(JwsAlgorithm::kHs256));
  auto declared = Jwk::parse(kRfc7638Jwk);
  ASSERT_TRUE(declared.ok());
  EXPECT_FALSE(declared->allows(JwsAlgorithm::kPs256));

  auto secret = Jwk::fromSecret(std::string(32, 's'));
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(secret->allows(JwsAlgorithm::kHs256));
  EXPECT_FALSE(secret->allows(JwsAlgorithm::kEs256));
  EXPECT_EQ(secret->toPublicJson(), "");
}

TEST(Jwk, SecretsShorterThan256BitsAreRefused) {
  EXPECT_FALSE(Jwk::fromSecret(std::string(31, 's')).ok());
  EXPECT_TRUE(Jwk::fromSecret(std::string(32, 's')).ok());
}

TEST(Jwk, PemVariants) {
  auto pub = Jwk::fromPem(kEcPublicPem);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_FALSE(pub->isPrivate());
  EXPECT_EQ(pub->keyId(), "d591aa6e01e57ea8b80f349dc5de8517aa7b1f12f77700d89cbdba83938c0c61");
  EXPECT_FALSE(Jwk::fromPem(kEncryptedPem).ok());
  EXPECT_FALSE(Jwk::fromPem(kP384Pem).ok());
  EXPECT_FALSE(Jwk::fromPem("not a key").ok());
  auto named = Jwk::fromPem(kEcPublicPem, "my-key");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->keyId(), "my-key");
  EXPECT_FALSE(Jwk::fromPem(kEcPublicPem, "", JwsAlgorithm::kRs256).ok());
}

TEST(Jwk, RefusesKeysItCannotTrust) {
  const std::string x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
  const std::string y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
  auto ec = [&](std::string extra, std::string xv, std::string yv) {
    return Jwk::parse(R"({"kty":"EC","crv":"P-256","x":")" + xv + R"(","y":")" + yv + "\"" + extra +
                      "}");
  };
  ASSERT_TRUE(ec("", x, y).ok());
  // Private material.
  EXPECT_FALSE(ec(R"(,"d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")", x, y).ok());
  // A point that is not on the curve.
  std::string bad_y = y;
  bad_y[5] = bad_y[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ec("", x, bad_y).ok());
  // Coordinates of the wrong length, or not base64url.
  EXPECT_FALSE(ec("", x.substr(0, 42), y).ok());
  EXPECT_FALSE(ec("", x + "AA", y).ok());
  EXPECT_FALSE(ec("", x.substr(0, 42) + "=", y).ok());
  // Uses other than signature verification; an "alg" for another key type.
  EXPECT_FALSE(ec(R"(,"use":"enc")", x, y).ok());
  EXPECT_TRUE(ec(R"(,"use":"sig")", x, y).ok());
  EXPECT_FALSE(ec(R"(,"key_ops":["encrypt"])", x, y).ok());
  EXPECT_TRUE(ec(R"(,"key_ops":["verify"])", x, y).ok());
  EXPECT_FALSE(ec(R"(,"alg":"RS256")", x, y).ok());
  EXPECT_FALSE(ec(R"(,"alg":"ES384")", x, y).ok());
  EXPECT_FALSE(ec(R"(,"alg":"none")", x, y).ok());
  EXPECT_FALSE(ec(R"(,"kid":7)", x, y).ok());
  // The same member twice: which "x" would another parser pick?
  EXPECT_FALSE(ec(R"(,"x":")" + x + "\"", x, y).ok());
  // Other curves and key types.
  EXPECT_FALSE(
      Jwk::parse(R"({"kty":"EC","crv":"P-384","x":")" + x + R"(","y":")" + y + "\"}").ok());
  EXPECT_FALSE(Jwk::parse(R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"})").ok());
  EXPECT_FALSE(
      Jwk::parse(
          R"({"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})")
          .ok());
  EXPECT_FALSE(Jwk::parse(R"({"crv":"P-256"})").ok());
  EXPECT_FALSE(Jwk::parse("[]").ok());
  EXPECT_FALSE(Jwk::parse("{").ok());
  EXPECT_FALSE(Jwk::parse(std::string(20000, ' ')).ok());
}

TEST(Jwk, RefusesWeakRsaKeys) {
  // A 1024-bit modulus (odd, top bit set).
  std::string n(128, '\xab');
  n[127] = '\x01';
  auto small = Jwk::parse(R"({"kty":"RSA","n":")" + base64UrlEncode(n) + R"(","e":"AQAB"})");
  EXPECT_FALSE(small.ok());
  std::string big(256, '\xab');
  auto with = [&](std::string_view e) {
    return Jwk::parse(R"({"kty":"RSA","n":")" + base64UrlEncode(big) + R"(","e":")" +
                      std::string(e) + "\"}");
  };
  EXPECT_TRUE(with("AQAB").ok());
  EXPECT_FALSE(with("AQAA").ok());            // even exponent
  EXPECT_FALSE(with("AQ").ok());              // e = 1
  EXPECT_FALSE(with("").ok());                // no exponent
  EXPECT_FALSE(with("AQEBAQEBAQEBAQ").ok());  // over 64 bits
}

TEST(Jwks, ParsesWhatItCanUseAndListsTheRest) {
  const std::string document = std::string(R"({"keys":[)") + std::string(kPomeriumRsaPublicJwk) +
                               "," + std::string(kRfc7515EcJwk) + "," + std::string(kRfc8037Jwk) +
                               "," +
                               R"({"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},)"
                               R"({"kty":"EC","crv":"P-521","x":"AA","y":"AA"},)"
                               R"({"kty":"oct","k":"c2VjcmV0"}]})";
  auto set = Jwks::parse(document);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->keys().size(), 3u);
  ASSERT_EQ(set->skipped().size(), 3u);
  EXPECT_EQ(set->skipped()[0].substr(0, 8), "keys[3]:");

  auto found = set->find("f0cc8033b422c2a199dcb456dde29589a9f5edd27d1c345bdf308957e957becf",
                         JwsAlgorithm::kRs256);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->type(), Jwk::Type::kRsa);
  // The right id with the wrong algorithm finds nothing.
  EXPECT_TRUE(set->find("f0cc8033b422c2a199dcb456dde29589a9f5edd27d1c345bdf308957e957becf",
                        JwsAlgorithm::kEs256)
                  .empty());
  EXPECT_EQ(set->find("", JwsAlgorithm::kEs256).size(), 1u);
  // The EC and OKP keys have no "kid": a token naming an unknown key may
  // still be checked with them, never with a key that has another id.
  EXPECT_EQ(set->find("unknown", JwsAlgorithm::kEs256).size(), 1u);
  EXPECT_TRUE(set->find("unknown", JwsAlgorithm::kRs256).empty());
  EXPECT_EQ(set->find("", JwsAlgorithm::kEdDsa).size(), 1u);
  EXPECT_TRUE(set->find("", JwsAlgorithm::kHs256).empty());
}

TEST(Jwks, SerialisesLikePomerium) {
  auto rsa = Jwk::fromPem(pem(kPomeriumRsaKeyBase64));
  auto ec = Jwk::fromPem(pem(kPomeriumEcKeyBase64));
  ASSERT_TRUE(rsa.ok() && ec.ok());
  const Jwks set({*ec, *rsa});
  EXPECT_EQ(set.toJson(), std::string(R"({"keys":[)") + std::string(kPomeriumEcPublicJwk) + "," +
                              std::string(kPomeriumRsaPublicJwk) + "]}");
  auto again = Jwks::parse(set.toJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->toJson(), set.toJson());
  EXPECT_EQ(Jwks().toJson(), R"({"keys":[]})");
}

TEST(Jwks, RefusesMalformedDocuments) {
  EXPECT_FALSE(Jwks::parse("").ok());
  EXPECT_FALSE(Jwks::parse("{}").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys":{}})").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys":[],"keys":[]})").ok());
  std::string many = R"({"keys":[)";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "{}";
  EXPECT_FALSE(Jwks::parse(many + "]}").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys":[]})" + std::string(Jwks::kMaxBytes, ' ')).ok());
  auto empty = Jwks::parse(R"({"keys":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->keys().empty());
}

}  // namespace
}  // namespace gatehouse::crypto

#include "crypto/signing_key.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "unit/crypto/test_keys.h"

namespace gatehouse::crypto {
namespace {

using namespace testing;  // NOLINT: test data

std::string pem(std::string_view base64_pem) { return *base64Decode(base64_pem); }

// `openssl ecparam -genkey -name prime256v1` without -noout.
constexpr std::string_view kEcParamsThenKey = R"(-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJh5+zCqpOlbv5iEf2e3+xiYisHk5P536bVL1hcfZDBDoAoGCCqGSM49
AwEHoUQDQgAEPZmm+MiMNHrQHp2iU5oTyzg8ctRutB+UpZsLQe30NacIiX57NNuH
RVMCGbPt8x03czqGf5b/APuyU146U8yu/g==
-----END EC PRIVATE KEY-----
)";
constexpr std::string_view kEcParamsKeyId =
    "0cb10bd479dd3346a5b18342e6154bf572248a820651da66298e4b580ba40fc4";

// Pomerium's EC test key in PKCS#8 form ("PRIVATE KEY").
constexpr std::string_view kPomeriumEcKeyPkcs8 = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgF7ROqat0ilhczuzN
EMNVvBb3/sRsZSFK1AiNeVOxbc+hRANCAASgtkPbqUZcMdAGFp8Z6UR8Pt7p/eIN
xhE5XtOVge2q5w8T+EfCB9oxyoA8WUWOfImsitprV4KVgTbNEpIE13ml
-----END PRIVATE KEY-----
)";

constexpr std::string_view kCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBbjCCAROgAwIBAgIUQshb+ByPisG2R8eux1IzlIUq+7cwCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBeDAeFw0yNjExMzAwMzUyMTlaFw0yNjEyMDEwMzUyMTlaMAwx
CjAIBgNVBAMMAXgwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASgtkPbqUZcMdAG
Fp8Z6UR8Pt7p/eINxhE5XtOVge2q5w8T+EfCB9oxyoA8WUWOfImsitprV4KVgTbN
EpIE13mlo1MwUTAdBgNVHQ4EFgQUgcRaPPN15GLG1n8JXkGGpgervNAwHwYDVR0j
BBgwFoAUgcRaPPN15GLG1n8JXkGGpgervNAwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNJADBGAiEA43aRyHzdsVxUe2CLQ2ZGcszwtUD78CxRTYpPdzjL8+0C
IQCmxSxDleF2HflpI3L7+TxKwq+WXNdGcDcmWKDVSBJEAg==
-----END CERTIFICATE-----
)";

constexpr std::string_view kEcKeyId =
    "d591aa6e01e57ea8b80f349dc5de8517aa7b1f12f77700d89cbdba83938c0c61";
constexpr std::string_view kRsaKeyId =
    "f0cc8033b422c2a199dcb456dde29589a9f5edd27d1c345bdf308957e957becf";

// A shared secret from Pomerium's configuration tests, and the key derived
// from it. Pomerium has no published value for this derivation; the
// expected key was computed independently of this code, with Python's
// `cryptography` package, following Pomerium's deriveSigningKey step by
// step (HKDF-SHA256, 40 bytes, d = c mod (n - 1) + 1).
constexpr std::string_view kSharedSecretBase64 = "YixWi1MYh77NMECGGIJQevoonYtVF+ZPRkQZrrmeRqM=";
constexpr std::string_view kDerivedPublicJwk =
    R"({"use":"sig","kty":"EC","kid":"ea103a19759551fb97fe16d66f7f13c609f85d5812e860f1f9a266acbc4e1c19","crv":"P-256","alg":"ES256","x":"HcUE-hW9UusbWsf8Btd9Jpb4j_DmOgjFce4hxUqy8Ds","y":"Tra5uZmuNBeeWTI2oAU3Yn38xLXDhS9vqapIvsigrEE"})";

TEST(SigningKey, DerivesPomeriumsKeyFromTheSharedSecret) {
  auto key = SigningKey::deriveFromSharedSecret(*base64Decode(kSharedSecretBase64));
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_EQ(key->keys().size(), 1u);
  EXPECT_TRUE(key->current().isPrivate());
  EXPECT_EQ(key->current().toPublicJson(), kDerivedPublicJwk);
  EXPECT_EQ(key->jwksJson(), "{\"keys\":[" + std::string(kDerivedPublicJwk) + "]}");

  // Deterministic, and a different secret gives a different key.
  auto again = SigningKey::deriveFromSharedSecret(*base64Decode(kSharedSecretBase64));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->current().keyId(), key->current().keyId());
  auto other = SigningKey::deriveFromSharedSecret(std::string(32, 'x'));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->current().keyId(), key->current().keyId());
  EXPECT_FALSE(SigningKey::deriveFromSharedSecret("").ok());
}

TEST(SigningKey, DerivedKeySignsTokensItsJwksVerifies) {
  auto key = SigningKey::deriveFromSharedSecret(*base64Decode(kSharedSecretBase64));
  ASSERT_TRUE(key.ok());
  auto token = key->sign(R"({"aud":"app.example.com","exp":4102444800})");
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto jws = Jws::parse(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->header().algorithm, JwsAlgorithm::kEs256);
  EXPECT_EQ(jws->header().key_id,
            "ea103a19759551fb97fe16d66f7f13c609f85d5812e860f1f9a266acbc4e1c19");
  EXPECT_EQ(jws->header().type, "JWT");
  auto published = Jwks::parse(key->jwksJson());
  ASSERT_TRUE(published.ok());
  EXPECT_TRUE(jws->verify(*published).ok());
}

TEST(SigningKey, ReadsPemAndBase64OfPem) {
  const std::string text = pem(kPomeriumEcKeyBase64);
  for (const std::string& input :
       {text, std::string(kPomeriumEcKeyBase64),
        "\n  " + std::string(kPomeriumEcKeyBase64) + "\n\t\t",
        base64Encode(text).insert(40, "\n").insert(10, "\r\n"), std::string(kPomeriumEcKeyPkcs8)}) {
    auto key = SigningKey::fromPem(input);
    ASSERT_TRUE(key.ok()) << key.error().message;
    ASSERT_EQ(key->keys().size(), 1u);
    EXPECT_EQ(key->current().keyId(), kEcKeyId);
    EXPECT_EQ(key->current().toPublicJson(), kPomeriumEcPublicJwk);
  }
}

TEST(SigningKey, SeveralBlocksRotate) {
  const std::string both = pem(kPomeriumRsaKeyBase64) + "\n" + pem(kPomeriumEcKeyBase64);
  auto key = SigningKey::fromPem(base64Encode(both));
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_EQ(key->keys().size(), 2u);
  EXPECT_EQ(key->current().keyId(), kRsaKeyId);
  EXPECT_EQ(key->keys()[1].keyId(), kEcKeyId);
  EXPECT_EQ(key->jwksJson(), "{\"keys\":[" + std::string(kPomeriumRsaPublicJwk) + "," +
                                 std::string(kPomeriumEcPublicJwk) + "]}");

  // RSA signs with RS256; a token from the old (EC) key still verifies
  // against the published set.
  auto token = key->sign("{}");
  ASSERT_TRUE(token.ok());
  auto jws = Jws::parse(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->header().algorithm, JwsAlgorithm::kRs256);
  auto published = Jwks::parse(key->jwksJson());
  ASSERT_TRUE(published.ok());
  EXPECT_TRUE(jws->verify(*published).ok());
  auto old_key = SigningKey::fromPem(pem(kPomeriumEcKeyBase64));
  ASSERT_TRUE(old_key.ok());
  auto old_token = Jws::parse(*old_key->sign("{}"));
  ASSERT_TRUE(old_token.ok());
  EXPECT_TRUE(old_token->verify(*published).ok());
}

TEST(SigningKey, SkipsEcParameters) {
  auto key = SigningKey::fromPem(kEcParamsThenKey);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_EQ(key->keys().size(), 1u);
  EXPECT_EQ(key->current().keyId(), kEcParamsKeyId);
}

TEST(SigningKey, RefusesWhatCannotSign) {
  auto refused = [](std::string_view text) {
    auto key = SigningKey::fromPem(text);
    return !key.ok() && key.error().code == ErrorCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("   "));
  EXPECT_TRUE(refused("not base64 !"));
  EXPECT_TRUE(refused(base64Encode("no pem here")));
  EXPECT_TRUE(refused(pem(kPomeriumEd25519KeyBase64)));
  EXPECT_TRUE(refused(kCertificate));
  EXPECT_TRUE(refused(std::string(kCertificate) + pem(kPomeriumEcKeyBase64)));
  EXPECT_TRUE(refused(R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAIOKL8o2GCYRLI46lm
rqpwiCKTPNLi7RCO4IaRpWqd/t70Gp1qpz+qtQnFXK1yqd6hZANiAASKV6XwZuiK
9VGtZYQgODBDNZfrnipM4ZcH1i8BNUeobIABPf/YtEKttz/4cWhWQN+U77kBLVW4
cDU0epk50Ac668iMcdFFY/uzITymx6cl8k3sApkxyxILSj2mYZb1jpw=
-----END PRIVATE KEY-----
)"));  // P-384
  EXPECT_TRUE(refused(R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBAxCPbQSPu9srii7MG8
F5IPAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQtFLAnqk6AIjtwV5w
Xro8uwRAsJXQC40d2BDd8dLAgS3VNVvjRoXvYiHDFqFyyWFb+CAK0rTcbH3UUkHN
YlhO47HdLAQBWx7jXYrd4HhV2hvklQ==
-----END ENCRYPTED PRIVATE KEY-----
)"));
  EXPECT_TRUE(refused(R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoLZD26lGXDHQBhafGelEfD7e6f3i
DcYROV7TlYHtqucPE/hHwgfaMcqAPFlFjnyJrIraa1eClYE2zRKSBNd5pQ==
-----END PUBLIC KEY-----
)"));
  // The message names the block.
  auto key = SigningKey::fromPem(std::string(kCertificate));
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("PEM block 1 (CERTIFICATE)"), std::string::npos)
      << key.error().message;
}

}  // namespace
}  // namespace gatehouse::crypto

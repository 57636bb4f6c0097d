#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/base64.h"
#include "unit/crypto/test_util.h"

namespace gatehouse::crypto {
namespace {

using testing::fromHex;
using testing::toHex;

template <size_t N>
std::array<uint8_t, N> arrayFromHex(std::string_view hex) {
  const std::string bytes = fromHex(hex);
  std::array<uint8_t, N> out{};
  std::memcpy(out.data(), bytes.data(), N);
  return out;
}

Aead xchacha(std::string_view key) {
  auto aead = Aead::create(AeadAlgorithm::kXChaCha20Poly1305, key);
  EXPECT_TRUE(aead.ok());
  return *aead;
}

// draft-irtf-cfrg-xchacha-03 section 2.2.1.
TEST(HChaCha20, MatchesDraftVector) {
  const auto subkey = hChaCha20(
      arrayFromHex<32>("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
      arrayFromHex<16>("000000090000004a0000000031415927"));
  EXPECT_EQ(toHex(std::string_view(reinterpret_cast<const char*>(subkey.data()), subkey.size())),
            "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
}

constexpr std::string_view kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";
constexpr std::string_view kDraftCiphertext =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e";
constexpr std::string_view kDraftTag = "c0875924c1c7987947deafd8780acf49";

// draft-irtf-cfrg-xchacha-03 appendix A.3.1.
TEST(XChaCha20Poly1305, MatchesDraftVector) {
  const Aead aead =
      xchacha(fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
  const std::string nonce = fromHex("404142434445464748494a4b4c4d4e4f5051525354555657");
  const std::string ad = fromHex("50515253c0c1c2c3c4c5c6c7");
  auto sealed = aead.sealWithNonce(nonce, kSunscreen, ad);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(toHex(*sealed), std::string(kDraftCiphertext) + std::string(kDraftTag));

  auto opened = aead.openWithNonce(nonce, *sealed, ad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, kSunscreen);

  // The same vector in Pomerium's layout: ciphertext || tag || nonce.
  auto pomerium_layout = aead.open(*sealed + nonce, ad);
  ASSERT_TRUE(pomerium_layout.ok());
  EXPECT_EQ(*pomerium_layout, kSunscreen);
}

TEST(XChaCha20Poly1305, SealUsesPomeriumLayout) {
  const Aead aead = xchacha(std::string(32, 'k'));
  auto sealed = aead.seal("hello", "ad");
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 5u + Aead::kTagSize + 24u);
  // The trailing 24 bytes are the nonce that sealWithNonce would use.
  const std::string nonce = sealed->substr(sealed->size() - 24);
  auto again = aead.sealWithNonce(nonce, "hello", "ad");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again + nonce, *sealed);
  // Fresh nonce every time.
  EXPECT_NE(*aead.seal("hello", "ad"), *sealed);
}

TEST(XChaCha20Poly1305, RoundTripsEmptyAndLargeValues) {
  const Aead aead = xchacha(std::string(32, '\x01'));
  for (const std::string& plaintext :
       {std::string(), std::string(1, 'x'), std::string(100000, 'y')}) {
    auto sealed = aead.seal(plaintext);
    ASSERT_TRUE(sealed.ok());
    auto opened = aead.open(*sealed);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(XChaCha20Poly1305, RejectsEveryTamperedByte) {
  const Aead aead = xchacha(std::string(32, 'k'));
  const std::string sealed = *aead.seal("attack at dawn", "context");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto opened = aead.open(tampered, "context");
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST(XChaCha20Poly1305, RejectsWrongKeyAndWrongAdditionalData) {
  const Aead aead = xchacha(std::string(32, 'k'));
  const std::string sealed = *aead.seal("secret", "csrf|1700000000|");
  EXPECT_TRUE(aead.open(sealed, "csrf|1700000000|").ok());
  EXPECT_FALSE(aead.open(sealed, "csrf|1700000001|").ok());
  EXPECT_FALSE(aead.open(sealed, "").ok());
  EXPECT_FALSE(xchacha(std::string(32, 'K')).open(sealed, "csrf|1700000000|").ok());
}

TEST(XChaCha20Poly1305, RejectsShortInput) {
  const Aead aead = xchacha(std::string(32, 'k'));
  // Pomerium: more than a nonce is required ("oh" fails, as in its tests).
  EXPECT_FALSE(aead.open("oh").ok());
  EXPECT_FALSE(aead.open(std::string(24, '\0')).ok());
  EXPECT_FALSE(aead.open(std::string(25, '\0')).ok());
  EXPECT_FALSE(aead.open(std::string(24 + 15, '\0')).ok());
  EXPECT_FALSE(aead.open(std::string(24 + 16, '\0')).ok());
}

TEST(XChaCha20Poly1305, KeyMustBe32Bytes) {
  EXPECT_FALSE(Aead::create(AeadAlgorithm::kXChaCha20Poly1305, "what is entropy").ok());
  EXPECT_FALSE(Aead::create(AeadAlgorithm::kXChaCha20Poly1305, std::string(33, 'k')).ok());
  EXPECT_FALSE(Aead::create(AeadAlgorithm::kAes256Gcm, std::string(16, 'k')).ok());
}

TEST(XChaCha20Poly1305, Base64UrlFormIsPaddedLikeGo) {
  const Aead aead = xchacha(std::string(32, 'k'));
  // 1 + 16 + 24 = 41 bytes: base64 with one '=' of padding.
  auto text = aead.sealBase64Url("x");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 56u);
  EXPECT_EQ(text->back(), '=');
  EXPECT_EQ(text->find_first_of("+/"), std::string::npos);
  auto opened = aead.openBase64Url(*text);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "x");
  // Without its padding too.
  EXPECT_TRUE(aead.openBase64Url(text->substr(0, text->size() - 1)).ok());
  // Not the standard alphabet, not garbage.
  EXPECT_FALSE(aead.openBase64Url("!!!!").ok());
  EXPECT_FALSE(aead.openBase64Url("").ok());
}

// Test case 16 of McGrew and Viega's GCM specification (256-bit key, 96-bit
// IV, with additional data).
TEST(Aes256Gcm, MatchesGcmSpecTestCase16) {
  auto aead =
      Aead::create(AeadAlgorithm::kAes256Gcm,
                   fromHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  ASSERT_TRUE(aead.ok());
  const std::string plaintext = fromHex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const std::string ad = fromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string nonce = fromHex("cafebabefacedbaddecaf888");
  auto sealed = aead->sealWithNonce(nonce, plaintext, ad);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(toHex(*sealed),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
            "76fc6ece0f4e1768cddf8853bb2d551b");
  auto opened = aead->openWithNonce(nonce, *sealed, ad);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, plaintext);
}

TEST(Aes256Gcm, RoundTripsAndRejectsTampering) {
  auto aead = Aead::create(AeadAlgorithm::kAes256Gcm, std::string(32, 'g'));
  ASSERT_TRUE(aead.ok());
  const std::string sealed = *aead->seal("payload", "ad");
  EXPECT_EQ(sealed.size(), 7u + 16u + 12u);
  EXPECT_EQ(*aead->open(sealed, "ad"), "payload");
  std::string tampered = sealed;
  tampered[0] = static_cast<char>(tampered[0] ^ 0x80);
  EXPECT_FALSE(aead->open(tampered, "ad").ok());
  // A value sealed by one algorithm does not open under the other.
  EXPECT_FALSE(xchacha(std::string(32, 'g')).open(sealed, "ad").ok());
}

}  // namespace
}  // namespace gatehouse::crypto

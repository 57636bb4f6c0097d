#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include "unit/crypto/test_util.h"

namespace gatehouse::crypto {
namespace {

using testing::fromHex;
using testing::toHex;

// RFC 4231 test cases 1 and 2.
TEST(Hmac, Sha256MatchesRfc4231) {
  EXPECT_EQ(toHex(hmac(HmacHash::kSha256, fromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                       "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(toHex(hmac(HmacHash::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The vectors of Pomerium's pkg/cryptutil/hmac_test.go (its GenerateHMAC is
// HMAC-SHA-512/256; the key there is zero-padded to 32 bytes, which HMAC's
// own zero padding makes equivalent).
TEST(Hmac, Sha512Slash256MatchesPomeriumVectors) {
  const std::string key1 =
      fromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b") + std::string(12, '\0');
  EXPECT_EQ(toHex(hmac(HmacHash::kSha512_256, key1, "Hi There")),
            "9f9126c3d9c3c330d760425ca8a217e31feae31bfe70196ff81642b868402eab");
  EXPECT_EQ(toHex(hmac(HmacHash::kSha512_256, "Jefe", "what do ya want for nothing?")),
            "6df7b24630d5ccb2ee335407081a87188c221489768fa2020513b2d593359456");
}

TEST(Hmac, EmptyKeyAndDataAreAllowed) {
  // RFC 2104 pads a short key with zeros, so the empty key equals 32 zeros.
  EXPECT_EQ(hmac(HmacHash::kSha256, "", ""), hmac(HmacHash::kSha256, std::string(32, '\0'), ""));
  EXPECT_EQ(hmac(HmacHash::kSha256, "", "").size(), 32u);
}

TEST(Hmac, VerifyAcceptsOnlyTheExactMac) {
  const std::string mac = hmac(HmacHash::kSha512_256, "key", "message");
  EXPECT_TRUE(verifyHmac(HmacHash::kSha512_256, "key", "message", mac));
  EXPECT_FALSE(verifyHmac(HmacHash::kSha512_256, "key", "message!", mac));
  EXPECT_FALSE(verifyHmac(HmacHash::kSha512_256, "other", "message", mac));
  EXPECT_FALSE(verifyHmac(HmacHash::kSha256, "key", "message", mac));
  EXPECT_FALSE(verifyHmac(HmacHash::kSha512_256, "key", "message", mac.substr(0, 31)));
  EXPECT_FALSE(verifyHmac(HmacHash::kSha512_256, "key", "message", ""));
  std::string flipped = mac;
  flipped[31] = static_cast<char>(flipped[31] ^ 1);
  EXPECT_FALSE(verifyHmac(HmacHash::kSha512_256, "key", "message", flipped));
}

TEST(Hmac, ConstantTimeEquals) {
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
  EXPECT_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace gatehouse::crypto

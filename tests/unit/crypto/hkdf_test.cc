#include "crypto/hkdf.h"

#include <gtest/gtest.h>

#include "unit/crypto/test_util.h"

namespace gatehouse::crypto {
namespace {

using testing::fromHex;
using testing::toHex;

// RFC 5869 appendix A.1.
TEST(Hkdf, MatchesRfc5869Case1) {
  auto okm = hkdfSha256(fromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                        fromHex("000102030405060708090a0b0c"), fromHex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.error().message;
  EXPECT_EQ(toHex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 appendix A.3: no salt and no info, the way Pomerium calls it
// with a nil salt.
TEST(Hkdf, MatchesRfc5869Case3WithoutSaltOrInfo) {
  auto okm = hkdfSha256(fromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), "", "", 42);
  ASSERT_TRUE(okm.ok()) << okm.error().message;
  EXPECT_EQ(toHex(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, EmptySaltEqualsZeroSalt) {
  auto a = hkdfSha256("secret", "", "info", 40);
  auto b = hkdfSha256("secret", std::string(32, '\0'), "info", 40);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(Hkdf, RefusesLengthsOutsideTheRfc) {
  EXPECT_FALSE(hkdfSha256("secret", "", "", 0).ok());
  EXPECT_FALSE(hkdfSha256("secret", "", "", 255 * 32 + 1).ok());
  auto longest = hkdfSha256("secret", "", "", 255 * 32);
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), 255u * 32);
}

}  // namespace
}  // namespace gatehouse::crypto

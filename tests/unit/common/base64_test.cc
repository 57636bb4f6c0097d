#include "common/base64.h"

#include <gtest/gtest.h>

namespace gatehouse {
namespace {

TEST(Base64, RoundTripsBothAlphabets) {
  std::string data("\xfb\xff\x00hello", 8);
  EXPECT_EQ(base64Decode(base64Encode(data)), data);
  EXPECT_EQ(base64Decode(base64UrlEncode(data)), data);
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_EQ(base64UrlEncode("ab"), "YWI");
}

TEST(Base64, RefusesGarbageAndWhitespace) {
  EXPECT_FALSE(base64Decode("YW I="));
  EXPECT_FALSE(base64Decode("Y"));
  EXPECT_FALSE(base64Decode("YW\nI="));
  EXPECT_FALSE(base64Decode("!!!!"));
}

}  // namespace
}  // namespace gatehouse

#include "common/strings.h"

#include <gtest/gtest.h>

namespace gatehouse {
namespace {

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percentEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(percentEncode("a/b?c=d&e#f%", false), "a%2Fb%3Fc%3Dd%26e%23f%25");
  EXPECT_EQ(percentEncode(std::string_view("\x00\x7f\xff", 3), false), "%00%7F%FF");
  EXPECT_EQ(percentEncode("", true), "");
}

TEST(PercentEncode, SpaceAsPlusOnlyWhenAsked) {
  // application/x-www-form-urlencoded (Go's url.QueryEscape) against a
  // URL component.
  EXPECT_EQ(percentEncode("a b+c", true), "a+b%2Bc");
  EXPECT_EQ(percentEncode("a b+c", false), "a%20b%2Bc");
}

}  // namespace
}  // namespace gatehouse

#include "policy/ip_address.h"

#include <gtest/gtest.h>

namespace gatehouse::policy {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family(), IpAddress::Family::kV4);
  EXPECT_EQ(v4->toString(), "192.0.2.1");
  auto v6 = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family(), IpAddress::Family::kV6);
  EXPECT_EQ(v6->toString(), "2001:db8::1");
  auto mapped = IpAddress::parse("::ffff:192.0.2.1");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->family(), IpAddress::Family::kV4);
  EXPECT_EQ(*mapped, *v4);
}

TEST(IpAddress, RejectsJunk) {
  for (const char* text : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/8", "[::1]", "::1%eth0",
                           "example.com", " 1.2.3.4", "01.2.3.4x"}) {
    EXPECT_FALSE(IpAddress::parse(text)) << text;
  }
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

TEST(IpRange, Contains) {
  auto range = IpRange::parse("192.168.1.1/24");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->network().toString(), "192.168.1.0");
  EXPECT_EQ(range->prefixLength(), 24);
  EXPECT_TRUE(range->contains(*IpAddress::parse("192.168.1.255")));
  EXPECT_FALSE(range->contains(*IpAddress::parse("192.168.2.0")));
  EXPECT_FALSE(range->contains(*IpAddress::parse("::ffff:c0a8:0201")));  // 192.168.2.1
  EXPECT_TRUE(range->contains(*IpAddress::parse("::ffff:192.168.1.7")));
  auto host = IpRange::parse("10.1.2.3");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefixLength(), 32);
  auto odd = IpRange::parse("10.0.0.0/9");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*IpAddress::parse("10.127.255.255")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("10.128.0.0")));
  auto mapped = IpRange::parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->prefixLength(), 8);
  EXPECT_TRUE(mapped->contains(*IpAddress::parse("10.9.9.9")));
}

TEST(IpRange, RejectsJunk) {
  for (const char* text : {"10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "::/129",
                           "10.0.0.0/ 8", "10.0.0.0/1000", "x/8", "::ffff:10.0.0.0/95"}) {
    EXPECT_FALSE(IpRange::parse(text)) << text;
  }
}

}  // namespace
}  // namespace gatehouse::policy

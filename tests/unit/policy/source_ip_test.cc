#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision decide(std::string_view data, std::string ip) {
  Policy policy = compileOk("allow:\n  and:\n    - source_ip: " + std::string(data) + "\n");
  Request r;
  r.source_ip = std::move(ip);
  return policy.evaluate(r.input());
}

// Pomerium's source_ip_test.go cases.
TEST(SourceIpCriterion, PomeriumCases) {
  struct Case {
    std::string data;
    std::string ip;
    bool allowed;
  };
  const Case cases[] = {
      {"'1.2.3.4'", "1.2.3.4", true},
      {"'1.2.3.4'", "1.2.3.5", false},
      {"'192.168.1.1/24'", "192.168.1.200", true},
      {"'192.168.1.1/24'", "192.168.2.1", false},
      {"'2001:db8::1'", "2001:db8::1", true},
      {"'2001:db8::1'", "2001:db8::2", false},
      {"'2001:db8::/32'", "2001:db8:1:2:3:4:5:6", true},
      {"'2001:db8::/32'", "2001:ffff:1:2:3:4:5:6", false},
      {"['10.0.0.1', '10.0.0.2', '10.0.0.3']", "10.0.0.2", true},
      {"['10.0.0.1', '10.0.0.2', '10.0.0.3']", "10.0.0.4", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.data + " vs " + c.ip);
    Decision d = decide(c.data, c.ip);
    EXPECT_EQ(d.allowed(), c.allowed);
    EXPECT_EQ(names(d.allow_reasons), Names{c.allowed ? "source-ip-ok" : "source-ip-unauthorized"});
  }
}

TEST(SourceIpCriterion, FamiliesAndEdges) {
  EXPECT_TRUE(decide("10.0.0.0/8", "10.255.255.255").allowed());
  EXPECT_FALSE(decide("10.0.0.0/8", "11.0.0.0").allowed());
  EXPECT_TRUE(decide("0.0.0.0/0", "203.0.113.9").allowed());
  EXPECT_FALSE(decide("0.0.0.0/0", "2001:db8::1").allowed());  // v4 range, v6 address
  EXPECT_TRUE(decide("'::/0'", "2001:db8::1").allowed());
  EXPECT_TRUE(decide("10.0.0.0/8", "::ffff:10.1.2.3").allowed());  // v4-mapped
  EXPECT_TRUE(decide("'192.168.1.128/25'", "192.168.1.200").allowed());
  EXPECT_FALSE(decide("'192.168.1.128/25'", "192.168.1.100").allowed());
  EXPECT_TRUE(decide("'2001:db8::/127'", "2001:db8::1").allowed());
  EXPECT_FALSE(decide("'2001:db8::/127'", "2001:db8::2").allowed());
}

TEST(SourceIpCriterion, UnknownSourceNeverMatches) {
  Decision d = decide("0.0.0.0/0", "");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"source-ip-unauthorized"});
}

TEST(SourceIpCriterion, InvalidData) {
  EXPECT_THAT(compileError("allow:\n  and:\n    - source_ip: not-an-ip-address\n"),
              ::testing::HasSubstr("expected IP or CIDR range, got: \"not-an-ip-address\""));
  EXPECT_THAT(compileError("allow:\n  and:\n    - source_ip: {key: value}\n"),
              ::testing::HasSubstr("expected string or array of strings"));
  EXPECT_THAT(compileError("allow:\n  and:\n    - source_ip: [{key: value}]\n"),
              ::testing::HasSubstr("expected string value"));
  EXPECT_THAT(compileError("allow:\n  and:\n    - source_ip: 10.0.0.0/33\n"),
              ::testing::HasSubstr("expected IP or CIDR range"));
  EXPECT_THAT(compileError("allow:\n  and:\n    - source_ip: '10.0.0.0/'\n"),
              ::testing::HasSubstr("expected IP or CIDR range"));
}

TEST(SourceIpCriterion, AnAddressGivenAsTextIsDecidedAsTheParsedOne) {
  // What the authorize service passes: the client's address as text,
  // parsed only when the criterion asks for it.
  Policy policy = compileOk("allow:\n  and:\n    - source_ip: [10.0.0.0/8, '2001:db8::/32']\n");
  for (const char* text : {"10.1.2.3", "11.1.2.3", "2001:db8::7", "2001:db9::7", "", "bad"}) {
    SCOPED_TRACE(text);
    Input parsed;
    parsed.request.source_ip = IpAddress::parse(text);
    Input lazy;
    lazy.request.source_ip = SourceAddress::fromText(text);
    EXPECT_EQ(policy.evaluate(lazy).allowed(), policy.evaluate(parsed).allowed());
    EXPECT_EQ(lazy.request.source_ip.get().has_value(), IpAddress::parse(text).has_value());
  }
  EXPECT_TRUE(policy
                  .evaluate([] {
                    Input in;
                    in.request.source_ip = SourceAddress::fromText("10.9.9.9");
                    return in;
                  }())
                  .allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

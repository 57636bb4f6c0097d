#include "authorize/claim_headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairsOf(const ClaimHeaders& headers) {
  Pairs out;
  for (const auto& entry : headers.entries()) out.emplace_back(entry.header, entry.claim);
  return out;
}

TEST(ClaimHeaders, DefaultHeaderNames) {
  EXPECT_EQ(ClaimHeaders::defaultHeaderName("email"), "X-Pomerium-Claim-Email");
  EXPECT_EQ(ClaimHeaders::defaultHeaderName("family_name"), "X-Pomerium-Claim-Family_name");
  EXPECT_EQ(ClaimHeaders::defaultHeaderName("GROUPS"), "X-Pomerium-Claim-Groups");
  EXPECT_EQ(ClaimHeaders::canonicalHeaderName("x-custom-EMAIL"), "X-Custom-Email");
  EXPECT_EQ(ClaimHeaders::canonicalHeaderName("bad header"), "bad header");
}

TEST(ClaimHeaders, ListShape) {
  auto parsed = ClaimHeaders::parse(R"(["email", "groups"])");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(pairsOf(*parsed),
            (Pairs{{"X-Pomerium-Claim-Email", "email"}, {"X-Pomerium-Claim-Groups", "groups"}}));
}

TEST(ClaimHeaders, StringShapeSplitsOnCommasAndSpaces) {
  auto parsed = ClaimHeaders::parse("email, groups  name,,user");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(pairsOf(*parsed), (Pairs{{"X-Pomerium-Claim-Email", "email"},
                                     {"X-Pomerium-Claim-Groups", "groups"},
                                     {"X-Pomerium-Claim-Name", "name"},
                                     {"X-Pomerium-Claim-User", "user"}}));
  EXPECT_TRUE(ClaimHeaders::parse("")->empty());
}

TEST(ClaimHeaders, MapShape) {
  auto parsed = ClaimHeaders::parse(R"({"x-email": "email", "X-Dept": "department"})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(pairsOf(*parsed), (Pairs{{"X-Dept", "department"}, {"X-Email", "email"}}));
  EXPECT_FALSE(ClaimHeaders::parse(R"({"x": {"nested": 1}})"));
  EXPECT_FALSE(ClaimHeaders::parse(R"({"x": )"));
}

TEST(ClaimHeaders, FromPairsCanonicalisesAndLaterWins) {
  ClaimHeaders headers(Pairs{{"x-a", "email"}, {"X-A", "name"}, {"", "x"}, {"x-b", ""}});
  EXPECT_EQ(pairsOf(headers), (Pairs{{"X-A", "name"}}));
}

TEST(ClaimHeaders, ClaimNamesAreDistinct) {
  ClaimHeaders headers(Pairs{{"x-a", "email"}, {"x-b", "email"}, {"x-c", "dept"}});
  EXPECT_EQ(headers.claimNames(), (std::vector<std::string>{"email", "dept"}));
}

TEST(ClaimHeaders, RendersFromTheJwtClaims) {
  auto headers = ClaimHeaders::parse(R"({"X-Email":"email","X-Groups":"groups","X-Iat":"iat",)"
                                     R"("X-Dept":"department","X-Missing":"missing"})");
  ASSERT_TRUE(headers);
  testing::User user;
  user.groups = {"a", "b"};
  user.claims = {{"department", {"R&D", "Ops"}}};
  Identity identity = user.identity();
  std::vector<std::string> extra = {"department", "missing"};
  IdentityClaims claims(
      identity, {.issuer = "h", .audience = "h", .jti = "j", .issued_at = 5, .expires_at = 305},
      extra);
  OutputHeaders out;
  headers->render(claims, out);
  EXPECT_EQ(out, (OutputHeaders{{"X-Dept", "R&D,Ops"},
                                {"X-Email", "alice@example.com"},
                                {"X-Groups", "a,b"},
                                {"X-Iat", "5"},
                                {"X-Missing", ""}}));
}

}  // namespace
}  // namespace gatehouse::authorize

#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Request withClaims(nlohmann::json claims) {
  Request r = Request::user("a@example.com");
  r.claims = std::move(claims);
  return r;
}

Decision decide(std::string_view criterion, nlohmann::json claims) {
  Policy policy = compileOk("allow:\n  and:\n    - " + std::string(criterion) + "\n");
  Request r = withClaims(std::move(claims));
  return policy.evaluate(r.input());
}

TEST(ClaimCriterion, ListClaimAsPomeriumStoresThem) {
  Decision d = decide("claim/family_name: Smith", {{"family_name", {"Smith"}}});
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"claim-ok"});
}

TEST(ClaimCriterion, ScalarClaimCountsAsListOfOne) {
  EXPECT_TRUE(decide("claim/family_name: Smith", {{"family_name", "Smith"}}).allowed());
  EXPECT_TRUE(decide("'claim/family_name': {is: Smith}", {{"family_name", "Smith"}}).allowed());
}

TEST(ClaimCriterion, NoSuchClaim) {
  Decision d = decide("claim/family_name: Smith", {{"given_name", {"John"}}});
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"claim-unauthorized"});
  Decision none = decide("claim/family_name: {has: Smith}", nullptr);
  EXPECT_EQ(names(none.allow_reasons), Names{"claim-unauthorized"});
}

TEST(ClaimCriterion, NoSessionAsksToSignIn) {
  Policy policy = compileOk("allow:\n  and:\n    - claim/groups: {exclude: banned}\n");
  Request anonymous;
  Decision d = policy.evaluate(anonymous.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthenticated"});
}

TEST(ClaimCriterion, ListMatcherOperators) {
  nlohmann::json groups = {{"groups", {"admins", "devs"}}};
  EXPECT_TRUE(decide("claim/groups: admins", groups).allowed());
  EXPECT_TRUE(decide("claim/groups: {has: devs}", groups).allowed());
  EXPECT_FALSE(decide("claim/groups: {has: ops}", groups).allowed());
  // is: exactly one element, equal to the value.
  EXPECT_FALSE(decide("claim/groups: {is: admins}", groups).allowed());
  EXPECT_TRUE(decide("claim/groups: {is: admins}", {{"groups", {"admins"}}}).allowed());
  EXPECT_FALSE(decide("claim/groups: {exclude: admins}", groups).allowed());
  EXPECT_TRUE(decide("claim/groups: {exclude: ops}", groups).allowed());
  EXPECT_TRUE(decide("claim/groups: {exclude: ops}", {{"other", 1}}).allowed());
  EXPECT_TRUE(decide("claim/groups: {has: admins, exclude: ops}", groups).allowed());
  EXPECT_FALSE(decide("claim/groups: {has: admins, exclude: devs}", groups).allowed());
}

TEST(ClaimCriterion, NonStringValuesCompareAsJson) {
  EXPECT_TRUE(decide("claim/email_verified: true", {{"email_verified", true}}).allowed());
  EXPECT_FALSE(decide("claim/email_verified: true", {{"email_verified", "true"}}).allowed());
  EXPECT_TRUE(decide("claim/level: 3", {{"level", {3}}}).allowed());
  EXPECT_TRUE(decide("claim/level: 3", {{"level", 3.0}}).allowed());
  EXPECT_FALSE(decide("claim/level: 3", {{"level", "3"}}).allowed());
}

TEST(ClaimCriterion, KeyWithSlashIsTriedWholeFirst) {
  // Pomerium's "special keys" case.
  Decision d = decide("claim/example.com/key: value", {{"example.com/key", {"value"}}});
  EXPECT_TRUE(d.allowed());
}

TEST(ClaimCriterion, NestedPaths) {
  nlohmann::json claims = {{"address", {{"country", "FR"}, {"geo", {{"city", "Paris"}}}}}};
  EXPECT_TRUE(decide("claim/address/country: FR", claims).allowed());
  EXPECT_TRUE(decide("claim/address.country: FR", claims).allowed());
  EXPECT_TRUE(decide("claim/address/geo/city: Paris", claims).allowed());
  EXPECT_FALSE(decide("claim/address/geo/city: Lyon", claims).allowed());
  EXPECT_FALSE(decide("claim/address/missing/city: Paris", claims).allowed());
  // Pomerium keeps each claim as a list: a list holding one object is
  // stepped through.
  nlohmann::json listed = {{"address", {{{"country", "DE"}}}}};
  EXPECT_TRUE(decide("claim/address/country: DE", listed).allowed());
  // At most five levels, as Pomerium's object_get.
  nlohmann::json deep = {{"a", {{"b", {{"c", {{"d", {{"e", "x"}}}}}}}}}};
  EXPECT_TRUE(decide("claim/a/b/c/d/e: x", deep).allowed());
  nlohmann::json deeper = {{"a", {{"b", {{"c", {{"d", {{"e", {{"f", "x"}}}}}}}}}}}};
  EXPECT_FALSE(decide("claim/a/b/c/d/e/f: x", deeper).allowed());
}

TEST(ClaimCriterion, NeedsAName) {
  EXPECT_THAT(compileError("allow:\n  and:\n    - claim: x\n"),
              ::testing::HasSubstr("criterion \"claim\" needs the claim's name"));
}

}  // namespace
}  // namespace gatehouse::policy::testing

#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision decide(std::string_view matcher, std::vector<std::string> groups) {
  Policy policy = compileOk("allow:\n  and:\n    - groups: " + std::string(matcher) + "\n");
  Request r = Request::user("a@example.com");
  r.groups = std::move(groups);
  return policy.evaluate(r.input());
}

TEST(GroupsCriterion, Has) {
  Decision yes = decide("{has: admins}", {"devs", "admins"});
  EXPECT_TRUE(yes.allowed());
  EXPECT_EQ(names(yes.allow_reasons), Names{"groups-ok"});
  Decision no = decide("{has: admins}", {"devs"});
  EXPECT_FALSE(no.allowed());
  EXPECT_EQ(names(no.allow_reasons), Names{"groups-unauthorized"});
  EXPECT_FALSE(decide("admins", {}).allowed());
  EXPECT_TRUE(decide("admins", {"admins"}).allowed());  // bare scalar = has
}

TEST(GroupsCriterion, IsAndExclude) {
  EXPECT_TRUE(decide("{is: admins}", {"admins"}).allowed());
  EXPECT_FALSE(decide("{is: admins}", {"admins", "devs"}).allowed());
  EXPECT_TRUE(decide("{exclude: contractors}", {"admins"}).allowed());
  EXPECT_TRUE(decide("{exclude: contractors}", {}).allowed());
  EXPECT_FALSE(decide("{exclude: contractors}", {"admins", "contractors"}).allowed());
}

TEST(GroupsCriterion, NumberNeverEqualsAGroupName) {
  EXPECT_FALSE(decide("{has: 42}", {"42"}).allowed());
}

TEST(GroupsCriterion, NoSessionAsksToSignIn) {
  Policy policy = compileOk("allow:\n  and:\n    - groups: {exclude: banned}\n");
  Request r;
  EXPECT_EQ(names(policy.evaluate(r.input()).allow_reasons), Names{"user-unauthenticated"});
}

}  // namespace
}  // namespace gatehouse::policy::testing

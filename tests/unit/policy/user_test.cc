#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

TEST(UserCriterion, MatchesTheUserId) {
  Policy policy = compileOk("allow:\n  and:\n    - user: {is: 'google-oauth2|1234'}\n");
  Request yes = Request::user("a@example.com", "google-oauth2|1234");
  Request no = Request::user("a@example.com", "google-oauth2|9999");
  Decision dy = policy.evaluate(yes.input());
  Decision dn = policy.evaluate(no.input());
  EXPECT_TRUE(dy.allowed());
  EXPECT_EQ(names(dy.allow_reasons), Names{"user-ok"});
  EXPECT_FALSE(dn.allowed());
  EXPECT_EQ(names(dn.allow_reasons), Names{"user-unauthorized"});
}

TEST(UserCriterion, NotTheEmail) {
  Policy policy = compileOk("allow:\n  and:\n    - user: a@example.com\n");
  Request r = Request::user("a@example.com", "some-id");
  EXPECT_FALSE(policy.evaluate(r.input()).allowed());
}

TEST(UserCriterion, EmptyUserIdNeverMatches) {
  Policy policy = compileOk("allow:\n  and:\n    - user: {not: someone}\n");
  Request r = Request::user("a@example.com", "");
  Decision d = policy.evaluate(r.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthorized"});
}

TEST(UserCriterion, NoSessionAsksToSignIn) {
  Policy policy = compileOk("allow:\n  and:\n    - user: someone\n");
  Request r;
  EXPECT_EQ(names(policy.evaluate(r.input()).allow_reasons), Names{"user-unauthenticated"});
}

TEST(UserCriterion, NumericIdMustBeQuoted) {
  EXPECT_THAT(compileError("allow:\n  and:\n    - user: 12345\n"),
              ::testing::HasSubstr("quote it to match it as text"));
  Policy policy = compileOk("allow:\n  and:\n    - user: '12345'\n");
  Request r = Request::user("a@example.com", "12345");
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

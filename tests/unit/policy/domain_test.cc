#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

TEST(DomainCriterion, MatchesThePartAfterTheAt) {
  Policy policy = compileOk("allow:\n  and:\n    - domain: {is: example.com}\n");
  Request yes = Request::user("alice@example.com");
  Request no = Request::user("alice@example.com.evil.org");
  Decision dy = policy.evaluate(yes.input());
  Decision dn = policy.evaluate(no.input());
  EXPECT_TRUE(dy.allowed());
  EXPECT_EQ(names(dy.allow_reasons), Names{"domain-ok"});
  EXPECT_FALSE(dn.allowed());
  EXPECT_EQ(names(dn.allow_reasons), Names{"domain-unauthorized"});
}

TEST(DomainCriterion, BareString) {
  Policy policy = compileOk("allow:\n  or:\n    - domain: example.com\n");
  Request r = Request::user("bob@example.com");
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

TEST(DomainCriterion, EmailWithoutAtHasNoDomain) {
  Policy policy = compileOk("allow:\n  and:\n    - domain: {not: example.com}\n");
  Request r = Request::user("not-an-email");
  Decision d = policy.evaluate(r.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"domain-unauthorized"});
}

TEST(DomainCriterion, SecondAtEndsTheDomainAsInPomerium) {
  // split("a@example.com@evil.org", "@")[1] == "example.com"
  Policy policy = compileOk("allow:\n  and:\n    - domain: example.com\n");
  Request r = Request::user("a@example.com@evil.org");
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

TEST(DomainCriterion, NoSessionAsksToSignIn) {
  Policy policy = compileOk("allow:\n  and:\n    - domain: example.com\n");
  Request r;
  EXPECT_EQ(names(policy.evaluate(r.input()).allow_reasons), Names{"user-unauthenticated"});
}

}  // namespace
}  // namespace gatehouse::policy::testing

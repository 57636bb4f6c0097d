#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

TEST(AcceptCriterion, AllowsEveryoneWithReasonAccept) {
  Policy policy = compileOk("allow:\n  and:\n    - accept: true\n");
  Request anonymous;
  Decision d = policy.evaluate(anonymous.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"accept"});
  EXPECT_EQ(names(d.deny_reasons), Names{});
}

TEST(AcceptCriterion, DataIsIgnored) {
  Policy policy = compileOk("allow:\n  or:\n    - accept: {anything: [1, 2]}\n");
  Request r;
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

TEST(AcceptCriterion, UnderDenyDeniesEveryone) {
  Policy policy =
      compileOk("- allow:\n    or: [{accept: true}]\n- deny:\n    or: [{accept: true}]\n");
  Request r = Request::user("a@example.com");
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.deny);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"accept"});
}

}  // namespace
}  // namespace gatehouse::policy::testing

// accept and reject (one test file each would hold two lines; they are
// mirror images).
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

TEST(RejectCriterion, DeniesEveryoneWithReasonReject) {
  Policy policy = compileOk("allow:\n  and:\n    - reject: true\n");
  Request user = Request::user("a@example.com");
  Decision d = policy.evaluate(user.input());
  EXPECT_FALSE(d.allow);
  EXPECT_FALSE(d.deny);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"reject"});
}

TEST(RejectCriterion, UnderDenyNeverDenies) {
  Policy policy = compileOk("- allow:\n    or: [{accept: true}]\n- deny:\n    or: [{reject: true}]\n");
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"reject"});
  EXPECT_EQ(names(d.reasons), (Names{"accept", "reject"}));
}

}  // namespace
}  // namespace gatehouse::policy::testing

#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

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
  Policy policy =
      compileOk("- allow:\n    or: [{accept: true}]\n- deny:\n    or: [{reject: true}]\n");
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"reject"});
  EXPECT_EQ(names(d.reasons), (Names{"accept", "reject"}));
}

TEST(RejectCriterion, TakesNoSubPath) {
  EXPECT_THAT(compileError("allow:\n  and:\n    - reject/x: true\n"),
              ::testing::HasSubstr("criterion \"reject\" takes no sub-path"));
}

}  // namespace
}  // namespace gatehouse::policy::testing

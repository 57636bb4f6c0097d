#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

constexpr std::string_view kPolicy = "allow:\n  and:\n    - authenticated_user: true\n";

TEST(AuthenticatedUserCriterion, SignedInUserIsAllowed) {
  Policy policy = compileOk(kPolicy);
  Request r = Request::user("a@example.com", "user-1");
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-ok"});
}

TEST(AuthenticatedUserCriterion, NoSessionAsksToSignIn) {
  Policy policy = compileOk(kPolicy);
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthenticated"});
}

TEST(AuthenticatedUserCriterion, SessionWithoutUserIdIsUnauthorized) {
  Policy policy = compileOk(kPolicy);
  Request r = Request::user("a@example.com", "");
  Decision d = policy.evaluate(r.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthorized"});
}

}  // namespace
}  // namespace gatehouse::policy::testing

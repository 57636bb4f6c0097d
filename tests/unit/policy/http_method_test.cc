#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision decide(std::string_view matcher, std::string method) {
  Policy policy = compileOk("allow:\n  and:\n    - http_method: " + std::string(matcher) + "\n");
  Request r;
  r.method = std::move(method);
  return policy.evaluate(r.input());
}

TEST(HttpMethodCriterion, Is) {
  Decision yes = decide("GET", "GET");
  EXPECT_TRUE(yes.allowed());
  EXPECT_EQ(names(yes.allow_reasons), Names{"http-method-ok"});
  Decision no = decide("{is: GET}", "POST");
  EXPECT_FALSE(no.allowed());
  EXPECT_EQ(names(no.allow_reasons), Names{"http-method-unauthorized"});
}

TEST(HttpMethodCriterion, InAndNotIn) {
  EXPECT_TRUE(decide("{in: [GET, HEAD]}", "HEAD").allowed());
  EXPECT_FALSE(decide("{in: [GET, HEAD]}", "DELETE").allowed());
  EXPECT_TRUE(decide("{not_in: [DELETE, PUT]}", "GET").allowed());
  EXPECT_FALSE(decide("{not_in: [DELETE, PUT]}", "PUT").allowed());
}

TEST(HttpMethodCriterion, NeedsNoSession) {
  Decision d = decide("GET", "GET");
  EXPECT_FALSE(d.reasons.has(Reason::kUserUnauthenticated));
}

}  // namespace
}  // namespace gatehouse::policy::testing

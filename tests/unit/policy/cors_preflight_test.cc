#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Request preflight() {
  Request r;
  r.method = "OPTIONS";
  r.headers = {{"Origin", "https://other.example.com"}, {"Access-Control-Request-Method", "PUT"}};
  return r;
}

TEST(CorsPreflightCriterion, PreflightIsAllowed) {
  Policy policy = compileOk("allow:\n  or:\n    - cors_preflight: true\n");
  Request r = preflight();
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"cors-request"});
}

TEST(CorsPreflightCriterion, HeaderNamesAreCaseInsensitive) {
  Policy policy = compileOk("allow:\n  or:\n    - cors_preflight: true\n");
  Request r = preflight();
  r.headers = {{"origin", "https://x"}, {"access-control-request-method", "GET"}};
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

TEST(CorsPreflightCriterion, NotAPreflight) {
  Policy policy = compileOk("allow:\n  or:\n    - cors_preflight: true\n");
  Request get = preflight();
  get.method = "GET";
  Request no_origin = preflight();
  no_origin.headers = {{"Access-Control-Request-Method", "PUT"}};
  Request empty_method = preflight();
  empty_method.headers = {{"Origin", "https://x"}, {"Access-Control-Request-Method", ""}};
  for (Request* r : {&get, &no_origin, &empty_method}) {
    Decision d = policy.evaluate(r->input());
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(names(d.allow_reasons), Names{"non-cors-request"});
  }
}

}  // namespace
}  // namespace gatehouse::policy::testing

#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision decide(std::string_view matcher, std::string path) {
  Policy policy = compileOk("allow:\n  and:\n    - http_path: " + std::string(matcher) + "\n");
  Request r;
  r.path = std::move(path);
  return policy.evaluate(r.input());
}

TEST(HttpPathCriterion, Matchers) {
  Decision yes = decide("{starts_with: /api/}", "/api/v1/users");
  EXPECT_TRUE(yes.allowed());
  EXPECT_EQ(names(yes.allow_reasons), Names{"http-path-ok"});
  Decision no = decide("{starts_with: /api/}", "/admin");
  EXPECT_FALSE(no.allowed());
  EXPECT_EQ(names(no.allow_reasons), Names{"http-path-unauthorized"});
  EXPECT_TRUE(decide("/health", "/health").allowed());
  EXPECT_FALSE(decide("/health", "/health/").allowed());
  EXPECT_TRUE(decide("{ends_with: .css}", "/static/site.css").allowed());
  EXPECT_TRUE(decide("{contains: /public/}", "/a/public/b").allowed());
}

TEST(HttpPathCriterion, DenyAPathForEveryone) {
  Policy policy = compileOk(
      "- allow:\n    or: [{accept: true}]\n"
      "- deny:\n    or: [{http_path: {starts_with: /admin}}]\n");
  Request admin;
  admin.path = "/admin/users";
  Request home;
  home.path = "/";
  Decision d = policy.evaluate(admin.input());
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.deny);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"http-path-ok"});
  EXPECT_TRUE(policy.evaluate(home.input()).allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

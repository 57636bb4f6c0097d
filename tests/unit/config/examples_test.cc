// The example configurations in examples/config/ (adapted from Pomerium's
// own examples) must keep loading.

#include "common/base64.h"
#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string example(const char* name) { return (testing::examplesDir() / name).string(); }

TEST(ExamplesTest, Minimal) {
  LoadResult r = loadFile(example("config.minimal.yaml"), {});
  ASSERT_THAT(r.errors, IsEmpty());
  // Only the shared secret is generated; every key is a known Pomerium key.
  EXPECT_THAT(r.warnings, ElementsAre("shared_secret: not set; generated a random one, so "
                                      "sessions will not survive a restart"));
  const Options& o = *r.options;
  EXPECT_EQ(o.extra.at("authenticate_service_url"), "https://authenticate.localhost.example.io");
  EXPECT_EQ(o.extra.at("autocert"), "true");
  EXPECT_EQ(o.extra.at("idp_provider"), "google");
  EXPECT_FALSE(o.secrets.cookie_secret_generated);
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].from_host, "verify.localhost.example.io");
  EXPECT_EQ(o.routes[0].to[0].port, 443);
  EXPECT_EQ(o.routes[0].pass_identity_headers, true);
  EXPECT_EQ(o.routes[0].policy_json,
            R"([{"allow":{"or":[{"email":{"is":"someone@example.com"}}]}}])");
  // autocert is not a certificate: no HSTS by default.
  EXPECT_EQ(o.http.set_response_headers.size(), 2u);
}

TEST(ExamplesTest, Example) {
  LoadResult r = loadFile(example("config.example.yaml"), {});
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  const Options& o = *r.options;
  EXPECT_TRUE(o.listener.insecure_server);
  EXPECT_EQ(o.extra.at("idp_scopes"), "openid,profile,email,offline_access");
  EXPECT_EQ(o.extra.at("idp_request_params"), R"({"prompt":"select_account"})");
  ASSERT_EQ(o.routes.size(), 4u);
  EXPECT_TRUE(o.routes[0].cors_allow_preflight);
  EXPECT_EQ(o.routes[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(o.routes[1].to[0].scheme, "https");
  EXPECT_EQ(o.routes[2].to[0].host, "neverssl.com");
  // Four different routes, four different ids.
  std::set<std::string> ids;
  for (const Route& route : o.routes) ids.insert(route.id);
  EXPECT_EQ(ids.size(), 4u);
}

TEST(ExamplesTest, Json) {
  LoadResult r = loadFile(example("config.example.json"), {});
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  const Options& o = *r.options;
  EXPECT_EQ(o.listener.address, ":8080");
  EXPECT_EQ(o.http.timeout_read, std::chrono::minutes(1));
  ASSERT_EQ(o.http.set_response_headers.size(), 1u);
  EXPECT_EQ(o.http.set_response_headers[0].value, "DENY");
  ASSERT_EQ(o.routes.size(), 2u);
  EXPECT_EQ(o.routes[0].to.size(), 2u);
  EXPECT_EQ(o.routes[0].to[0].weight, 2u);
  EXPECT_EQ(o.routes[0].prefix, "/api/");
  EXPECT_EQ(o.routes[1].response->body, "hello");
  EXPECT_EQ(o.routes[1].policy_json, R"({"allow":{"or":[{"email":{"is":"a@example.com"}}]}})");
}

TEST(ExamplesTest, PolicyThroughTheEnvironment) {
  std::string policy = base64Encode(testing::readText(example("policy.example.yaml")));
  LoadResult r =
      loadFile("", testing::secretsEnv({{"POLICY", policy}, {"INSECURE_SERVER", "true"}}));
  ASSERT_THAT(r.errors, IsEmpty());
  const Options& o = *r.options;
  ASSERT_EQ(o.routes.size(), 4u);
  EXPECT_THAT(o.routes[0].allowed_domains, ElementsAre("example.io"));
  EXPECT_THAT(o.routes[2].allowed_users, ElementsAre("someone@example.io"));
  EXPECT_TRUE(o.routes[3].allow_any_authenticated_user);
}

TEST(ExamplesTest, RemovedKeysInTheOldPolicyExample) {
  std::string policy = base64Encode(testing::readText(example("policy.removed-keys.yaml")));
  LoadResult r = loadFile("", testing::secretsEnv({{"POLICY", policy}}));
  EXPECT_FALSE(r.options);
  EXPECT_THAT(
      r.errors,
      ElementsAre("policy[0].allowed_groups: config option was removed; use a policy with a "
                  "groups criterion (from environment variable POLICY)",
                  "policy[1].allowed_groups: config option was removed; use a policy with a "
                  "groups criterion (from environment variable POLICY)"));
}

}  // namespace
}  // namespace gatehouse::config

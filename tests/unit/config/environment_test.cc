#include "common/base64.h"
#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::load;
using testing::loadOk;

TEST(EnvironmentTest, OverridesTheFile) {
  Options o = loadOk("address: ':80'\ninsecure_server: false\ntimeout_read: 5s\nlog_level: error\n",
                     {{"ADDRESS", ":8080"},
                      {"INSECURE_SERVER", "1"},
                      {"TIMEOUT_READ", "2m"},
                      {"XFF_NUM_TRUSTED_HOPS", "3"},
                      {"PATH_WITH_ESCAPED_SLASHES_ACTION", "KEEP_UNCHANGED"},
                      {"WORKERS", "2"}});
  EXPECT_EQ(o.listener.address, ":8080");
  EXPECT_TRUE(o.listener.insecure_server);
  EXPECT_EQ(o.http.timeout_read, std::chrono::minutes(2));
  EXPECT_EQ(o.http.xff_num_trusted_hops, 3u);
  EXPECT_EQ(o.http.path_with_escaped_slashes_action, "keep_unchanged");
  EXPECT_EQ(o.listener.workers, 2);
  EXPECT_EQ(o.log_level, "error");  // not overridden
}

TEST(EnvironmentTest, Booleans) {
  for (auto [text, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                         {"TRUE", true},
                                                                         {"1", true},
                                                                         {"false", false},
                                                                         {"0", false},
                                                                         {"False", false}}) {
    EXPECT_EQ(loadOk("insecure_server: true", {{"INSECURE_SERVER", text}}).listener.insecure_server,
              expected)
        << text;
  }
}

TEST(EnvironmentTest, ListsAreCommaSeparated) {
  Options o = loadOk("", {{"SERVICES", "all"}, {"IDP_SCOPES", "openid, email,profile"}});
  EXPECT_EQ(o.extra.at("idp_scopes"), "openid,email,profile");
  EXPECT_THAT(o.services, ElementsAre("all"));
}

TEST(EnvironmentTest, PolicyIsBase64YamlAndReplacesFileRoutes) {
  std::string routes =
      "- from: https://env.example.com\n"
      "  to: http://env-upstream:8080\n"
      "  allow_public_unauthenticated_access: true\n";
  // `base64` wraps at 76 columns; the newlines must be ignored.
  std::string encoded = base64Encode(routes);
  std::string wrapped;
  for (size_t i = 0; i < encoded.size(); i += 76) wrapped += encoded.substr(i, 76) + "\n";
  Options o = loadOk("routes:\n  - {from: https://file.example.com, to: http://file}\n",
                     {{"POLICY", wrapped}});
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].from_host, "env.example.com");
  EXPECT_EQ(o.routes[0].to[0].port, 8080);

  // It replaces the legacy key too, so there is no routes/policy conflict.
  o = loadOk("policy:\n  - {from: https://file.example.com, to: http://file}\n",
             {{"ROUTES", encoded}});
  EXPECT_EQ(o.routes[0].from_host, "env.example.com");
}

TEST(EnvironmentTest, PolicyErrorsNameTheVariable) {
  EXPECT_THAT(load("", {{"POLICY", "not base64!"}}).errors,
              ElementsAre("policy: environment variable POLICY is not valid base64"));
  EXPECT_THAT(
      load("", {{"POLICY", base64Encode("- {from: https://a.example.com, to: htp://b}")}}).errors,
      ElementsAre("policy[0].to: scheme \"htp\" is not one of http, https, h2c (from "
                  "environment variable POLICY)"));
  EXPECT_THAT(load("", {{"POLICY", base64Encode("[")}}).errors,
              ElementsAre("policy: environment variable POLICY is not valid YAML or JSON: line 2: "
                          "did not find expected node content (while parsing a flow node)"));
  EXPECT_THAT(load("", {{"POLICY", "x"}, {"ROUTES", "y"}}).errors,
              ElementsAre("routes: set only one of the POLICY and ROUTES environment variables"));
}

TEST(EnvironmentTest, ErrorsNameTheVariable) {
  EXPECT_THAT(load("timeout_read: 5s", {{"TIMEOUT_READ", "abc"}}).errors,
              ElementsAre("timeout_read: invalid duration \"abc\" (from environment variable "
                          "TIMEOUT_READ)"));
  EXPECT_THAT(load("", {{"SERVICES", "proxy,mesh"}}).errors,
              ElementsAre("services: \"mesh\" is not one of all, proxy, authorize, authenticate, "
                          "databroker, cache (from environment variable SERVICES)"));
}

TEST(EnvironmentTest, OnlyKnownKeysAreRead) {
  LoadResult r = load("", {{"PATH", "/usr/bin"},
                           {"HOME", "/root"},
                           {"address", ":1"},  // lower case is not a binding
                           {"IDP_SERVICE_ACCOUNT", "old"}});
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_EQ(r.options->listener.address, ":443");
}

TEST(EnvironmentTest, PolicyFileInTheEnvironmentIsRefused) {
  EXPECT_THAT(load("", {{"POLICY_FILE", "/etc/policy.yaml"}}).errors,
              ElementsAre("policy_file: config option was removed; put the routes in this file "
                          "under \"routes\" (from environment variable POLICY_FILE)"));
}

TEST(EnvironmentTest, NestedAndStructuredKeys) {
  Options o = loadOk("downstream_mtls: {enforcement: policy}\n",
                     {{"DOWNSTREAM_MTLS_CA", "Y2E="},
                      {"IDP_REQUEST_PARAMS", R"({"prompt":"login"})"},
                      {"RUNTIME_FLAGS", "{match_any_incoming_port: false}"}});
  EXPECT_EQ(o.extra.at("downstream_mtls"), R"({"ca":"Y2E=","enforcement":"policy"})");
  EXPECT_EQ(o.extra.at("idp_request_params"), R"({"prompt":"login"})");
  EXPECT_EQ(o.extra.at("runtime_flags"), R"({"match_any_incoming_port":false})");
}

TEST(EnvironmentTest, GatehouseWorkersAlias) {
  EXPECT_EQ(loadOk("workers: 1", {{"GATEHOUSE_WORKERS", "6"}}).listener.workers, 6);
  EXPECT_EQ(loadOk("", {{"WORKERS", "3"}, {"GATEHOUSE_WORKERS", "6"}}).listener.workers, 6);
}

TEST(EnvironmentTest, CertificatesFromTheEnvironment) {
  std::string cert = base64Encode(testing::kCertPem);
  std::string key = base64Encode(testing::kKeyPem);
  Options o = loadOk("", {{"CERTIFICATE", cert}, {"CERTIFICATE_KEY", key}});
  ASSERT_EQ(o.listener.certificates.size(), 1u);
  EXPECT_EQ(o.listener.certificates[0].cert_pem, testing::kCertPem);
  EXPECT_EQ(o.listener.certificates[0].origin, "certificate");
  o = loadOk("", {{"CERTIFICATES", R"([{"cert":")" + cert + R"(","key":")" + key + R"("}])"}});
  ASSERT_EQ(o.listener.certificates.size(), 1u);
  EXPECT_EQ(o.listener.certificates[0].key_pem, testing::kKeyPem);
}

TEST(EnvironmentTest, ConfigFileMayBeAbsent) {
  std::string routes = base64Encode("- {from: https://a.example.com, to: http://b}\n");
  LoadResult r = loadFile("", testing::secretsEnv({{"ADDRESS", ":9000"}, {"POLICY", routes}}));
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->listener.address, ":9000");
  EXPECT_EQ(r.options->routes.size(), 1u);
}

TEST(EnvironmentTest, ProcessEnvironmentReadsEnviron) {
  ::setenv("GATEHOUSE_CONFIG_TEST_VARIABLE", "a=b", 1);
  Environment env = processEnvironment();
  ::unsetenv("GATEHOUSE_CONFIG_TEST_VARIABLE");
  EXPECT_EQ(env["GATEHOUSE_CONFIG_TEST_VARIABLE"], "a=b");
}

}  // namespace
}  // namespace gatehouse::config

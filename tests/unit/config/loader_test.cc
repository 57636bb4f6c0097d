#include "config/loader.h"

#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::load;
using testing::loadOk;
using ::testing::UnorderedElementsAre;

TEST(LoaderTest, EmptyConfigHasPomeriumDefaults) {
  Options o = loadOk("");
  EXPECT_EQ(o.listener.address, ":443");
  EXPECT_FALSE(o.listener.insecure_server);
  EXPECT_EQ(o.listener.http_redirect_addr, "");
  EXPECT_EQ(o.listener.workers, 0);
  EXPECT_THAT(o.services, ElementsAre("all"));
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.http.timeout_read, std::chrono::seconds(30));
  EXPECT_EQ(o.http.timeout_write, Duration::zero());
  EXPECT_EQ(o.http.timeout_idle, std::chrono::minutes(5));
  EXPECT_EQ(o.http.default_upstream_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(o.http.normalize_path);
  EXPECT_TRUE(o.http.merge_slashes);
  EXPECT_EQ(o.http.path_with_escaped_slashes_action, "reject");
  EXPECT_EQ(o.http.headers_with_underscores_action, "reject");
  EXPECT_THAT(o.routes, IsEmpty());
  EXPECT_THAT(o.watched_files, IsEmpty());
  EXPECT_EQ(o.secrets.shared_secret, "SharedSecretForTheExampleConfig!");
}

TEST(LoaderTest, MinimalConfigWithoutSecretsGeneratesThem) {
  LoadResult r = loadText(
      "insecure_server: true\n"
      "routes:\n"
      "  - from: https://app.example.com\n"
      "    to: http://127.0.0.1:8080\n"
      "    allow_public_unauthenticated_access: true\n",
      "/nonexistent", {});
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_TRUE(r.options);
  const Options& o = *r.options;
  EXPECT_TRUE(o.listener.insecure_server);
  EXPECT_EQ(o.secrets.shared_secret.size(), 32u);
  EXPECT_TRUE(o.secrets.shared_secret_generated);
  EXPECT_EQ(o.secrets.cookie_secret.size(), 32u);
  EXPECT_TRUE(o.secrets.cookie_secret_generated);
  EXPECT_NE(o.secrets.shared_secret, o.secrets.cookie_secret);
  EXPECT_THAT(r.warnings,
              ElementsAre("shared_secret: not set; generated a random one, so sessions will not "
                          "survive a restart",
                          "cookie_secret: not set; generated a random one, so sessions will not "
                          "survive a restart"));
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].from_host, "app.example.com");
}

TEST(LoaderTest, GlobalKeys) {
  Options o = loadOk(R"(
address: 127.0.0.1:8443
insecure_server: false
http_redirect_addr: "':80'"
log_level: DEBUG
timeout_read: 1h30m
timeout_write: 0
timeout_idle: 90s
default_upstream_timeout: 500ms
xff_num_trusted_hops: 2
skip_xff_append: true
normalize_path: false
merge_slashes: off
path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT
headers_with_underscores_action: Drop_Header
services: all
workers: 4
max_request_headers_kb: 96
max_request_headers_count: 200
)");
  EXPECT_EQ(o.listener.address, "127.0.0.1:8443");
  EXPECT_EQ(o.listener.http_redirect_addr, ":80");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.http.timeout_read, std::chrono::minutes(90));
  EXPECT_EQ(o.http.timeout_write, Duration::zero());
  EXPECT_EQ(o.http.timeout_idle, std::chrono::seconds(90));
  EXPECT_EQ(o.http.default_upstream_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(o.http.xff_num_trusted_hops, 2u);
  EXPECT_TRUE(o.http.skip_xff_append);
  EXPECT_FALSE(o.http.normalize_path);
  EXPECT_FALSE(o.http.merge_slashes);
  EXPECT_EQ(o.http.path_with_escaped_slashes_action, "unescape_and_redirect");
  EXPECT_EQ(o.http.headers_with_underscores_action, "drop_header");
  EXPECT_EQ(o.listener.workers, 4);
  EXPECT_EQ(o.http.max_request_headers_kb, 96u);
  EXPECT_EQ(o.http.max_request_headers_count, 200u);
}

TEST(LoaderTest, KeysAreCaseInsensitiveLikePomerium) {
  Options o = loadOk("Address: ':8080'\nINSECURE_SERVER: true\n");
  EXPECT_EQ(o.listener.address, ":8080");
  EXPECT_TRUE(o.listener.insecure_server);
}

TEST(LoaderTest, SyntaxErrorIsOneLineWithLineNumber) {
  LoadResult r = load("address: ':80'\nroutes:\n  - from: [https://a\n");
  EXPECT_FALSE(r.options);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], ::testing::StartsWith("syntax error at line 4, column 1: "));
}

TEST(LoaderTest, SyntaxErrorInFileNamesTheFile) {
  testing::TempDir dir;
  std::string path = dir.write("bad.yaml", "a: b\n  c: d\n");
  LoadResult r = loadFile(path, testing::secretsEnv());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], ::testing::StartsWith(path + ": syntax error at line 2, column "));
}

TEST(LoaderTest, TopLevelMustBeAMap) {
  LoadResult r = load("- from: https://a\n  to: http://b\n");
  EXPECT_THAT(r.errors, ElementsAre("config: expected a map of settings at the top level, got a "
                                    "list (a list of routes belongs under \"routes\")"));
  r = load("just text");
  EXPECT_THAT(r.errors,
              ElementsAre("config: expected a map of settings at the top level, got a string"));
}

TEST(LoaderTest, InvalidDurations) {
  EXPECT_THAT(load("timeout_read: abc").errors,
              ElementsAre("timeout_read: invalid duration \"abc\""));
  EXPECT_THAT(
      load("timeout_idle: 30").errors,
      ElementsAre("timeout_idle: invalid duration \"30\" (a unit is required, e.g. \"30s\")"));
  EXPECT_THAT(load("default_upstream_timeout: -5s").errors,
              ElementsAre("default_upstream_timeout: duration must not be negative (got \"-5s\")"));
  EXPECT_THAT(load("timeout_write: [1s]").errors,
              ElementsAre("timeout_write: expected a duration, got a list"));
}

TEST(LoaderTest, CollectsEveryProblem) {
  LoadResult r = load(R"(
address: nonsense
log_level: loud
timeout_read: 10
insecure_server: maybe
xff_num_trusted_hops: -1
services: proxy,gateway
routes:
  - from: https://a.example.com
    to: htp://b
  - from: https://c.example.com/path
    to: http://d
)");
  EXPECT_FALSE(r.options);
  EXPECT_THAT(
      r.errors,
      ElementsAre("address: invalid address \"nonsense\" (expected host:port, e.g. \":443\")",
                  "log_level: \"loud\" is not one of debug, info, warn, error",
                  "timeout_read: invalid duration \"10\" (a unit is required, e.g. \"10s\")",
                  "insecure_server: invalid boolean \"maybe\" (use true or false)",
                  "xff_num_trusted_hops: must be an integer from 0 to 4294967295 (got \"-1\")",
                  "services: \"gateway\" is not one of all, proxy, authorize, "
                  "authenticate, databroker, cache",
                  "routes[0].to: scheme \"htp\" is not one of http, https, h2c",
                  "routes[1].from: \"https://c.example.com/path\" must not have a path; "
                  "match paths with prefix, path or regex instead"));
}

TEST(LoaderTest, EscapedSlashesAndUnderscoresActions) {
  for (auto [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"reject", "reject"},
           {"REJECT_REQUEST", "reject"},
           {"keep_unchanged", "keep_unchanged"},
           {"KEEP_UNCHANGED", "keep_unchanged"},
           {"Unescape_And_Forward", "unescape_and_forward"},
           {"unescape_and_redirect", "unescape_and_redirect"}}) {
    Options o = loadOk("path_with_escaped_slashes_action: " + text);
    EXPECT_EQ(o.http.path_with_escaped_slashes_action, expected) << text;
  }
  EXPECT_THAT(load("path_with_escaped_slashes_action: decode").errors,
              ElementsAre("path_with_escaped_slashes_action: \"decode\" is not one of reject, "
                          "keep_unchanged, unescape_and_forward, unescape_and_redirect"));
  EXPECT_EQ(loadOk("headers_with_underscores_action: ALLOW").http.headers_with_underscores_action,
            "allow");
  EXPECT_THAT(load("headers_with_underscores_action: keep").errors,
              ElementsAre("headers_with_underscores_action: \"keep\" is not one of reject, "
                          "drop_header, allow"));
}

TEST(LoaderTest, Services) {
  EXPECT_THAT(loadOk("services: all").services, ElementsAre("all"));
  EXPECT_THAT(loadOk("services: ''").services, ElementsAre("all"));
  EXPECT_THAT(loadOk("services: proxy, authorize,cache").services,
              ElementsAre("proxy", "authorize", "databroker"));
  EXPECT_THAT(loadOk("services: [authenticate, proxy]").services,
              ElementsAre("authenticate", "proxy"));
  EXPECT_THAT(loadOk("services: all,proxy").services, ElementsAre("all"));
}

TEST(LoaderTest, LogLevels) {
  EXPECT_EQ(loadOk("log_level: warning").log_level, "warn");
  EXPECT_EQ(loadOk("log_level: error").log_level, "error");
  EXPECT_THAT(load("proxy_log_level: chatty").errors,
              ElementsAre("proxy_log_level: \"chatty\" is not one of debug, info, warn, error"));
}

TEST(LoaderTest, Addresses) {
  EXPECT_EQ(loadOk("address: '[::]:443'").listener.address, "[::]:443");
  EXPECT_EQ(loadOk("address: 'localhost:0'").listener.address, "localhost:0");
  EXPECT_THAT(
      load("address: ':99999'").errors,
      ElementsAre("address: invalid address \":99999\" (expected host:port, e.g. \":443\")"));
  EXPECT_THAT(load("workers: 5000").errors,
              ElementsAre("workers: must be an integer from 0 to 1024 (got \"5000\")"));
}

TEST(LoaderTest, UnknownKeysWarn) {
  LoadResult r = load(R"(
foo: 1
routes:
  - from: https://a.example.com
    to: http://b
  - from: https://c.example.com
    to: http://d
    frobnicate: true
    redirect_typo: {}
)");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, ElementsAre("unknown key \"foo\" ignored",
                                      "unknown key \"routes[1].frobnicate\" ignored",
                                      "unknown key \"routes[1].redirect_typo\" ignored"));
}

TEST(LoaderTest, DuplicateKeysAreErrors) {
  EXPECT_THAT(load("address: ':80'\naddress: ':81'\n").errors,
              ElementsAre("address: key appears more than once"));
  EXPECT_THAT(load("routes:\n  - from: https://a\n    to: http://b\n    TO: http://c\n").errors,
              ElementsAre("routes[0].TO: key appears more than once"));
}

TEST(LoaderTest, DuplicateKeysInALargeMapAreErrors) {
  // Past a few dozen keys the check uses a set instead of a scan.
  std::string text = "address: ':80'\n";
  for (int i = 0; i < 40; ++i) text += "unknown_" + std::to_string(i) + ": 1\n";
  EXPECT_THAT(load(text).errors, IsEmpty());
  EXPECT_THAT(load(text + "ADDRESS: ':81'\n").errors,
              ElementsAre("ADDRESS: key appears more than once"));
}

TEST(LoaderTest, RemovedPomeriumKeysAreErrors) {
  EXPECT_THAT(load("policy_file: /etc/policy.yaml").errors,
              ElementsAre("policy_file: config option was removed; put the routes in this file "
                          "under \"routes\""));
  EXPECT_THAT(load("idp_service_account: abc").errors,
              ElementsAre("idp_service_account: config option was removed; directory sync was "
                          "removed; use the identity provider's groups claim"));
  EXPECT_THAT(load("headers:\n  X-A: b\n").errors,
              ElementsAre("headers: config option was removed; use set_response_headers"));
  EXPECT_THAT(load("client_ca: abc").errors,
              ElementsAre("client_ca: config option was removed; use downstream_mtls.ca"));
  for (const char* key :
       {"client_ca_file", "idp_refresh_directory_timeout", "idp_refresh_directory_interval",
        "idp_qps", "cache_service_url", "authenticate_internal_url", "signing_key_algorithm"}) {
    LoadResult r = load(std::string(key) + ": x");
    ASSERT_EQ(r.errors.size(), 1u) << key;
    EXPECT_THAT(r.errors[0],
                ::testing::StartsWith(std::string(key) + ": config option was removed"));
  }
  EXPECT_THAT(load(R"(
routes:
  - from: https://a.example.com
    to: http://b
    allowed_groups: [admins]
    set_authorization_header: pass_through
)")
                  .errors,
              ElementsAre("routes[0].allowed_groups: config option was removed; use a policy with "
                          "a groups criterion",
                          "routes[0].set_authorization_header: config option was removed; use "
                          "set_request_headers with ${pomerium.id_token}"));
}

TEST(LoaderTest, PomeriumKeysWithoutBehaviourAreKept) {
  LoadResult r = load(R"(
authenticate_service_url: https://authenticate.example.com
authorize_service_url: https://authorize.internal
databroker_service_url: https://databroker.internal
grpc_address: ":5443"
grpc_insecure: true
idp_provider: oidc
idp_provider_url: https://idp.example.com
idp_client_id: id
idp_client_secret: secret
idp_scopes: [openid, email]
idp_request_params: {prompt: login}
cookie_name: _gatehouse
cookie_domain: example.com
cookie_expire: 14h
cookie_http_only: true
cookie_same_site: lax
cookie_secure: true
signing_key: abc
jwt_claims_headers: [email, groups]
jwt_issuer_format: uri
pass_identity_headers: true
databroker_storage_type: postgres
databroker_storage_connection_string: postgres://db
signout_redirect_url: https://example.com/bye
programmatic_redirect_domain_whitelist: localhost,example.com
metrics_address: ":9090"
health_check_addr: 127.0.0.1:28080
runtime_flags: {match_any_incoming_port: true}
codec_type: auto
use_proxy_protocol: false
proxy_log_level: warn
access_log_fields: [method, path]
authorize_log_fields: [request-id]
grpc_client_timeout: 10s
autocert: false
tracing_provider: otlp
tracing_sample_rate: 0.5
otel_traces_exporter: otlp
downstream_mtls:
  ca_file: ca.pem
  enforcement: reject_connection
  max_verify_depth: 2
)");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  const auto& extra = r.options->extra;
  EXPECT_EQ(extra.at("authenticate_service_url"), "https://authenticate.example.com");
  EXPECT_EQ(extra.at("grpc_insecure"), "true");
  EXPECT_EQ(extra.at("idp_scopes"), "openid,email");
  EXPECT_EQ(extra.at("idp_request_params"), R"({"prompt":"login"})");
  EXPECT_EQ(extra.at("cookie_expire"), "14h");
  EXPECT_EQ(extra.at("programmatic_redirect_domain_whitelist"), "localhost,example.com");
  EXPECT_EQ(extra.at("runtime_flags"), R"({"match_any_incoming_port":true})");
  EXPECT_EQ(extra.at("tracing_sample_rate"), "0.5");
  EXPECT_EQ(
      extra.at("downstream_mtls"),
      R"({"ca_file":"/nonexistent/ca.pem","enforcement":"reject_connection","max_verify_depth":2})");
  EXPECT_THAT(r.options->watched_files,
              ElementsAre("/nonexistent/ca.pem"));
}

TEST(LoaderTest, KeptKeysAreTypeChecked) {
  EXPECT_THAT(load("grpc_insecure: sometimes").errors,
              ElementsAre("grpc_insecure: invalid boolean \"sometimes\" (use true or false)"));
  EXPECT_THAT(
      load("cookie_expire: 14").errors,
      ElementsAre("cookie_expire: invalid duration \"14\" (a unit is required, e.g. \"14s\")"));
  EXPECT_THAT(load("downstream_mtls: {enforcement: maybe}").errors,
              ElementsAre("downstream_mtls.enforcement: \"maybe\" is not one of policy, "
                          "policy_with_default_deny, reject_connection"));
}

TEST(LoaderTest, JsonConfig) {
  LoadResult r = load(R"({
	"address": ":8080",
	"insecure_server": true,
	"routes": [{"from": "https://a.example.com", "to": ["http://b:81,2"]}]
})");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->listener.address, ":8080");
  ASSERT_EQ(r.options->routes.size(), 1u);
  EXPECT_EQ(r.options->routes[0].to[0].weight, 2u);
  EXPECT_EQ(r.options->routes[0].to[0].port, 81);
}

TEST(LoaderTest, NullValuesKeepDefaults) {
  Options o = loadOk("address:\ntimeout_read: ~\nroutes:\n");
  EXPECT_EQ(o.listener.address, ":443");
  EXPECT_EQ(o.http.timeout_read, std::chrono::seconds(30));
}

TEST(LoaderTest, LoadFileMissing) {
  LoadResult r = loadFile("/nonexistent/gatehouse.yaml", {});
  EXPECT_THAT(r.errors, ElementsAre("/nonexistent/gatehouse.yaml: cannot read config file: No "
                                    "such file or directory"));
}

TEST(LoaderTest, LoadFileRejectsToml) {
  testing::TempDir dir;
  std::string path = dir.write("config.toml", "address = \":80\"\n");
  EXPECT_THAT(loadFile(path, {}).errors,
              ElementsAre(path + ": TOML is not supported; use YAML or JSON"));
}

TEST(LoaderTest, AliasBombIsBounded) {
  // Each level doubles; converting the policy to JSON would otherwise take
  // 2^40 steps.
  std::string text = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 40; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  text += "routes:\n  - from: https://a.example.com\n    to: http://b\n    policy: *a40\n";
  LoadResult r = load(text);
  EXPECT_FALSE(r.options);
  EXPECT_THAT(r.errors, ::testing::Contains("routes[0].policy: too large"));
}

}  // namespace
}  // namespace gatehouse::config

#include "common/base64.h"
#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::load;
using testing::loadOk;
using ::testing::Pair;

MATCHER_P2(Header, name, value, "") { return arg.name == name && arg.value == value; }

std::string route(std::string_view body) {
  return "routes:\n  - from: https://app.example.com\n" + std::string(body);
}

std::vector<std::string> routeErrors(std::string_view body) { return load(route(body)).errors; }

TEST(RoutesTest, EveryRouteKey) {
  std::filesystem::path file = testing::examplesDir() / "config.all-route-keys.yaml";
  LoadResult r = loadFile(file.string(), {});
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  const Options& o = *r.options;
  ASSERT_EQ(o.routes.size(), 4u);
  std::string dir = std::filesystem::weakly_canonical(file.parent_path()).string();

  const Route& a = o.routes[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.name, "everything");
  EXPECT_EQ(a.description, "A route that sets every key");
  EXPECT_EQ(a.from, "https://Everything.Example.com:8443");
  EXPECT_EQ(a.from_scheme, "https");
  EXPECT_EQ(a.from_host, "everything.example.com");
  ASSERT_EQ(a.to.size(), 2u);
  EXPECT_EQ(a.to[0].scheme, "https");
  EXPECT_EQ(a.to[0].host, "2001:db8::1");
  EXPECT_EQ(a.to[0].port, 9443);
  EXPECT_EQ(a.to[0].path, "/base");
  EXPECT_EQ(a.to[0].weight, 3u);
  EXPECT_EQ(a.to[0].text, "https://[2001:db8::1]:9443/base");
  EXPECT_EQ(a.to[1].host, "backend.internal");
  EXPECT_EQ(a.to[1].port, 443);
  EXPECT_EQ(a.to[1].weight, 1u);
  EXPECT_FALSE(a.redirect);
  EXPECT_FALSE(a.response);
  EXPECT_EQ(a.prefix, "/app/");
  EXPECT_EQ(a.path, "");
  EXPECT_EQ(a.regex, "");
  // A regex rewrite is set, so `to`'s path is not turned into a prefix rewrite.
  EXPECT_FALSE(a.has_prefix_rewrite);
  EXPECT_EQ(a.regex_rewrite_pattern, "^/app/(.*)$");
  EXPECT_EQ(a.regex_rewrite_substitution, "/\\1");
  EXPECT_EQ(a.host_rewrite, "backend.internal");
  EXPECT_EQ(a.host_rewrite_header, "X-Host");
  EXPECT_TRUE(a.preserve_host_header);
  EXPECT_THAT(a.set_request_headers,
              ElementsAre(Header("X-Request-From", "gatehouse"),
                          Header("Authorization", "Bearer ${pomerium.access_token}")));
  EXPECT_THAT(a.remove_request_headers, ElementsAre("X-Secret", "Cookie"));
  EXPECT_THAT(a.set_response_headers, ElementsAre(Header("X-Route", "everything")));
  ASSERT_EQ(a.rewrite_response_headers.size(), 1u);
  EXPECT_EQ(a.rewrite_response_headers[0].header, "Location");
  EXPECT_EQ(a.rewrite_response_headers[0].prefix, "http://backend.internal/");
  EXPECT_EQ(a.rewrite_response_headers[0].value, "https://everything.example.com/");
  EXPECT_EQ(a.timeout, std::chrono::seconds(90));
  EXPECT_EQ(a.idle_timeout, std::chrono::minutes(10));
  EXPECT_TRUE(a.allow_websockets);
  EXPECT_TRUE(a.allow_spdy);
  EXPECT_FALSE(a.tls_skip_verify);
  EXPECT_EQ(a.tls_server_name, "backend.internal");
  EXPECT_THAT(a.tls_custom_ca_pem, ::testing::StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(a.tls_client_cert_pem, ::testing::StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(a.tls_client_key_pem, ::testing::StartsWith("-----BEGIN PRIVATE KEY-----"));
  EXPECT_FALSE(a.allow_public_unauthenticated_access);
  EXPECT_FALSE(a.allow_any_authenticated_user);
  EXPECT_TRUE(a.cors_allow_preflight);
  EXPECT_THAT(a.allowed_users, ElementsAre("alice@example.com", "bob@example.com"));
  EXPECT_THAT(a.allowed_domains, ElementsAre("example.com"));
  EXPECT_THAT(a.allowed_idp_claims, ElementsAre(Pair("department", ElementsAre("engineering")),
                                                Pair("groups", ElementsAre("admins", "ops"))));
  EXPECT_EQ(a.policy_json,
            R"({"allow":{"and":[{"domain":{"is":"example.com"}},{"claim/groups":"admins"}]}})");
  EXPECT_EQ(a.pass_identity_headers, true);
  EXPECT_TRUE(a.show_error_details);
  EXPECT_EQ(a.extra.at("logo_url"), "https://example.com/logo.svg");
  EXPECT_EQ(a.extra.at("regex_priority_order"), "2");
  EXPECT_EQ(a.extra.at("idp_client_id"), "route-client");
  EXPECT_EQ(a.extra.at("idp_client_secret"), "route-secret");
  EXPECT_EQ(a.extra.at("depends_on"), "auth.example.com,other.example.com");
  EXPECT_EQ(a.extra.at("jwt_issuer_format"), "uri");
  EXPECT_EQ(a.extra.at("bearer_token_format"), "idp_access_token");
  EXPECT_EQ(a.extra.at("kubernetes_service_account_token_file"), dir + "/testdata/token");
  EXPECT_EQ(a.id.size(), 16u);

  const Route& b = o.routes[1];
  EXPECT_TRUE(b.to.empty());
  ASSERT_TRUE(b.redirect);
  EXPECT_TRUE(b.redirect->https_redirect);
  EXPECT_EQ(b.redirect->host_redirect, "www.example.com");
  EXPECT_EQ(b.redirect->port_redirect, 8443u);
  EXPECT_EQ(b.redirect->prefix_rewrite, "/new/");
  EXPECT_TRUE(b.redirect->has_prefix_rewrite);
  EXPECT_EQ(b.redirect->response_code, 308);
  EXPECT_TRUE(b.redirect->strip_query);
  EXPECT_EQ(b.prefix, "/");

  const Route& c = o.routes[2];
  ASSERT_TRUE(c.response);
  EXPECT_EQ(c.response->status, 418);
  EXPECT_EQ(c.response->body, "short and stout");
  EXPECT_EQ(c.path, "/brew");
  EXPECT_EQ(c.prefix, "");

  const Route& d = o.routes[3];
  EXPECT_EQ(d.from_host, "*.wild.example.com");
  EXPECT_EQ(d.to[0].scheme, "h2c");
  EXPECT_EQ(d.to[0].port, 50051);
  EXPECT_EQ(d.regex, "^/svc\\.[A-Za-z]+/.*$");
  EXPECT_TRUE(d.allow_public_unauthenticated_access);

  EXPECT_THAT(o.watched_files,
              ElementsAre(dir + "/testdata/ca.pem", dir + "/testdata/client.pem",
                          dir + "/testdata/client-key.pem", dir + "/testdata/token"));
}

TEST(RoutesTest, FromUrl) {
  Options o = loadOk(
      "routes:\n"
      "  - {from: 'HTTPS://App.Example.COM:8443/', to: 'http://b'}\n"
      "  - {from: 'http://plain.example.com', to: 'http://b'}\n"
      "  - {from: 'https://[::1]:8443', to: 'http://b'}\n");
  EXPECT_EQ(o.routes[0].from_host, "app.example.com");
  EXPECT_EQ(o.routes[0].from_scheme, "https");
  EXPECT_EQ(o.routes[1].from_scheme, "http");
  EXPECT_EQ(o.routes[2].from_host, "::1");

  auto errors = [](std::string_view from) {
    return load("routes:\n  - {from: '" + std::string(from) + "', to: 'http://b'}\n").errors;
  };
  EXPECT_THAT(
      errors("app.example.com"),
      ElementsAre("routes[0].from: \"app.example.com\" is not an absolute URL (scheme://host)"));
  EXPECT_THAT(
      errors("tcp+https://db.example.com:5432"),
      ElementsAre("routes[0].from: scheme \"tcp+https\" is not supported (use https or http)"));
  EXPECT_THAT(
      errors("https://a.example.com/app"),
      ElementsAre("routes[0].from: \"https://a.example.com/app\" must not have a path; match "
                  "paths with prefix, path or regex instead"));
  EXPECT_THAT(
      errors("https://a.example.com?x=1"),
      ElementsAre("routes[0].from: \"https://a.example.com?x=1\" must not have user info, a "
                  "query or a fragment"));
  EXPECT_THAT(errors("https://a.*.example.com"),
              ElementsAre("routes[0].from: a wildcard is only allowed as the whole first label "
                          "(*.example.com)"));
  EXPECT_THAT(errors("https://a.example.com:0"),
              ElementsAre("routes[0].from: \"https://a.example.com:0\" has an invalid port"));
  EXPECT_THAT(errors("https://"), ElementsAre("routes[0].from: \"https://\" has no host"));
  EXPECT_THAT(load("routes:\n  - to: http://b\n").errors, ElementsAre("routes[0].from: required"));
}

TEST(RoutesTest, ToUrls) {
  Options o =
      loadOk(route("    to: [http://a, 'https://b,5', 'h2c://c', 'http://10.0.0.1:8080', "
                   "'https://[fd00::1]']\n"));
  const auto& to = o.routes[0].to;
  ASSERT_EQ(to.size(), 5u);
  EXPECT_EQ(to[0].port, 80);
  EXPECT_EQ(to[1].port, 443);
  EXPECT_EQ(to[1].weight, 5u);
  EXPECT_EQ(to[2].port, 80);
  EXPECT_EQ(to[3].host, "10.0.0.1");
  EXPECT_EQ(to[3].port, 8080);
  EXPECT_EQ(to[4].host, "fd00::1");
  EXPECT_EQ(to[4].port, 443);

  LoadResult r = load(R"(
routes:
  - {from: https://a.example.com, to: http://a}
  - {from: https://b.example.com, to: http://b}
  - {from: https://c.example.com, to: htp://c}
)");
  EXPECT_THAT(r.errors, ElementsAre("routes[2].to: scheme \"htp\" is not one of http, https, h2c"));
  EXPECT_THAT(routeErrors("    to: ['http://a,0', 'http://b,x', 'http://u:p@c', 'unix:///sock']\n"),
              ElementsAre("routes[0].to[0]: weight \"0\" is not a positive integer",
                          "routes[0].to[1]: weight \"x\" is not a positive integer",
                          "routes[0].to[2]: \"http://u:p@c\" must not have user info, a query or a "
                          "fragment",
                          "routes[0].to[3]: \"unix:///sock\" has no host"));
  EXPECT_THAT(routeErrors("    to: []\n"), ElementsAre("routes[0].to: must list at least one URL"));
  EXPECT_THAT(routeErrors("    to: {url: http://a}\n"),
              ElementsAre("routes[0].to: expected a URL or a list of URLs"));
}

TEST(RoutesTest, ExactlyOneAction) {
  const char* message = "routes[0]: exactly one of to, redirect and response must be set";
  EXPECT_THAT(routeErrors("    prefix: /\n"), ElementsAre(message));
  EXPECT_THAT(routeErrors("    to: http://a\n    redirect: {https_redirect: true}\n"),
              ElementsAre(message));
  EXPECT_THAT(routeErrors("    response: {status: 200}\n    redirect: {host_redirect: x}\n"),
              ElementsAre(message));
}

TEST(RoutesTest, ToPathBecomesPrefixRewrite) {
  Options o = loadOk(R"(
routes:
  - {from: https://a.example.com, to: http://a/base/}
  - {from: https://b.example.com, to: http://b/base, prefix_rewrite: /other}
  - {from: https://c.example.com, to: http://c}
  - {from: https://d.example.com, to: http://d/, prefix: /app}
)");
  EXPECT_TRUE(o.routes[0].has_prefix_rewrite);
  EXPECT_EQ(o.routes[0].prefix_rewrite, "/base/");
  EXPECT_EQ(o.routes[1].prefix_rewrite, "/other");
  EXPECT_FALSE(o.routes[2].has_prefix_rewrite);
  // Pomerium does this for "/" too.
  EXPECT_TRUE(o.routes[3].has_prefix_rewrite);
  EXPECT_EQ(o.routes[3].prefix_rewrite, "/");

  LoadResult r = load(route("    to: [http://a/x, http://b/y]\n"));
  EXPECT_THAT(r.warnings, ElementsAre("routes[0].to: only the first URL's path (\"/x\") is used as "
                                      "the prefix rewrite"));
}

TEST(RoutesTest, Rewrites) {
  EXPECT_THAT(routeErrors("    to: http://a\n    prefix_rewrite: /x\n    regex_rewrite_pattern: a\n"
                          "    regex_rewrite_substitution: b\n"),
              ElementsAre("routes[0]: set only one of prefix_rewrite and regex_rewrite_pattern"));
  EXPECT_THAT(routeErrors("    to: http://a\n    regex_rewrite_pattern: a\n"),
              ElementsAre("routes[0]: regex_rewrite_pattern and regex_rewrite_substitution must be "
                          "set together"));
  EXPECT_THAT(routeErrors("    to: http://a\n    regex_rewrite_substitution: b\n"),
              ElementsAre("routes[0]: regex_rewrite_pattern and regex_rewrite_substitution must be "
                          "set together"));
  Options o =
      loadOk(route("    to: http://a\n    regex_rewrite_pattern: '^/x'\n"
                   "    regex_rewrite_substitution: ''\n"));
  EXPECT_EQ(o.routes[0].regex_rewrite_pattern, "^/x");
  EXPECT_EQ(o.routes[0].regex_rewrite_substitution, "");
}

TEST(RoutesTest, Matchers) {
  Options o = loadOk(route("    to: http://a\n    regex: '^/api/v[0-9]+/.*'\n"));
  EXPECT_EQ(o.routes[0].regex, "^/api/v[0-9]+/.*");
  EXPECT_EQ(o.routes[0].prefix, "");
  // Invalid expressions are reported with every other problem.
  EXPECT_THAT(routeErrors("    to: http://a\n    regex: '('\n"),
              ElementsAre("routes[0].regex: invalid regular expression: missing ): ("));
  EXPECT_THAT(routeErrors("    to: http://a\n    regex_rewrite_pattern: '['\n"
                          "    regex_rewrite_substitution: x\n"),
              ElementsAre("routes[0].regex_rewrite_pattern: invalid regular expression: missing ]: ["));
  EXPECT_THAT(routeErrors("    to: http://a\n    prefix: /a\n    path: /b\n"),
              ElementsAre("routes[0]: set only one of prefix, path and regex"));
  EXPECT_THAT(routeErrors("    to: http://a\n    prefix: api\n"),
              ElementsAre("routes[0].prefix: must start with \"/\""));
  EXPECT_THAT(routeErrors("    to: http://a\n    path: api\n"),
              ElementsAre("routes[0].path: must start with \"/\""));
}

TEST(RoutesTest, RedirectAndResponse) {
  Options o = loadOk(route("    redirect: {scheme_redirect: HTTPS, path_redirect: /x}\n"));
  EXPECT_EQ(o.routes[0].redirect->scheme_redirect, "https");
  EXPECT_EQ(o.routes[0].redirect->path_redirect, "/x");
  EXPECT_EQ(o.routes[0].redirect->response_code, 301);
  EXPECT_FALSE(o.routes[0].redirect->has_prefix_rewrite);
  EXPECT_EQ(loadOk(route("    response: {body: hi}\n")).routes[0].response->status, 200);

  EXPECT_THAT(
      routeErrors("    redirect: {response_code: 300}\n"),
      ElementsAre("routes[0].redirect.response_code: unsupported redirect response code 300 "
                  "(use 301, 302, 303, 307 or 308)"));
  EXPECT_THAT(
      routeErrors("    redirect: {https_redirect: true, scheme_redirect: http}\n"),
      ElementsAre("routes[0].redirect: set only one of https_redirect and scheme_redirect"));
  EXPECT_THAT(routeErrors("    redirect: {path_redirect: /a, prefix_rewrite: /b}\n"),
              ElementsAre("routes[0].redirect: set only one of path_redirect and prefix_rewrite"));
  EXPECT_THAT(
      routeErrors("    redirect: {port_redirect: 70000}\n"),
      ElementsAre("routes[0].redirect.port_redirect: must be an integer from 1 to 65535 (got "
                  "\"70000\")"));
  EXPECT_THAT(routeErrors("    response: {status: 600}\n"),
              ElementsAre("routes[0].response.status: must be an integer from 100 to 599 (got "
                          "\"600\")"));
  LoadResult r = load(route("    response: {status: 204, headers: {}}\n"));
  EXPECT_THAT(r.warnings, ElementsAre("unknown key \"routes[0].response.headers\" ignored"));
}

TEST(RoutesTest, AccessRulesFromPolicyValidate) {
  EXPECT_THAT(
      routeErrors("    to: http://a\n    allow_public_unauthenticated_access: true\n"
                  "    allowed_users: [a@example.com]\n    allowed_domains: [example.com]\n"),
      ElementsAre("routes[0]: allow_public_unauthenticated_access cannot be combined with "
                  "allowed_users, allowed_domains"));
  EXPECT_THAT(routeErrors("    to: http://a\n    allow_public_unauthenticated_access: true\n"
                          "    allow_any_authenticated_user: true\n"
                          "    allowed_idp_claims: {groups: [a]}\n    policy: {allow: {}}\n"),
              ElementsAre("routes[0]: allow_public_unauthenticated_access cannot be combined with "
                          "allowed_idp_claims, policy, allow_any_authenticated_user"));
  EXPECT_THAT(routeErrors("    to: http://a\n    allow_any_authenticated_user: true\n"
                          "    allowed_domains: [example.com]\n"),
              ElementsAre("routes[0]: allow_any_authenticated_user cannot be combined with "
                          "allowed_users or allowed_domains"));
  Options o =
      loadOk(route("    to: http://a\n    allow_any_authenticated_user: true\n"
                   "    policy: {deny: {not: {domain: {is: example.com}}}}\n"));
  EXPECT_TRUE(o.routes[0].allow_any_authenticated_user);
}

TEST(RoutesTest, PolicyBecomesJson) {
  Options o = loadOk(route(R"(    to: http://a
    policy:
      - allow:
          or:
            - email: {is: "true"}
            - claim/level: 3
            - claim/ratio: 0.5
            - claim/admin: true
            - claim/none: null
            - user: {in: [a, 'b']}
)"));
  EXPECT_EQ(o.routes[0].policy_json,
            R"([{"allow":{"or":[{"email":{"is":"true"}},{"claim/level":3},{"claim/ratio":0.5},)"
            R"({"claim/admin":true},{"claim/none":null},{"user":{"in":["a","b"]}}]}}])");
  EXPECT_THAT(routeErrors("    to: http://a\n    policy: allow everyone\n"),
              ElementsAre("routes[0].policy: expected a policy rule or a list of rules"));
}

TEST(RoutesTest, RouteIdIsStableAndCoversTheMatchAndAction) {
  auto id = [](std::string_view body) { return loadOk(route(body)).routes[0].id; };
  std::string base = id("    to: http://a\n");
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(base.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(base, id("    to: http://a\n    allowed_users: [x@example.com]\n    timeout: 5s\n"));
  EXPECT_NE(base, id("    to: http://b\n"));
  EXPECT_NE(base, id("    to: 'http://a,2'\n"));
  EXPECT_NE(base, id("    to: http://a\n    prefix: /x\n"));
  EXPECT_NE(base, id("    to: http://a\n    path: /x\n"));
  EXPECT_NE(base, id("    to: http://a\n    regex: /x\n"));
  EXPECT_NE(id("    redirect: {host_redirect: a}\n"), id("    redirect: {host_redirect: b}\n"));
  EXPECT_NE(id("    response: {status: 200}\n"), id("    response: {status: 201}\n"));
  // Pinned: the id keys caches across reloads and must not change between
  // releases by accident.
  EXPECT_EQ(base, "d285c101886636d0");
}

TEST(RoutesTest, UpstreamTls) {
  std::string ca = base64Encode(testing::kCertPem);
  Options o = loadOk(route("    to: https://a\n    tls_custom_ca: " + ca +
                           "\n    tls_upstream_server_name: up.internal\n"
                           "    tls_server_name: ignored.internal\n    tls_skip_verify: true\n"));
  EXPECT_EQ(o.routes[0].tls_custom_ca_pem, testing::kCertPem);
  EXPECT_EQ(o.routes[0].tls_server_name, "up.internal");
  EXPECT_TRUE(o.routes[0].tls_skip_verify);

  EXPECT_THAT(routeErrors("    to: https://a\n    tls_custom_ca: '%%%'\n"),
              ElementsAre("routes[0].tls_custom_ca: invalid base64"));
  EXPECT_THAT(routeErrors("    to: https://a\n    tls_custom_ca: aGVsbG8=\n"),
              ElementsAre("routes[0].tls_custom_ca: does not decode to PEM data"));
  EXPECT_THAT(routeErrors("    to: https://a\n    tls_client_cert: " + ca + "\n"),
              ElementsAre("routes[0]: tls_client_cert and tls_client_key must be set together"));
  EXPECT_THAT(routeErrors("    to: https://a\n    tls_custom_ca: x\n    tls_custom_ca_file: y\n"),
              ElementsAre("routes[0]: set only one of tls_custom_ca and tls_custom_ca_file"));
  EXPECT_THAT(routeErrors("    to: https://a\n    tls_custom_ca_file: ca.pem\n"),
              ElementsAre("routes[0].tls_custom_ca_file: cannot read \"/nonexistent/ca.pem\": No "
                          "such file or directory"));
}

TEST(RoutesTest, LegacyPolicyKey) {
  Options o = loadOk("policy:\n  - {from: https://a.example.com, to: http://a}\n");
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].from_host, "a.example.com");
  EXPECT_THAT(load("policy:\n  - {from: https://a.example.com, to: htp://a}\n").errors,
              ElementsAre("policy[0].to: scheme \"htp\" is not one of http, https, h2c"));
  EXPECT_THAT(load("policy:\n  - {from: https://a.example.com, to: http://a}\n"
                   "routes:\n  - {from: https://b.example.com, to: http://b}\n")
                  .errors,
              ElementsAre("policy: set only one of routes and policy (policy is the older name of "
                          "routes)"));
}

TEST(RoutesTest, RouteShapeErrors) {
  EXPECT_THAT(load("routes: {from: x}").errors, ElementsAre("routes: expected a list of routes"));
  EXPECT_THAT(load("routes: [https://a]").errors,
              ElementsAre("routes[0]: expected a map with from and to"));
  EXPECT_THAT(routeErrors("    to: http://a\n    rewrite_response_headers: [{prefix: x}]\n"),
              ElementsAre("routes[0].rewrite_response_headers[0].header: required"));
  EXPECT_THAT(routeErrors("    to: http://a\n    depends_on: [a, b, c, d, e, f]\n"),
              ElementsAre("routes[0].depends_on: at most 5 hosts are allowed (got 6)"));
  EXPECT_THAT(routeErrors("    to: http://a\n    timeout: forever\n"),
              ElementsAre("routes[0].timeout: invalid duration \"forever\""));
  EXPECT_THAT(routeErrors("    to: http://a\n    allowed_users: {a: b}\n"),
              ElementsAre("routes[0].allowed_users: expected a list, got a map"));
}

}  // namespace
}  // namespace gatehouse::config

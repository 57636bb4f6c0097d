#include "authorize/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

using testing::loadRoutes;
using testing::User;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

EngineSettings settings() {
  EngineSettings s;
  s.signing_key = testing::ecKey();
  s.claim_headers = ClaimHeaders::parse("email,department").value();
  return s;
}

std::unique_ptr<Engine> build(const std::vector<config::Route>& routes,
                              const Engine* previous = nullptr, EngineSettings s = settings()) {
  auto engine = Engine::create(routes, std::move(s), previous);
  if (!engine) {
    ADD_FAILURE() << engine.error().message;
    return nullptr;
  }
  return std::move(*engine);
}

// A signed-in request's policy input.
struct Request {
  std::string email = "alice@example.com";
  bool authenticated = true;
  policy::Input input() const {
    policy::Input in;
    in.request.method = "GET";
    in.request.path = "/";
    in.request.host = "app.example.com";
    in.session.authenticated = authenticated;
    in.session.user_id = "user-1";
    in.session.email = email;
    return in;
  }
};

constexpr std::string_view kRoutes = R"(- from: https://a.example.com
  to: http://a.internal
  allowed_users: [alice@example.com]
- from: https://b.example.com
  to: http://b.internal
  policy:
    allow:
      and:
        - domain: {is: example.com}
- from: https://c.example.com
  to: http://c.internal
  allow_public_unauthenticated_access: true
)";

TEST(Engine, EvaluatesEachRoutesPolicy) {
  auto engine = build(loadRoutes(kRoutes));
  ASSERT_TRUE(engine);
  ASSERT_EQ(engine->routeCount(), 3U);
  EXPECT_TRUE(engine->evaluate(0, Request{}.input()).allowed());
  EXPECT_FALSE(engine->evaluate(0, Request{"bob@example.com"}.input()).allowed());
  EXPECT_TRUE(engine->evaluate(1, Request{"bob@example.com"}.input()).allowed());
  EXPECT_FALSE(engine->evaluate(1, Request{"eve@evil.example"}.input()).allowed());
  Request anonymous;
  anonymous.authenticated = false;
  EXPECT_TRUE(engine->evaluate(2, anonymous.input()).allowed());
  auto unknown = engine->evaluate(9, Request{}.input());
  EXPECT_TRUE(unknown.deny);
  EXPECT_TRUE(unknown.deny_reasons.has(policy::Reason::kRouteNotFound));
}

TEST(Engine, ReloadReusesUnchangedPoliciesAndRecompilesChangedOnes) {
  auto routes = loadRoutes(kRoutes);
  auto first = build(routes);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->reusedPolicyCount(), 0U);

  auto changed = loadRoutes(std::string(kRoutes) + R"(- from: https://d.example.com
  to: http://d.internal
  allow_any_authenticated_user: true
)");
  changed[1].policy_json = R"({"allow":{"and":[{"domain":{"is":"other.example"}}]}})";
  auto second = build(changed, first.get());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->reusedPolicyCount(), 2U);  // a and c; b changed, d is new
  EXPECT_EQ(&second->policy(0), &first->policy(0));
  EXPECT_NE(&second->policy(1), &first->policy(1));
  EXPECT_EQ(&second->policy(2), &first->policy(2));
  EXPECT_FALSE(second->evaluate(1, Request{"bob@example.com"}.input()).allowed());
  // The reused policy outlives the engine it came from.
  first.reset();
  EXPECT_TRUE(second->evaluate(0, Request{}.input()).allowed());

  // A route whose id changes (another `to`) is compiled again.
  auto moved = changed;
  moved[0].id = "another-id";
  auto third = build(moved, second.get());
  EXPECT_NE(&third->policy(0), &second->policy(0));
  EXPECT_EQ(third->reusedPolicyCount(), 3U);
}

TEST(Engine, RoutesWithEqualPolicyKeysShareOneCompiledPolicy) {
  auto engine = build(loadRoutes(std::string(kRoutes) + R"(- from: https://d.example.com
  to: http://d.internal
  allow_public_unauthenticated_access: true
)"));
  ASSERT_TRUE(engine);
  EXPECT_EQ(&engine->policy(3), &engine->policy(2));
  EXPECT_NE(&engine->policy(0), &engine->policy(2));
  Request anonymous;
  anonymous.authenticated = false;
  EXPECT_TRUE(engine->evaluate(3, anonymous.input()).allowed());
  EXPECT_FALSE(engine->evaluate(0, anonymous.input()).allowed());
}

TEST(Engine, OtherCompileOptionsRecompileEverything) {
  auto routes = loadRoutes(kRoutes);
  auto first = build(routes);
  EngineSettings s = settings();
  s.compile_options.deny_invalid_client_certificate = true;
  auto second = build(routes, first.get(), s);
  EXPECT_EQ(second->reusedPolicyCount(), 0U);
}

TEST(Engine, CompileErrorsNameTheRoute) {
  auto routes = loadRoutes(kRoutes);
  routes[1].policy_json = R"({"allow":{"and":[{"emial":"x"}]}})";
  routes[2].extra["jwt_issuer_format"] = "url";
  auto engine = Engine::create(routes, settings());
  ASSERT_FALSE(engine);
  EXPECT_THAT(engine.error().message, ::testing::HasSubstr("routes[1].policy"));
  EXPECT_THAT(engine.error().message, ::testing::HasSubstr("routes[2].jwt_issuer_format"));
  EXPECT_FALSE(Engine::create(routes, EngineSettings{}));  // no signing key
}

TEST(Engine, DecidesBySessionOnlyWhenNoCriterionReadsTheRequest) {
  auto engine = build(loadRoutes(R"(- from: https://users.example.com
  to: http://a.internal
  allowed_users: [alice@example.com]
  allowed_domains: [example.com]
  allowed_idp_claims: {department: [eng]}
- from: https://ppl.example.com
  to: http://b.internal
  policy:
    allow:
      or:
        - groups: {has: admins}
        - authenticated_user: true
        - claim/department: eng
    deny:
      and:
        - reject: true
- from: https://path.example.com
  to: http://c.internal
  policy:
    allow:
      and:
        - email: {is: alice@example.com}
        - http_path: {starts_with: /api}
- from: https://ip.example.com
  to: http://d.internal
  policy:
    deny:
      or:
        - source_ip: 10.0.0.0/8
    allow:
      or:
        - authenticated_user: true
- from: https://hours.example.com
  to: http://e.internal
  policy:
    allow:
      and:
        - authenticated_user: true
        - day_of_week: mon-fri
- from: https://cors.example.com
  to: http://f.internal
  cors_allow_preflight: true
  allow_any_authenticated_user: true
- from: https://public.example.com
  to: http://g.internal
  allow_public_unauthenticated_access: true
)"));
  ASSERT_TRUE(engine);
  EXPECT_TRUE(engine->decidesBySessionOnly(0));
  EXPECT_TRUE(engine->decidesBySessionOnly(1));
  EXPECT_FALSE(engine->decidesBySessionOnly(2));  // http_path
  EXPECT_FALSE(engine->decidesBySessionOnly(3));  // source_ip
  EXPECT_FALSE(engine->decidesBySessionOnly(4));  // the time
  EXPECT_FALSE(engine->decidesBySessionOnly(5));  // cors_preflight reads the method
  EXPECT_TRUE(engine->decidesBySessionOnly(6));
  EXPECT_FALSE(engine->decidesBySessionOnly(7));  // no such route

  // The default deny of an invalid client certificate reads the request.
  EngineSettings mtls = settings();
  mtls.compile_options.deny_invalid_client_certificate = true;
  auto with_mtls = build(loadRoutes(kRoutes), nullptr, mtls);
  ASSERT_TRUE(with_mtls);
  EXPECT_FALSE(with_mtls->decidesBySessionOnly(0));
  EXPECT_NE(with_mtls->id(), engine->id());
}

TEST(Engine, InternalPathsNeedingLogin) {
  for (std::string_view path :
       {"/.pomerium/jwt", "/.pomerium/user", "/.pomerium/webauthn", "/.pomerium/routes",
        "/.pomerium/api/v1/routes", "/.pomerium/mcp/routes", "/.pomerium/mcp/connect"}) {
    EXPECT_TRUE(Engine::internalPathNeedsLogin(path)) << path;
    auto anonymous = Engine::evaluateInternal(path, false);
    EXPECT_FALSE(anonymous.allowed()) << path;
    EXPECT_TRUE(anonymous.allow_reasons.has(policy::Reason::kUserUnauthenticated)) << path;
    EXPECT_TRUE(Engine::evaluateInternal(path, true).allowed()) << path;
  }
  for (std::string_view path : {"/.pomerium/", "/.pomerium/sign_out", "/.pomerium/callback/",
                                "/.well-known/pomerium/jwks.json", "/healthz", "/.pomerium/jwt/"}) {
    EXPECT_FALSE(Engine::internalPathNeedsLogin(path)) << path;
    EXPECT_TRUE(Engine::evaluateInternal(path, false).allowed()) << path;
  }
}

class EngineHeaders : public ::testing::Test {
 protected:
  OutputHeaders headersFor(const Engine& engine, size_t route, std::string_view host) {
    Identity identity = user_.identity();
    OutputHeaders out;
    header_views_.clear();
    for (const auto& [name, value] : request_headers_) header_views_.emplace_back(name, value);
    header_list_ = policy::HeaderList(header_views_);
    auto ok = engine.identityHeaders(route, identity,
                                     {.host = host,
                                      .request_headers = &header_list_,
                                      .client_cert_fingerprint = "",
                                      .now = kNow},
                                     cache_, out);
    EXPECT_TRUE(ok) << ok.error().message;
    return out;
  }

  static std::optional<std::string> find(const OutputHeaders& headers, std::string_view name) {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }

  User user_;
  JwtCache cache_;
  std::vector<std::pair<std::string, std::string>> request_headers_;
  std::vector<policy::HeaderList::Header> header_views_;
  policy::HeaderList header_list_;
};

constexpr std::string_view kHeaderRoutes = R"(- from: https://pass.example.com
  to: http://a.internal
  pass_identity_headers: true
  allow_any_authenticated_user: true
- from: https://quiet.example.com
  to: http://b.internal
  allow_any_authenticated_user: true
  set_request_headers:
    Authorization: Bearer ${pomerium.jwt}
    X-Static: plain
- from: https://uri.example.com
  to: http://c.internal
  pass_identity_headers: true
  jwt_issuer_format: uri
  allow_any_authenticated_user: true
- from: https://*.wild.example.com
  to: http://d.internal
  pass_identity_headers: true
  allow_any_authenticated_user: true
)";

TEST_F(EngineHeaders, PassIdentityHeadersAddsTheJwtAndClaimHeaders) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  ASSERT_TRUE(engine);
  user_.claims = {{"department", {"R&D", "Ops"}}};
  request_headers_ = {{"X-Pomerium-Jwt-Assertion", "upstream-hop-jwt"}};
  OutputHeaders out = headersFor(*engine, 0, "pass.example.com");
  auto jwt = find(out, "X-Pomerium-Jwt-Assertion");
  ASSERT_TRUE(jwt);
  auto payload = testing::verifiedPayload(*jwt, engine->jwks().body);
  EXPECT_EQ(payload["aud"], "pass.example.com");
  EXPECT_EQ(payload["iss"], "pass.example.com");
  EXPECT_EQ(payload["department"], "R&D,Ops");
  EXPECT_EQ(find(out, "X-Pomerium-Claim-Email"), "alice@example.com");
  EXPECT_EQ(find(out, "X-Pomerium-Claim-Department"), "R&D,Ops");
  EXPECT_EQ(find(out, "X-Pomerium-Jwt-Assertion-For"), "upstream-hop-jwt");
  EXPECT_TRUE(engine->passesIdentityHeaders(0));
}

TEST_F(EngineHeaders, WithoutPassIdentityHeadersOnlySetRequestHeaders) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  ASSERT_TRUE(engine);
  OutputHeaders out = headersFor(*engine, 1, "quiet.example.com");
  EXPECT_FALSE(find(out, "X-Pomerium-Jwt-Assertion"));
  EXPECT_FALSE(find(out, "X-Pomerium-Claim-Email"));
  EXPECT_EQ(find(out, "X-Static"), "plain");
  auto authorization = find(out, "Authorization");
  ASSERT_TRUE(authorization);
  ASSERT_EQ(authorization->rfind("Bearer ", 0), 0U);
  auto payload = testing::verifiedPayload(authorization->substr(7), engine->jwks().body);
  EXPECT_EQ(payload["aud"], "quiet.example.com");
  EXPECT_FALSE(engine->passesIdentityHeaders(1));
}

TEST_F(EngineHeaders, GlobalDefaultAndRouteIssuerFormat) {
  EngineSettings s = settings();
  s.pass_identity_headers = true;
  s.issuer_format = IssuerFormat::kUri;
  auto engine = build(loadRoutes(kHeaderRoutes), nullptr, s);
  ASSERT_TRUE(engine);
  EXPECT_TRUE(engine->passesIdentityHeaders(1));
  auto out = headersFor(*engine, 1, "quiet.example.com");
  auto payload =
      testing::verifiedPayload(find(out, "X-Pomerium-Jwt-Assertion").value(), engine->jwks().body);
  EXPECT_EQ(payload["iss"], "https://quiet.example.com/");

  auto host_only = build(loadRoutes(kHeaderRoutes));
  auto uri_out = headersFor(*host_only, 2, "uri.example.com");
  payload = testing::verifiedPayload(find(uri_out, "X-Pomerium-Jwt-Assertion").value(),
                                     host_only->jwks().body);
  EXPECT_EQ(payload["iss"], "https://uri.example.com/");
}

TEST_F(EngineHeaders, WildcardRouteAudienceIsTheRequestedHost) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  auto out = headersFor(*engine, 3, "x.wild.example.com");
  auto payload =
      testing::verifiedPayload(find(out, "X-Pomerium-Jwt-Assertion").value(), engine->jwks().body);
  EXPECT_EQ(payload["aud"], "x.wild.example.com");
}

TEST_F(EngineHeaders, RepeatedRequestsShareTheCachedJwt) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  auto first = find(headersFor(*engine, 0, "pass.example.com"), "X-Pomerium-Jwt-Assertion");
  auto second = find(headersFor(*engine, 0, "pass.example.com"), "X-Pomerium-Jwt-Assertion");
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache_.stats().hits, 1U);
}

TEST_F(EngineHeaders, ClaimHeadersKeptWithTheTokenFollowItAndTheEngine) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  user_.claims = {{"department", "R&D"}};
  user_.view = 5;
  OutputHeaders first = headersFor(*engine, 0, "pass.example.com");
  OutputHeaders again = headersFor(*engine, 0, "pass.example.com");
  EXPECT_EQ(again, first);
  EXPECT_EQ(cache_.stats().hits, 1U);
  EXPECT_EQ(find(again, "X-Pomerium-Claim-Department"), "R&D");

  // A changed user record is a new view: the token is signed again and the
  // claim headers are made from it.
  user_.claims = {{"department", "Ops"}};
  user_.view = 6;
  OutputHeaders changed = headersFor(*engine, 0, "pass.example.com");
  EXPECT_NE(find(changed, "X-Pomerium-Jwt-Assertion"), find(first, "X-Pomerium-Jwt-Assertion"));
  EXPECT_EQ(find(changed, "X-Pomerium-Claim-Department"), "Ops");

  // Another configuration names the headers differently for the same
  // claims: the cached token serves, with the new engine's headers.
  EngineSettings renamed = settings();
  renamed.claim_headers =
      ClaimHeaders::parse(R"({"X-Email": "email", "X-Dept": "department"})").value();
  auto next = build(loadRoutes(kHeaderRoutes), engine.get(), renamed);
  ASSERT_TRUE(next);
  OutputHeaders out = headersFor(*next, 0, "pass.example.com");
  EXPECT_EQ(find(out, "X-Pomerium-Jwt-Assertion"), find(changed, "X-Pomerium-Jwt-Assertion"));
  EXPECT_EQ(find(out, "X-Dept"), "Ops");
  EXPECT_EQ(find(out, "X-Email"), "alice@example.com");
  EXPECT_FALSE(find(out, "X-Pomerium-Claim-Department"));
  // And the first engine's again, for a request it still decides.
  EXPECT_EQ(find(headersFor(*engine, 0, "pass.example.com"), "X-Pomerium-Claim-Department"), "Ops");
}

TEST_F(EngineHeaders, InternalEndpointsGetTheJwt) {
  auto engine = build(loadRoutes(kHeaderRoutes));
  Identity identity = user_.identity();
  OutputHeaders out;
  ASSERT_TRUE(engine->internalIdentityHeaders(identity, {.host = "quiet.example.com", .now = kNow},
                                              cache_, out));
  EXPECT_TRUE(find(out, "X-Pomerium-Jwt-Assertion"));
  EXPECT_EQ(find(out, "X-Pomerium-Claim-Email"), "alice@example.com");
}

}  // namespace
}  // namespace gatehouse::authorize

// The legacy route keys compile into the same engine, as Pomerium's
// config/policy_ppl.go ToPPL builds them: one `allow: {or: [...]}` rule
// before the route's own policy.
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Policy compileRoute(std::string_view keys) {
  std::vector<std::string> errors;
  auto route = loadRoute(keys, &errors);
  if (!route) {
    ADD_FAILURE() << "config rejected the route: " << (errors.empty() ? "" : errors.front());
    return Policy::compileDocument(R"({"allow": {"or": [{"reject": 1}]}})", "x").value();
  }
  auto policy = Policy::compile(*route);
  if (!policy) {
    ADD_FAILURE() << policy.error().message;
    return Policy::compileDocument(R"({"allow": {"or": [{"reject": 1}]}})", "x").value();
  }
  return std::move(*policy);
}

TEST(LegacyKeys, AllowedUsersMatchUserIdOrEmail) {
  Policy policy = compileRoute("allowed_users: [alice@example.com, 'oidc|bob']\n");
  Request alice = Request::user("alice@example.com", "oidc|alice");
  Request bob = Request::user("bob@example.com", "oidc|bob");
  Request eve = Request::user("eve@example.com", "oidc|eve");
  Decision da = policy.evaluate(alice.input());
  EXPECT_TRUE(da.allowed());
  EXPECT_EQ(names(da.allow_reasons), Names{"email-ok"});
  Decision db = policy.evaluate(bob.input());
  EXPECT_TRUE(db.allowed());
  EXPECT_EQ(names(db.allow_reasons), Names{"user-ok"});
  Decision de = policy.evaluate(eve.input());
  EXPECT_FALSE(de.allowed());
  EXPECT_EQ(names(de.allow_reasons), (Names{"email-unauthorized", "user-unauthorized"}));
  Request anonymous;
  EXPECT_EQ(names(policy.evaluate(anonymous.input()).allow_reasons), Names{"user-unauthenticated"});
}

TEST(LegacyKeys, AllowedDomains) {
  Policy policy = compileRoute("allowed_domains: [example.com, example.org]\n");
  Request a = Request::user("a@example.org");
  Request b = Request::user("b@example.net");
  Decision da = policy.evaluate(a.input());
  EXPECT_TRUE(da.allowed());
  EXPECT_EQ(names(da.allow_reasons), Names{"domain-ok"});
  EXPECT_FALSE(policy.evaluate(b.input()).allowed());
}

TEST(LegacyKeys, AllowedIdpClaimsOneCriterionPerValue) {
  Policy policy =
      compileRoute("allowed_idp_claims:\n  groups: [admins, devs]\n  email_verified: [true]\n");
  Request dev = Request::user("d@example.com");
  dev.claims = {{"groups", {"devs"}}};
  Decision d = policy.evaluate(dev.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"claim-ok"});
  Request verified = Request::user("v@example.com");
  verified.claims = {{"email_verified", true}};  // the YAML true is the boolean
  EXPECT_TRUE(policy.evaluate(verified.input()).allowed());
  Request neither = Request::user("n@example.com");
  neither.claims = {{"groups", {"ops"}}, {"email_verified", false}};
  EXPECT_FALSE(policy.evaluate(neither.input()).allowed());
}

TEST(LegacyKeys, PublicAccess) {
  Policy policy = compileRoute("allow_public_unauthenticated_access: true\n");
  Request anonymous;
  Decision d = policy.evaluate(anonymous.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"accept"});
}

TEST(LegacyKeys, AnyAuthenticatedUser) {
  Policy policy = compileRoute("allow_any_authenticated_user: true\n");
  Request user = Request::user("anyone@anywhere.com");
  Request anonymous;
  EXPECT_TRUE(policy.evaluate(user.input()).allowed());
  Decision d = policy.evaluate(anonymous.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthenticated"});
}

TEST(LegacyKeys, CorsPreflightNeedsNoSession) {
  Policy policy = compileRoute("allowed_users: [alice@example.com]\ncors_allow_preflight: true\n");
  Request preflight;
  preflight.method = "OPTIONS";
  preflight.headers = {{"Origin", "https://x.example.com"},
                       {"Access-Control-Request-Method", "GET"}};
  Decision d = policy.evaluate(preflight.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"cors-request"});
  Request get;
  EXPECT_EQ(names(policy.evaluate(get.input()).allow_reasons),
            (Names{"non-cors-request", "user-unauthenticated"}));
}

TEST(LegacyKeys, OredWithThePolicy) {
  Policy policy = compileRoute(
      "allowed_users: [alice@example.com]\n"
      "policy:\n"
      "  - allow:\n"
      "      or:\n"
      "        - domain: example.org\n"
      "  - deny:\n"
      "      or:\n"
      "        - http_path: {starts_with: /admin}\n");
  Request alice = Request::user("alice@example.com");
  Request org = Request::user("bob@example.org");
  Request other = Request::user("carol@example.com");
  EXPECT_TRUE(policy.evaluate(alice.input()).allowed());
  EXPECT_TRUE(policy.evaluate(org.input()).allowed());
  EXPECT_FALSE(policy.evaluate(other.input()).allowed());
  alice.path = "/admin/x";
  Decision d = policy.evaluate(alice.input());
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.deny);
  EXPECT_FALSE(d.allowed());  // a policy deny also beats a legacy allow
}

TEST(LegacyKeys, NoPolicyAtAllDeniesEveryone) {
  Policy policy = compileRoute("");
  Request user = Request::user("a@example.com");
  Decision d = policy.evaluate(user.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(policy.criterionCount(), 0u);
}

TEST(LegacyKeys, InvalidCombinationsAreConfigErrors) {
  std::vector<std::string> errors;
  EXPECT_FALSE(
      loadRoute("allow_public_unauthenticated_access: true\nallowed_users: [a@b.c]\n", &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors.front(),
              ::testing::HasSubstr("allow_public_unauthenticated_access cannot be combined"));
  EXPECT_FALSE(loadRoute("allow_any_authenticated_user: true\nallowed_domains: [b.c]\n", &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors.front(),
              ::testing::HasSubstr("allow_any_authenticated_user cannot be combined"));

  // A Route built by hand gets the same answer from the compiler.
  config::Route route;
  route.index = 4;
  route.allow_public_unauthenticated_access = true;
  route.policy_json = R"({"allow": {"or": [{"email": "a@b.c"}]}})";
  auto policy = Policy::compile(route);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(
      policy.error().message,
      ::testing::StartsWith("routes[4]: allow_public_unauthenticated_access cannot be combined"));
  config::Route any;
  any.allow_any_authenticated_user = true;
  any.allowed_users = {"a@b.c"};
  EXPECT_FALSE(Policy::compile(any).ok());
}

TEST(LegacyKeys, DefaultClientCertificateDenyApplies) {
  std::vector<std::string> errors;
  auto route = loadRoute("allow_public_unauthenticated_access: true\n", &errors);
  ASSERT_TRUE(route);
  CompileOptions options;
  options.deny_invalid_client_certificate = true;
  auto policy = Policy::compile(*route, options);
  ASSERT_TRUE(policy.ok());
  Request anonymous;
  Decision d = policy->evaluate(anonymous.input());
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.deny);
  EXPECT_EQ(names(d.deny_reasons), Names{"client-certificate-required"});
}

}  // namespace
}  // namespace gatehouse::policy::testing

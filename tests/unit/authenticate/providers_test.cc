#include <gtest/gtest.h>

#include "authenticate/oidc/provider_registry.h"
#include "unit/authenticate/fake_idp.h"

namespace gatehouse::authenticate::oidc {
namespace {

using testing::FakeIdp;
using testing::jsonResponse;
using testing::ManualClock;
using testing::run;

// Moves the fake IdP to another issuer URL (every endpoint under it).
void moveIdp(FakeIdp& idp, const std::string& issuer) {
  for (auto it = idp.discovery.begin(); it != idp.discovery.end(); ++it) {
    if (it->is_string()) {
      std::string value = it->get<std::string>();
      if (value.rfind(idp.issuer, 0) == 0) *it = issuer + value.substr(idp.issuer.size());
    }
  }
  idp.issuer = issuer;
}

ProviderSettings settingsFor(const FakeIdp& idp, std::string type, std::string url = "") {
  ProviderSettings settings;
  settings.type = std::move(type);
  settings.provider_url = std::move(url);
  settings.client_id = idp.client_id;
  settings.client_secret = idp.client_secret;
  settings.redirect_url = "https://authenticate.example.com/oauth2/callback";
  return settings;
}

TEST(ProviderRegistry, NamesEveryProviderAndRefusesOthers) {
  auto idp = std::make_shared<FakeIdp>();
  EXPECT_EQ(providerNames(), (std::vector<std::string_view>{"oidc", "google", "github", "gitlab",
                                                            "okta", "auth0", "azure"}));
  auto unknown = makeProvider(settingsFor(*idp, "myspace", idp->issuer), idp);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("idp_provider"), std::string::npos);

  auto no_url = makeProvider(settingsFor(*idp, "oidc"), idp);
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.error().message.find("idp_provider_url"), std::string::npos);

  auto bad_url = makeProvider(settingsFor(*idp, "okta", "ftp://okta.example.com"), idp);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.error().message.find("idp_provider_url"), std::string::npos);

  auto settings = settingsFor(*idp, "oidc", idp->issuer);
  settings.client_id.clear();
  EXPECT_NE(makeProvider(settings, idp).error().message.find("idp_client_id"), std::string::npos);

  // idp_request_params may add parameters, never replace the flow's own.
  settings = settingsFor(*idp, "oidc", idp->issuer);
  settings.request_params = {{"state", "fixed"}};
  EXPECT_NE(makeProvider(settings, idp).error().message.find("idp_request_params"),
            std::string::npos);

  for (auto name : providerNames()) {
    auto made = makeProvider(settingsFor(*idp, std::string(name), idp->issuer), idp);
    ASSERT_TRUE(made.ok()) << name;
    EXPECT_EQ((*made)->name(), name);
  }
}

TEST(GoogleProvider, AsksForOfflineAccessAndConsent) {
  auto idp = std::make_shared<FakeIdp>();
  moveIdp(*idp, "https://accounts.google.com");
  auto google = makeProvider(settingsFor(*idp, "google"), idp).value();
  auto url = run(google->authorizeUrl("s", "n", ""));
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_NE(url->find("&scope=openid+profile+email&"), std::string::npos) << *url;
  EXPECT_NE(url->find("&access_type=offline&prompt=select_account+consent"), std::string::npos)
      << *url;
  EXPECT_EQ(idp->count("https://accounts.google.com/.well-known/openid-configuration"), 1);

  // idp_request_params replace Google's defaults.
  auto settings = settingsFor(*idp, "google");
  settings.request_params = {{"hd", "example.com"}};
  auto custom = run(makeProvider(settings, idp).value()->authorizeUrl("s", "n", "")).value();
  EXPECT_EQ(custom.find("access_type"), std::string::npos);
  EXPECT_NE(custom.find("&hd=example.com"), std::string::npos);
}

TEST(Auth0Provider, KeepsTheTrailingSlashIssuerAndLogsOutAtV2Logout) {
  auto idp = std::make_shared<FakeIdp>();
  moveIdp(*idp, "https://tenant.auth0.com");
  idp->discovery["issuer"] = "https://tenant.auth0.com/";
  ManualClock clock;
  idp->clock = &clock;
  auto auth0 =
      makeProvider(settingsFor(*idp, "auth0", "https://tenant.auth0.com"), idp, clock.clock())
          .value();
  EXPECT_EQ(run(auth0->issuer()).value(), "https://tenant.auth0.com/");
  EXPECT_EQ(idp->count("https://tenant.auth0.com/.well-known/openid-configuration"), 1);

  // Tokens name the issuer with its slash, exactly.
  auto claims = idp->goodClaims();
  claims["iss"] = "https://tenant.auth0.com/";
  idp->answerTokens(idp->idToken(claims));
  auto identity = run(auth0->exchangeCode("code", "", "nonce-1"));
  EXPECT_TRUE(identity.ok()) << identity.error().message;
  claims["iss"] = "https://tenant.auth0.com";
  idp->answerTokens(idp->idToken(claims));
  EXPECT_FALSE(run(auth0->exchangeCode("code", "", "nonce-1")).ok());

  auto logout = run(auth0->endSessionUrl("hint", "https://app.example.com/", "st"));
  EXPECT_EQ(logout.value(),
            "https://tenant.auth0.com/v2/logout?client_id=gatehouse-client&returnTo=https%3A%2F%"
            "2Fapp.example.com%2F");
}

class AzureProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    idp_ = std::make_shared<FakeIdp>();
    moveIdp(*idp_, "https://login.microsoftonline.com/common/v2.0");
    // The "common" endpoint publishes a template, not an issuer.
    idp_->discovery["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0";
    idp_->clock = &clock_;
    azure_ = makeProvider(settingsFor(*idp_, "azure"), idp_, clock_.clock()).value();
  }

  nlohmann::json claims(const std::string& tenant, const std::string& issuer_tenant) {
    auto c = idp_->goodClaims();
    c["iss"] = "https://login.microsoftonline.com/" + issuer_tenant + "/v2.0";
    c["tid"] = tenant;
    c["oid"] = "00000000-0000-0000-0000-00000000000a";
    return c;
  }

  ManualClock clock_;
  std::shared_ptr<FakeIdp> idp_;
  std::shared_ptr<Provider> azure_;
};

TEST_F(AzureProviderTest, UserIdIsTheOidClaimAndTheIssuerIsTheTokensTenant) {
  const std::string tenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
  idp_->answerTokens(idp_->idToken(claims(tenant, tenant)));
  auto identity = run(azure_->exchangeCode("code", "", "nonce-1"));
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->subject, "00000000-0000-0000-0000-00000000000a");
  EXPECT_EQ(identity->claims["sub"], "user-1");

  auto url = run(azure_->authorizeUrl("s", "n", "")).value();
  EXPECT_NE(url.find("&prompt=select_account"), std::string::npos);
}

TEST_F(AzureProviderTest, ATokenFromAnotherTenantsIssuerIsRefused) {
  idp_->answerTokens(idp_->idToken(claims("tenant-a", "tenant-b")));
  auto identity = run(azure_->exchangeCode("code", "", "nonce-1"));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kUnauthenticated);

  auto no_tid = claims("t", "t");
  no_tid.erase("tid");
  idp_->answerTokens(idp_->idToken(no_tid));
  EXPECT_FALSE(run(azure_->exchangeCode("code", "", "nonce-1")).ok());
}

TEST(AzureProvider, ATemplateIssuerIsOnlyAcceptedFromMicrosoft) {
  auto idp = std::make_shared<FakeIdp>();
  idp->discovery["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0";
  auto azure = makeProvider(settingsFor(*idp, "azure", idp->issuer), idp).value();
  EXPECT_FALSE(run(azure->issuer()).ok());
}

class GitHubProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    idp_ = std::make_shared<FakeIdp>();
    idp_->routes["https://github.com/login/oauth/access_token"] = [this](const FetchRequest& r) {
      token_requests_.push_back(r);
      return Result<FetchResponse>(jsonResponse(200, token_body_));
    };
    idp_->routes["https://api.github.com/user"] = [this](const FetchRequest& r) {
      EXPECT_EQ(r.headers.get("authorization"), "Bearer gho_token");
      return Result<FetchResponse>(jsonResponse(user_status_, user_body_));
    };
    idp_->routes["https://api.github.com/user/emails"] = [this](const FetchRequest&) {
      return Result<FetchResponse>(jsonResponse(200, emails_body_));
    };
    github_ = makeProvider(settingsFor(*idp_, "github"), idp_, clock_.clock()).value();
  }

  ManualClock clock_;
  std::shared_ptr<FakeIdp> idp_;
  std::shared_ptr<Provider> github_;
  std::vector<FetchRequest> token_requests_;
  std::string token_body_ =
      R"({"access_token":"gho_token","token_type":"bearer","scope":"read:org,user:email"})";
  int user_status_ = 200;
  std::string user_body_ =
      R"({"login":"octocat","id":583231,"name":"The Octocat","avatar_url":"https://avatars.example/u/583231"})";
  std::string emails_body_ = R"([
      {"email":"old@example.com","primary":false,"verified":true},
      {"email":"unverified@example.com","primary":true,"verified":false},
      {"email":"octocat@example.com","primary":true,"verified":true}])";
};

TEST_F(GitHubProviderTest, MapsTheUserAndThePrimaryVerifiedEmail) {
  auto url = run(github_->authorizeUrl("state-1", "nonce-1", "challenge")).value();
  EXPECT_EQ(url.rfind("https://github.com/login/oauth/authorize?client_id=gatehouse-client&", 0),
            0u)
      << url;
  EXPECT_NE(url.find("&scope=user%3Aemail+read%3Aorg&state=state-1"), std::string::npos) << url;
  EXPECT_FALSE(run(github_->supportsPkce()));
  EXPECT_EQ(run(github_->issuer()).value(), "");

  auto identity = run(github_->exchangeCode("code-1", "", "nonce-1"));
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->subject, "583231");
  EXPECT_EQ(identity->claims["sub"], "583231");
  EXPECT_EQ(identity->claims["user"], "octocat");
  EXPECT_EQ(identity->claims["login"], "octocat");
  EXPECT_EQ(identity->claims["name"], "The Octocat");
  EXPECT_EQ(identity->claims["email"], "octocat@example.com");
  EXPECT_EQ(identity->claims["email_verified"], true);
  EXPECT_EQ(identity->claims["picture"], "https://avatars.example/u/583231");
  EXPECT_EQ(identity->tokens.access_token, "gho_token");
  EXPECT_EQ(identity->tokens.expiry, clock_.wall + std::chrono::hours(1));

  ASSERT_EQ(token_requests_.size(), 1u);
  EXPECT_EQ(token_requests_[0].headers.get("accept"), "application/json");
  EXPECT_NE(token_requests_[0].body.find("code=code-1"), std::string::npos);
  EXPECT_NE(token_requests_[0].body.find("client_secret="), std::string::npos);
}

TEST_F(GitHubProviderTest, NoVerifiedPrimaryEmailMeansNoEmail) {
  emails_body_ = R"([{"email":"x@example.com","primary":true,"verified":false}])";
  auto identity = run(github_->exchangeCode("code-1", "", ""));
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_FALSE(identity->claims.contains("email"));
}

TEST_F(GitHubProviderTest, ErrorsAndRefresh) {
  // GitHub reports a bad code with status 200 and an "error" member.
  token_body_ = R"({"error":"bad_verification_code","error_description":"The code is wrong"})";
  auto bad = run(github_->exchangeCode("code-1", "", ""));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);

  // A login without a numeric id is not a user.
  token_body_ = R"({"access_token":"gho_token"})";
  user_body_ = R"({"login":"octocat","id":"583231"})";
  EXPECT_EQ(run(github_->exchangeCode("code-1", "", "")).error().code, ErrorCode::kProtocol);

  // "Refresh" of a non-expiring token checks it against the API again; a
  // revoked token is a permanent failure.
  Tokens tokens;
  tokens.access_token = "gho_token";
  user_status_ = 401;
  EXPECT_EQ(run(github_->refresh(tokens)).error().code, ErrorCode::kUnauthenticated);
  user_status_ = 502;
  EXPECT_TRUE(run(github_->refresh(tokens)).error().retryable);
}

TEST(GitHubProvider, EnterpriseServerUsesItsApiPath) {
  auto idp = std::make_shared<FakeIdp>();
  auto github = makeProvider(settingsFor(*idp, "github", "https://ghe.example.com/"), idp).value();
  auto url = run(github->authorizeUrl("s", "", "")).value();
  EXPECT_EQ(url.rfind("https://ghe.example.com/login/oauth/authorize?", 0), 0u);
  Tokens tokens;
  tokens.access_token = "t";
  (void)run(github->refresh(tokens));
  EXPECT_EQ(idp->count("https://ghe.example.com/api/v3/user"), 1);
}

}  // namespace
}  // namespace gatehouse::authenticate::oidc

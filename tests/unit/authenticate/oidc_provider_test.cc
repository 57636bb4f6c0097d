#include "authenticate/oidc/oidc_provider.h"

#include <gtest/gtest.h>

#include "authenticate/oidc/form_encoding.h"
#include "authenticate/oidc/pkce.h"
#include "authenticate/oidc/provider_registry.h"
#include "unit/authenticate/fake_idp.h"

namespace gatehouse::authenticate::oidc {
namespace {

using testing::FakeIdp;
using testing::ManualClock;
using testing::run;
using testing::TestKeys;

class OidcProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    idp_ = std::make_shared<FakeIdp>();
    idp_->clock = &clock_;
  }

  std::shared_ptr<Provider> provider(std::string type = "oidc") {
    ProviderSettings settings;
    settings.type = std::move(type);
    settings.provider_url = idp_->issuer;
    settings.client_id = idp_->client_id;
    settings.client_secret = idp_->client_secret;
    settings.redirect_url = "https://authenticate.example.com/oauth2/callback";
    settings.request_params = request_params_;
    auto made = makeProvider(settings, idp_, clock_.clock());
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    return *made;
  }

  Result<Identity> login(const std::string& id_token, std::string nonce = "nonce-1") {
    idp_->answerTokens(id_token);
    auto p = provider();
    return run(p->exchangeCode("code-1", "verifier-1", nonce));
  }

  ManualClock clock_;
  std::shared_ptr<FakeIdp> idp_;
  std::vector<std::pair<std::string, std::string>> request_params_;
};

void expectRefused(const Result<Identity>& result, std::string_view why) {
  ASSERT_FALSE(result.ok()) << why;
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthenticated) << result.error().message;
  EXPECT_NE(result.error().message.find(why), std::string::npos) << result.error().message;
}

TEST_F(OidcProviderTest, GoodLoginVerifiesTheIdTokenAndMergesUserinfo) {
  idp_->userinfo = {{"sub", "user-1"},
                    {"name", "From Userinfo"},
                    {"groups", {"a", "b"}},
                    {"iss", "https://elsewhere"}};
  auto identity = login(idp_->idToken(idp_->goodClaims()));
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->subject, "user-1");
  EXPECT_EQ(identity->claims["email"], "user@example.com");
  EXPECT_EQ(identity->claims["name"], "From Userinfo");
  EXPECT_EQ(identity->claims["groups"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(identity->claims["iss"], idp_->issuer);  // userinfo may not replace it
  EXPECT_EQ(identity->tokens.access_token, "access-1");
  EXPECT_EQ(identity->tokens.refresh_token, "refresh-1");
  EXPECT_EQ(identity->tokens.expiry, clock_.wall + std::chrono::seconds(3600));

  // The token request: client_secret_basic, the code, the PKCE verifier.
  const FetchRequest* token = idp_->last(idp_->issuer + "/token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->method, "POST");
  EXPECT_EQ(token->headers.get("authorization"),
            basicAuthorization(idp_->client_id, idp_->client_secret));
  EXPECT_EQ(token->body,
            "grant_type=authorization_code&code=code-1&redirect_uri=https%3A%2F%2Fauthenticate."
            "example.com%2Foauth2%2Fcallback&code_verifier=verifier-1");
  const FetchRequest* userinfo = idp_->last(idp_->issuer + "/userinfo");
  ASSERT_NE(userinfo, nullptr);
  EXPECT_EQ(userinfo->headers.get("authorization"), "Bearer access-1");
}

TEST_F(OidcProviderTest, EveryAsymmetricAlgorithmIsAccepted) {
  const auto& keys = TestKeys::get();
  for (const crypto::Jwk* key : {&keys.rsa, &keys.rsa_pss, &keys.ec, &keys.ed}) {
    auto identity = login(FakeIdp::sign(*key, idp_->goodClaims()));
    EXPECT_TRUE(identity.ok()) << key->keyId() << ": " << identity.error().message;
  }
}

TEST_F(OidcProviderTest, WrongIssuerAudienceOrAuthorizedPartyIsRefused) {
  auto claims = idp_->goodClaims();
  claims["iss"] = "https://idp.example.com/";
  expectRefused(login(idp_->idToken(claims)), "iss");

  claims = idp_->goodClaims();
  claims["aud"] = "someone-else";
  expectRefused(login(idp_->idToken(claims)), "aud");

  claims = idp_->goodClaims();
  claims["aud"] = {idp_->client_id, "another-client"};
  claims["azp"] = "another-client";
  expectRefused(login(idp_->idToken(claims)), "authorized party");

  // Several audiences without azp: OIDC Core 3.1.3.7 wants one.
  claims.erase("azp");
  EXPECT_FALSE(login(idp_->idToken(claims)).ok());
  claims["azp"] = idp_->client_id;
  EXPECT_TRUE(login(idp_->idToken(claims)).ok());
}

TEST_F(OidcProviderTest, TimeClaimsAreCheckedWithLeeway) {
  auto claims = idp_->goodClaims();
  claims["exp"] = clock_.unix() - 61;
  expectRefused(login(idp_->idToken(claims)), "exp");
  claims["exp"] = clock_.unix() - 30;  // within the 60 s leeway
  EXPECT_TRUE(login(idp_->idToken(claims)).ok());

  claims = idp_->goodClaims();
  claims["nbf"] = clock_.unix() + 120;
  expectRefused(login(idp_->idToken(claims)), "not valid yet");

  claims = idp_->goodClaims();
  claims.erase("iat");
  EXPECT_FALSE(login(idp_->idToken(claims)).ok());
}

TEST_F(OidcProviderTest, NonceMustMatchOnLogin) {
  expectRefused(login(idp_->idToken(idp_->goodClaims("other-nonce"))), "nonce");
  expectRefused(login(idp_->idToken(idp_->goodClaims(""))), "nonce");
}

TEST_F(OidcProviderTest, AlgNoneAndHmacTokensAreRefused) {
  const std::string payload = base64UrlEncode(idp_->goodClaims().dump());
  const std::string none = base64UrlEncode(R"({"alg":"none"})") + "." + payload + ".";
  EXPECT_FALSE(login(none).ok());
  const std::string none_signed = base64UrlEncode(R"({"alg":"none"})") + "." + payload + ".AAAA";
  expectRefused(login(none_signed), "none");

  // HS256 keyed with the client secret, which OIDC Core 10.1 would allow:
  // refused, since everything that holds the configuration knows the secret.
  auto secret = crypto::Jwk::fromSecret(idp_->client_secret);
  ASSERT_TRUE(secret.ok());
  expectRefused(login(FakeIdp::sign(*secret, idp_->goodClaims())), "HS256");
}

TEST_F(OidcProviderTest, AnAlgorithmTheIdpDoesNotAdvertiseIsRefused) {
  idp_->discovery["id_token_signing_alg_values_supported"] = {"RS256"};
  expectRefused(login(FakeIdp::sign(TestKeys::get().ec, idp_->goodClaims())), "advertise");
}

TEST_F(OidcProviderTest, ForgedSignatureIsRefused) {
  // Signed by a key the IdP does not publish, under a published kid.
  auto forger = crypto::Jwk::fromOpensslKey(TestKeys::get().other_rsa.opensslKey(), "rsa-1",
                                            crypto::JwsAlgorithm::kRs256);
  expectRefused(login(FakeIdp::sign(*forger, idp_->goodClaims())), "signature");
}

TEST_F(OidcProviderTest, UnknownKeyIdRefetchesOnceThenIsRateLimited) {
  auto p = provider();
  const std::string jwks = idp_->issuer + "/jwks";
  idp_->answerTokens(idp_->idToken(idp_->goodClaims()));
  ASSERT_TRUE(run(p->exchangeCode("c", "", "nonce-1")).ok());
  EXPECT_EQ(idp_->count(jwks), 1);

  // A key the IdP has not published (yet): one refetch, then refused.
  auto unknown = crypto::Jwk::fromOpensslKey(TestKeys::get().other_rsa.opensslKey(), "rsa-new",
                                             crypto::JwsAlgorithm::kRs256);
  idp_->answerTokens(FakeIdp::sign(*unknown, idp_->goodClaims()));
  expectRefused(run(p->exchangeCode("c", "", "nonce-1")), "rsa-new");
  EXPECT_EQ(idp_->count(jwks), 2);

  // Another unknown kid right after: no fetch at all.
  expectRefused(run(p->exchangeCode("c", "", "nonce-1")), "moments ago");
  EXPECT_EQ(idp_->count(jwks), 2);

  // The IdP rotates; 30 s later the next unknown kid is fetched and works.
  idp_->published.push_back(*unknown);
  clock_.advance(std::chrono::seconds(31));
  idp_->answerTokens(FakeIdp::sign(*unknown, idp_->goodClaims()));
  auto identity = run(p->exchangeCode("c", "", "nonce-1"));
  EXPECT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(idp_->count(jwks), 3);
  // Discovery was fetched once for all of it.
  EXPECT_EQ(idp_->count(idp_->issuer + "/.well-known/openid-configuration"), 1);
}

TEST_F(OidcProviderTest, AuthorizeUrlCarriesTheFlowParameters) {
  request_params_ = {{"prompt", "login"}};
  auto p = provider();
  const std::string challenge = pkceChallengeS256("verifier");
  auto url = run(p->authorizeUrl("state-1", "nonce-1", challenge));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url,
            "https://idp.example.com/authorize?client_id=gatehouse-client&redirect_uri=https%3A%2F%"
            "2Fauthenticate.example.com%2Foauth2%2Fcallback&response_type=code&scope=openid+"
            "profile+email+offline_access&state=state-1&nonce=nonce-1&code_challenge=" +
                challenge + "&code_challenge_method=S256&prompt=login");
  EXPECT_TRUE(run(p->supportsPkce()));
  EXPECT_EQ(run(p->issuer()).value(), "https://idp.example.com");

  auto plain = run(p->authorizeUrl("s", "n", ""));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->find("code_challenge"), std::string::npos);
}

TEST_F(OidcProviderTest, PkceIsOnlyClaimedWhenS256IsAdvertised) {
  idp_->discovery["code_challenge_methods_supported"] = {"plain"};
  EXPECT_FALSE(run(provider()->supportsPkce()));
  idp_->discovery.erase("code_challenge_methods_supported");
  EXPECT_FALSE(run(provider()->supportsPkce()));
}

TEST_F(OidcProviderTest, PkceChallengeIsRfc7636S256) {
  // RFC 7636 appendix B.
  EXPECT_EQ(pkceChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_EQ(makePkceVerifier().size(), 43u);
}

TEST_F(OidcProviderTest, RefreshKeepsTheOldRefreshTokenAndChecksANewIdToken) {
  auto p = provider();
  Tokens old;
  old.access_token = "old-access";
  old.refresh_token = "refresh-1";
  old.id_token = idp_->idToken(idp_->goodClaims());

  // No refresh token and no ID token in the answer.
  idp_->answerTokens("", "");
  auto refreshed = run(p->refresh(old));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(refreshed->tokens.access_token, "access-1");
  EXPECT_EQ(refreshed->tokens.refresh_token, "refresh-1");
  EXPECT_EQ(refreshed->tokens.id_token, old.id_token);
  EXPECT_EQ(refreshed->subject, "user-1");  // from userinfo
  const FetchRequest* token = idp_->last(idp_->issuer + "/token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->body, "grant_type=refresh_token&refresh_token=refresh-1");

  // A rotated refresh token and a new ID token without a nonce.
  idp_->answerTokens(idp_->idToken(idp_->goodClaims("")), "refresh-2");
  refreshed = run(p->refresh(old));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(refreshed->tokens.refresh_token, "refresh-2");
  EXPECT_NE(refreshed->tokens.id_token, old.id_token);

  // A new ID token about someone else.
  auto claims = idp_->goodClaims("");
  claims["sub"] = "user-2";
  idp_->answerTokens(idp_->idToken(claims));
  expectRefused(run(p->refresh(old)), "sub");

  // A new ID token that fails verification.
  claims = idp_->goodClaims("");
  claims["aud"] = "another";
  idp_->answerTokens(idp_->idToken(claims));
  EXPECT_FALSE(run(p->refresh(old)).ok());
}

TEST_F(OidcProviderTest, RefreshFailuresArePermanentOrRetryable) {
  auto p = provider();
  Tokens old;
  old.refresh_token = "refresh-1";

  idp_->token_status = 400;
  idp_->token_response = {{"error", "invalid_grant"}};
  auto refused = run(p->refresh(old));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(refused.error().retryable);
  EXPECT_NE(refused.error().message.find("invalid_grant"), std::string::npos);

  idp_->token_status = 503;
  idp_->token_response = {{"error", "temporarily_unavailable"}};
  auto unavailable = run(p->refresh(old));
  ASSERT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(unavailable.error().retryable);

  // A network failure is retryable too.
  idp_->routes[idp_->issuer + "/token"] = [](const FetchRequest&) -> Result<FetchResponse> {
    return Error{ErrorCode::kUnavailable, ErrorSource::kUpstream, "connection refused", true};
  };
  unavailable = run(p->refresh(old));
  ASSERT_FALSE(unavailable.ok());
  EXPECT_TRUE(unavailable.error().retryable);

  // Nothing to refresh with.
  EXPECT_EQ(run(p->refresh(Tokens{})).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(OidcProviderTest, UserinfoAboutSomeoneElseIsRefused) {
  idp_->userinfo = {{"sub", "user-2"}, {"email", "other@example.com"}};
  expectRefused(login(idp_->idToken(idp_->goodClaims())), "userinfo");
}

TEST_F(OidcProviderTest, ClientSecretPostWhenBasicIsNotOffered) {
  idp_->discovery["token_endpoint_auth_methods_supported"] = {"client_secret_post"};
  ASSERT_TRUE(login(idp_->idToken(idp_->goodClaims())).ok());
  const FetchRequest* token = idp_->last(idp_->issuer + "/token");
  ASSERT_NE(token, nullptr);
  EXPECT_FALSE(token->headers.has("authorization"));
  EXPECT_NE(token->body.find("&client_id=gatehouse-client&client_secret=a-client-secret"),
            std::string::npos);
}

TEST_F(OidcProviderTest, DiscoveryIssuerMustBeTheConfiguredOne) {
  idp_->discovery["issuer"] = "https://evil.example.com";
  auto p = provider();
  auto url = run(p->authorizeUrl("s", "n", ""));
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.error().message.find("issuer"), std::string::npos);

  // A trailing slash on either side is tolerated.
  idp_->discovery["issuer"] = "https://idp.example.com/";
  EXPECT_TRUE(run(provider()->authorizeUrl("s", "n", "")).ok());
}

TEST_F(OidcProviderTest, DiscoveryFailureIsRetriedAfterABackoff) {
  int status = 503;
  const std::string url = idp_->issuer + "/.well-known/openid-configuration";
  idp_->routes[url] = [&](const FetchRequest&) -> Result<FetchResponse> {
    return testing::jsonResponse(status, idp_->discovery.dump());
  };
  auto p = provider();
  auto first = run(p->issuer());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(run(p->issuer()).ok());
  EXPECT_EQ(idp_->count(url), 1);  // within the backoff: no new fetch

  status = 200;
  clock_.advance(std::chrono::seconds(2));
  EXPECT_TRUE(run(p->issuer()).ok());
  EXPECT_TRUE(run(p->issuer()).ok());
  EXPECT_EQ(idp_->count(url), 2);
}

TEST_F(OidcProviderTest, RevokeAndEndSession) {
  auto p = provider();
  Tokens tokens;
  tokens.access_token = "access-1";
  ASSERT_TRUE(run(p->revoke(tokens)).ok());
  const FetchRequest* revoke = idp_->last(idp_->issuer + "/revoke");
  ASSERT_NE(revoke, nullptr);
  EXPECT_EQ(revoke->body, "token=access-1&token_type_hint=access_token");
  EXPECT_TRUE(revoke->headers.has("authorization"));

  auto url = run(p->endSessionUrl("id.token.hint", "https://app.example.com/", "st"));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url,
            "https://idp.example.com/logout?id_token_hint=id.token.hint&client_id=gatehouse-client&"
            "post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F&state=st");

  idp_->discovery.erase("end_session_endpoint");
  idp_->discovery.erase("revocation_endpoint");
  auto bare = provider();
  EXPECT_EQ(run(bare->endSessionUrl("h", "r", "s")).value(), "");
  EXPECT_TRUE(run(bare->revoke(tokens)).ok());
  EXPECT_EQ(idp_->count(idp_->issuer + "/revoke"), 1);
}

}  // namespace
}  // namespace gatehouse::authenticate::oidc

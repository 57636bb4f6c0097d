#include "authenticate/oidc/form_encoding.h"
#include "authenticate/oidc/http_status.h"
#include "authenticate/oidc/http_url.h"
#include "authenticate/oidc/json_document.h"
#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {
namespace {

// GitHub speaks OAuth 2.0, not OpenID Connect: no discovery, no ID token.
// Who signed in comes from the REST API (GET /user, GET /user/emails).
constexpr std::string_view kDefaultBaseUrl = "https://github.com";
constexpr std::string_view kDefaultApiUrl = "https://api.github.com";
// GitHub OAuth app tokens do not expire; like Pomerium, Gatehouse treats
// them as valid for an hour at a time and checks them again at "refresh".
constexpr std::chrono::hours kRecheckInterval{1};

class GitHubProvider final : public Provider {
 public:
  GitHubProvider(ProviderSettings settings, std::string api_url, std::shared_ptr<Fetcher> fetcher,
                 Clock clock)
      : settings_(std::move(settings)),
        api_url_(std::move(api_url)),
        fetcher_(std::move(fetcher)),
        clock_(std::move(clock)) {}

  std::string_view name() const override { return "github"; }

  Task<Result<std::string>> authorizeUrl(std::string_view state, std::string_view,
                                         std::string_view pkce_challenge) override {
    Params params = {{"client_id", settings_.client_id},
                     {"redirect_uri", settings_.redirect_url},
                     {"response_type", "code"},
                     {"scope", joinedScopes()},
                     {"state", std::string(state)}};
    if (!pkce_challenge.empty()) {
      params.emplace_back("code_challenge", std::string(pkce_challenge));
      params.emplace_back("code_challenge_method", "S256");
    }
    params.insert(params.end(), settings_.request_params.begin(), settings_.request_params.end());
    co_return appendQuery(settings_.provider_url + "/login/oauth/authorize", params);
  }

  // GitHub publishes no metadata that would say so; Pomerium sends no PKCE
  // to it either.
  Task<bool> supportsPkce() override { co_return false; }

  // Not an OpenID provider: there is no issuer to compare.
  Task<Result<std::string>> issuer() override { co_return std::string(); }

  Task<Result<Identity>> exchangeCode(std::string_view code, std::string_view pkce_verifier,
                                      std::string_view) override {
    Params form = {{"grant_type", "authorization_code"},
                   {"code", std::string(code)},
                   {"redirect_uri", settings_.redirect_url}};
    if (!pkce_verifier.empty()) form.emplace_back("code_verifier", std::string(pkce_verifier));
    auto response = co_await requestTokens(std::move(form), "code exchange");
    if (!response) co_return response.error();
    co_return co_await identityFor(tokensFrom(std::move(*response), clock_.now()));
  }

  Task<Result<Identity>> refresh(const Tokens& tokens) override {
    if (tokens.refresh_token.empty()) {
      // An OAuth app token: still valid as long as the API accepts it.
      co_return co_await identityFor(tokens);
    }
    // A GitHub App user token with expiring tokens: a real refresh.
    Params form = {{"grant_type", "refresh_token"}, {"refresh_token", tokens.refresh_token}};
    auto response = co_await requestTokens(std::move(form), "refresh");
    if (!response) co_return response.error();
    Tokens renewed = tokensFrom(std::move(*response), clock_.now());
    if (renewed.refresh_token.empty()) renewed.refresh_token = tokens.refresh_token;
    co_return co_await identityFor(std::move(renewed));
  }

  // Deletes the app's grant (DELETE /applications/{client_id}/grant), which
  // revokes every token the user gave Gatehouse.
  Task<Result<void>> revoke(const Tokens& tokens) override {
    if (tokens.access_token.empty()) co_return Result<void>();
    FetchRequest request;
    request.method = "DELETE";
    request.url = api_url_ + "/applications/" + formEscape(settings_.client_id) + "/grant";
    request.headers.add("Accept", "application/vnd.github+json");
    request.headers.add("Content-Type", "application/json");
    request.headers.add("Authorization",
                        basicAuthorization(settings_.client_id, settings_.client_secret));
    request.body = nlohmann::json{{"access_token", tokens.access_token}}.dump();
    auto response = co_await fetcher_->fetch(std::move(request));
    if (!response) co_return response.error();
    if (response->status == 204 || response->status == 200 || response->status == 404) {
      co_return Result<void>();
    }
    co_return unexpectedStatus(*response, "github revoke");
  }

  Task<Result<std::string>> endSessionUrl(std::string_view, std::string_view,
                                          std::string_view) override {
    co_return std::string();
  }

 private:
  std::string joinedScopes() const {
    std::string out;
    for (const auto& scope : settings_.scopes) {
      if (!out.empty()) out += ' ';
      out += scope;
    }
    return out;
  }

  Task<Result<TokenResponse>> requestTokens(Params form, std::string_view what) {
    FetchRequest request;
    request.method = "POST";
    request.url = settings_.provider_url + "/login/oauth/access_token";
    // Without it GitHub answers form-encoded.
    request.headers.add("Accept", "application/json");
    request.headers.add("Content-Type", "application/x-www-form-urlencoded");
    form.emplace_back("client_id", settings_.client_id);
    form.emplace_back("client_secret", settings_.client_secret);
    request.body = formEncode(form);
    auto response = co_await fetcher_->fetch(std::move(request));
    if (!response) co_return response.error();
    if (response->status != 200) {
      co_return tokenEndpointError(response->status, response->body, what);
    }
    co_return parseTokenResponse(response->body);
  }

  Task<Result<nlohmann::json>> getJson(const std::string& path, const std::string& access_token,
                                       std::string_view what) {
    FetchRequest request;
    request.url = api_url_ + path;
    request.headers.add("Accept", "application/vnd.github+json");
    request.headers.add("Authorization", "Bearer " + access_token);
    auto response = co_await fetcher_->fetch(std::move(request));
    if (!response) co_return response.error();
    if (response->status != 200) co_return unexpectedStatus(*response, what);
    // /user/emails is an array: wrap it so that the strict parser, which
    // wants an object, checks it too.
    co_return parseJsonObject("{\"v\":" + response->body + "}", what);
  }

  Task<Result<Identity>> identityFor(Tokens tokens) {
    auto user_doc = co_await getJson("/user", tokens.access_token, "github /user");
    if (!user_doc) co_return user_doc.error();
    const nlohmann::json& user = (*user_doc)["v"];
    auto id = user.find("id");
    if (!user.is_object() || id == user.end() || !id->is_number_unsigned() ||
        id->get<uint64_t>() == 0) {
      co_return protocolError("github /user: no numeric \"id\"");
    }
    Identity identity;
    // The numeric id, not the login: a login can be renamed and then taken
    // by someone else, the id never changes hands. "user" carries the login
    // as Pomerium's claim does.
    identity.subject = std::to_string(id->get<uint64_t>());
    identity.claims["sub"] = identity.subject;
    for (const char* name : {"login", "name", "avatar_url"}) {
      auto it = user.find(name);
      if (it != user.end() && it->is_string()) identity.claims[name] = *it;
    }
    if (identity.claims.contains("login")) identity.claims["user"] = identity.claims["login"];
    if (identity.claims.contains("avatar_url")) {
      identity.claims["picture"] = identity.claims["avatar_url"];
      identity.claims.erase("avatar_url");
    }

    auto emails_doc = co_await getJson("/user/emails", tokens.access_token, "github /user/emails");
    if (!emails_doc) co_return emails_doc.error();
    const nlohmann::json& emails = (*emails_doc)["v"];
    if (!emails.is_array()) co_return protocolError("github /user/emails: not a list");
    // Only the primary address, and only once GitHub has verified it: an
    // unverified address proves nothing about who owns it.
    for (const auto& entry : emails) {
      if (!entry.is_object()) continue;
      auto email = entry.find("email");
      auto primary = entry.find("primary");
      auto verified = entry.find("verified");
      if (email != entry.end() && email->is_string() && primary != entry.end() &&
          *primary == true && verified != entry.end() && *verified == true) {
        identity.claims["email"] = *email;
        identity.claims["email_verified"] = true;
        break;
      }
    }
    tokens.expiry = clock_.now() + kRecheckInterval;
    identity.tokens = std::move(tokens);
    co_return identity;
  }

  const ProviderSettings settings_;
  const std::string api_url_;
  const std::shared_ptr<Fetcher> fetcher_;
  const Clock clock_;
};

}  // namespace

ProviderResult makeGitHubProvider(const ProviderSettings& settings,
                                  std::shared_ptr<Fetcher> fetcher, Clock clock) {
  if (auto valid = validateCommonSettings(settings); !valid) return valid.error();
  if (settings.client_secret.empty())
    return Error::invalid("idp_client_secret is required for github");
  ProviderSettings effective = settings;
  if (effective.provider_url.empty()) effective.provider_url = std::string(kDefaultBaseUrl);
  while (!effective.provider_url.empty() && effective.provider_url.back() == '/') {
    effective.provider_url.pop_back();
  }
  auto url = parseHttpUrl(effective.provider_url);
  if (!url || effective.provider_url.find_first_of("?#") != std::string::npos) {
    return Error::invalid("idp_provider_url: not a base URL for github");
  }
  if (effective.scopes.empty()) effective.scopes = {"user:email", "read:org"};
  // github.com has its API on its own host; GitHub Enterprise Server serves
  // it under /api/v3 of the instance.
  std::string api_url = effective.provider_url == kDefaultBaseUrl
                            ? std::string(kDefaultApiUrl)
                            : effective.provider_url + "/api/v3";
  return std::shared_ptr<Provider>(std::make_shared<GitHubProvider>(
      std::move(effective), std::move(api_url), std::move(fetcher), std::move(clock)));
}

}  // namespace gatehouse::authenticate::oidc

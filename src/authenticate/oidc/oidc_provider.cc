#include "authenticate/oidc/oidc_provider.h"

#include "authenticate/oidc/http_status.h"
#include "authenticate/oidc/http_url.h"
#include "authenticate/oidc/json_document.h"
#include "common/strings.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr std::string_view kAzureTenantTemplate =
    "https://login.microsoftonline.com/{tenantid}/v2.0";

// Parameters that carry the security of the code flow; idp_request_params
// may add to the authorize URL but never replace one of these.
constexpr std::string_view kProtectedParams[] = {
    "client_id", "redirect_uri", "response_type",  "scope",
    "state",     "nonce",        "code_challenge", "code_challenge_method"};

std::string joinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    if (!out.empty()) out += ' ';
    out += scope;
  }
  return out;
}

Error invalidSetting(std::string message) { return Error::invalid(std::move(message)); }

Error refusedByIdp(std::string message) {
  return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream, std::move(message), false};
}

// Claims the userinfo response may not override: they describe the ID
// token, and "sub" was already checked to be equal.
bool keepsTokenValue(const std::string& name) {
  return name == "sub" || name == "iss" || name == "aud";
}

}  // namespace

Tokens tokensFrom(TokenResponse response, std::chrono::system_clock::time_point now) {
  Tokens tokens;
  tokens.access_token = std::move(response.access_token);
  tokens.refresh_token = std::move(response.refresh_token);
  tokens.token_type = std::move(response.token_type);
  tokens.id_token = std::move(response.id_token);
  if (response.expires_in) {
    tokens.expiry =
        now + std::chrono::duration_cast<std::chrono::system_clock::duration>(*response.expires_in);
  }
  return tokens;
}

Result<void> validateCommonSettings(const ProviderSettings& settings) {
  if (settings.client_id.empty()) return invalidSetting("idp_client_id is required");
  if (settings.redirect_url.empty()) {
    return invalidSetting("authenticate_service_url: the OAuth redirect URL is empty");
  }
  if (auto url = parseHttpUrl(settings.redirect_url); !url) {
    return invalidSetting("authenticate_service_url: " + url.error().message);
  }
  for (const auto& [name, value] : settings.request_params) {
    for (std::string_view protected_name : kProtectedParams) {
      if (name == protected_name) {
        return invalidSetting("idp_request_params: \"" + name +
                              "\" is set by Gatehouse and cannot be overridden");
      }
    }
  }
  return {};
}

Result<std::shared_ptr<OidcProvider>> OidcProvider::create(const ProviderSettings& settings,
                                                           OidcFlavor flavor,
                                                           std::shared_ptr<Fetcher> fetcher,
                                                           Clock clock) {
  if (auto valid = validateCommonSettings(settings); !valid) return valid.error();
  ProviderSettings effective = settings;
  if (effective.provider_url.empty()) effective.provider_url = flavor.default_provider_url;
  if (effective.provider_url.empty()) {
    return invalidSetting("idp_provider_url is required for idp_provider " + flavor.name);
  }
  std::string& url = effective.provider_url;
  if (flavor.trailing_slash == OidcFlavor::TrailingSlash::kTrim) {
    while (!url.empty() && url.back() == '/') url.pop_back();
  } else if (flavor.trailing_slash == OidcFlavor::TrailingSlash::kEnsure && url.back() != '/') {
    url += '/';
  }
  auto parsed = parseHttpUrl(url);
  if (!parsed) return invalidSetting("idp_provider_url: " + parsed.error().message);
  if (url.find_first_of("?#") != std::string::npos) {
    return invalidSetting("idp_provider_url: an issuer has no query or fragment");
  }
  if (effective.scopes.empty()) effective.scopes = flavor.default_scopes;
  return std::shared_ptr<OidcProvider>(new OidcProvider(std::move(effective), std::move(flavor),
                                                        std::move(fetcher), std::move(clock)));
}

OidcProvider::OidcProvider(ProviderSettings settings, OidcFlavor flavor,
                           std::shared_ptr<Fetcher> fetcher, Clock clock)
    : settings_(std::move(settings)),
      flavor_(std::move(flavor)),
      fetcher_(fetcher),
      clock_(clock),
      discovery_(settings_.provider_url, fetcher, clock,
                 [tenant_template = flavor_.tenant_issuer_template](std::string_view configured,
                                                                    std::string_view discovered) {
                   // Azure's multi-tenant endpoints ("common",
                   // "organizations") publish a template instead of an
                   // issuer; each token is then held to its own tenant.
                   if (tenant_template && discovered == kAzureTenantTemplate &&
                       startsWith(configured, "https://login.microsoftonline.com/")) {
                     return true;
                   }
                   return issuerMatches(configured, discovered);
                 }),
      verifier_(std::make_shared<JwksCache>(fetcher, clock), clock) {}

Task<Result<std::string>> OidcProvider::authorizeUrl(std::string_view state, std::string_view nonce,
                                                     std::string_view pkce_challenge) {
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  Params params = {{"client_id", settings_.client_id},
                   {"redirect_uri", settings_.redirect_url},
                   {"response_type", "code"},
                   {"scope", joinScopes(settings_.scopes)},
                   {"state", std::string(state)}};
  if (!nonce.empty()) params.emplace_back("nonce", std::string(nonce));
  if (!pkce_challenge.empty()) {
    params.emplace_back("code_challenge", std::string(pkce_challenge));
    params.emplace_back("code_challenge_method", "S256");
  }
  const Params& extra =
      settings_.request_params.empty() ? flavor_.default_auth_params : settings_.request_params;
  params.insert(params.end(), extra.begin(), extra.end());
  co_return appendQuery((*discovery)->authorization_endpoint, params);
}

Task<bool> OidcProvider::supportsPkce() {
  auto discovery = co_await discovery_.get();
  co_return discovery && (*discovery)->supportsPkceS256();
}

Task<Result<std::string>> OidcProvider::issuer() {
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  co_return (*discovery)->issuer;
}

void OidcProvider::addClientAuthentication(const DiscoveryDocument& discovery,
                                           FetchRequest& request, Params& form) const {
  if (settings_.client_secret.empty()) {
    // A public client identifies itself and relies on PKCE (RFC 6749 4.1.3).
    form.emplace_back("client_id", settings_.client_id);
  } else if (discovery.useClientSecretPost()) {
    form.emplace_back("client_id", settings_.client_id);
    form.emplace_back("client_secret", settings_.client_secret);
  } else {
    request.headers.add("Authorization",
                        basicAuthorization(settings_.client_id, settings_.client_secret));
  }
}

Task<Result<TokenResponse>> OidcProvider::requestTokens(const DiscoveryDocument& discovery,
                                                        Params form, std::string_view what) {
  FetchRequest request;
  request.method = "POST";
  request.url = discovery.token_endpoint;
  request.headers.add("Accept", "application/json");
  request.headers.add("Content-Type", "application/x-www-form-urlencoded");
  addClientAuthentication(discovery, request, form);
  request.body = formEncode(form);
  auto response = co_await fetcher_->fetch(std::move(request));
  if (!response) co_return response.error();
  if (response->status != 200) co_return tokenEndpointError(response->status, response->body, what);
  co_return parseTokenResponse(response->body);
}

Task<Result<nlohmann::json>> OidcProvider::fetchUserinfo(const DiscoveryDocument& discovery,
                                                         const std::string& access_token) {
  FetchRequest request;
  request.url = discovery.userinfo_endpoint;
  request.headers.add("Accept", "application/json");
  request.headers.add("Authorization", "Bearer " + access_token);
  auto response = co_await fetcher_->fetch(std::move(request));
  if (!response) co_return response.error();
  if (response->status != 200) co_return unexpectedStatus(*response, "userinfo");
  if (!isJson(*response)) {
    co_return protocolError(
        "userinfo: the response is not JSON (signed userinfo is not supported)");
  }
  co_return parseJsonObject(response->body, "userinfo");
}

Task<Result<Identity>> OidcProvider::buildIdentity(const DiscoveryDocument& discovery,
                                                   Tokens tokens, bool have_new_id_token,
                                                   std::string_view nonce,
                                                   std::string_view expected_subject) {
  Identity identity;
  std::string subject(expected_subject);
  if (have_new_id_token) {
    IdTokenExpectations expectations;
    expectations.client_id = settings_.client_id;
    expectations.nonce = std::string(nonce);
    expectations.advertised_algorithms = discovery.id_token_signing_alg_values_supported;
    expectations.jwks_uri = discovery.jwks_uri;
    if (flavor_.tenant_issuer_template && discovery.issuer == kAzureTenantTemplate) {
      expectations.tenant_issuer_template = discovery.issuer;
    } else {
      expectations.issuer = discovery.issuer;
    }
    auto claims = co_await verifier_.verify(tokens.id_token, expectations);
    if (!claims) co_return claims.error();
    const std::string& token_subject = (*claims)["sub"].get_ref<const std::string&>();
    // OIDC Core 12.2: a refreshed ID token names the same user.
    if (!subject.empty() && token_subject != subject) {
      co_return refusedByIdp("ID token: \"sub\" differs from the session's");
    }
    subject = token_subject;
    identity.claims = std::move(*claims);
  }

  if (!discovery.userinfo_endpoint.empty()) {
    auto userinfo = co_await fetchUserinfo(discovery, tokens.access_token);
    if (!userinfo) co_return userinfo.error();
    auto sub = userinfo->find("sub");
    if (sub == userinfo->end() || !sub->is_string()) {
      co_return protocolError("userinfo: \"sub\" is missing");
    }
    // OIDC Core 5.3.2: userinfo about someone else must not be used (token
    // substitution).
    if (!subject.empty() && sub->get_ref<const std::string&>() != subject) {
      co_return refusedByIdp("userinfo: \"sub\" differs from the ID token's");
    }
    for (auto it = userinfo->begin(); it != userinfo->end(); ++it) {
      if (!keepsTokenValue(it.key()) || !identity.claims.contains(it.key())) {
        identity.claims[it.key()] = it.value();
      }
    }
  }

  auto user_id = identity.claims.find(flavor_.subject_claim);
  if (user_id != identity.claims.end() && user_id->is_string() &&
      !user_id->get_ref<const std::string&>().empty()) {
    identity.subject = user_id->get<std::string>();
  } else if (auto sub = identity.claims.find("sub");
             sub != identity.claims.end() && sub->is_string()) {
    identity.subject = sub->get<std::string>();
  }
  identity.tokens = std::move(tokens);
  co_return identity;
}

Task<Result<Identity>> OidcProvider::exchangeCode(std::string_view code,
                                                  std::string_view pkce_verifier,
                                                  std::string_view expected_nonce) {
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  Params form = {{"grant_type", "authorization_code"},
                 {"code", std::string(code)},
                 {"redirect_uri", settings_.redirect_url}};
  if (!pkce_verifier.empty()) form.emplace_back("code_verifier", std::string(pkce_verifier));
  auto response = co_await requestTokens(**discovery, std::move(form), "code exchange");
  if (!response) co_return response.error();
  if (response->id_token.empty()) {
    co_return protocolError("token response: no id_token for an openid request");
  }
  co_return co_await buildIdentity(**discovery, tokensFrom(std::move(*response), clock_.now()),
                                   true, expected_nonce, "");
}

Task<Result<Identity>> OidcProvider::refresh(const Tokens& tokens) {
  if (tokens.refresh_token.empty())
    co_return refusedByIdp("refresh: the session has no refresh token");
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  Params form = {{"grant_type", "refresh_token"}, {"refresh_token", tokens.refresh_token}};
  auto response = co_await requestTokens(**discovery, std::move(form), "refresh");
  if (!response) co_return response.error();
  Tokens renewed = tokensFrom(std::move(*response), clock_.now());
  // Most IdPs do not rotate refresh tokens, and many send no new ID token.
  if (renewed.refresh_token.empty()) renewed.refresh_token = tokens.refresh_token;
  const bool new_id_token = !renewed.id_token.empty();
  if (!new_id_token) renewed.id_token = tokens.id_token;
  co_return co_await buildIdentity(**discovery, std::move(renewed), new_id_token, "",
                                   storedIdTokenSubject(tokens.id_token));
}

Task<Result<void>> OidcProvider::revoke(const Tokens& tokens) {
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  if ((*discovery)->revocation_endpoint.empty() || tokens.access_token.empty())
    co_return Result<void>();
  FetchRequest request;
  request.method = "POST";
  request.url = (*discovery)->revocation_endpoint;
  request.headers.add("Content-Type", "application/x-www-form-urlencoded");
  Params form = {{"token", tokens.access_token}, {"token_type_hint", "access_token"}};
  addClientAuthentication(**discovery, request, form);
  request.body = formEncode(form);
  auto response = co_await fetcher_->fetch(std::move(request));
  if (!response) co_return response.error();
  // RFC 7009 2.2: 200 also for a token that was already invalid.
  if (response->status == 200) co_return Result<void>();
  co_return tokenEndpointError(response->status, response->body, "revocation");
}

Task<Result<std::string>> OidcProvider::endSessionUrl(std::string_view id_token_hint,
                                                      std::string_view post_logout_redirect_uri,
                                                      std::string_view state) {
  auto discovery = co_await discovery_.get();
  if (!discovery) co_return discovery.error();
  if (flavor_.auth0_logout) {
    // Auth0's own logout endpoint, next to its authorization endpoint.
    auto authorize = parseHttpUrl((*discovery)->authorization_endpoint);
    if (!authorize) co_return authorize.error();
    Params params = {{"client_id", settings_.client_id}};
    if (!post_logout_redirect_uri.empty()) {
      params.emplace_back("returnTo", std::string(post_logout_redirect_uri));
    }
    co_return appendQuery(authorize->scheme + "://" + authorize->authority + "/v2/logout", params);
  }
  if ((*discovery)->end_session_endpoint.empty()) co_return std::string();
  Params params;
  if (!id_token_hint.empty()) params.emplace_back("id_token_hint", std::string(id_token_hint));
  params.emplace_back("client_id", settings_.client_id);
  if (!post_logout_redirect_uri.empty()) {
    params.emplace_back("post_logout_redirect_uri", std::string(post_logout_redirect_uri));
  }
  if (!state.empty()) params.emplace_back("state", std::string(state));
  co_return appendQuery((*discovery)->end_session_endpoint, params);
}

}  // namespace gatehouse::authenticate::oidc

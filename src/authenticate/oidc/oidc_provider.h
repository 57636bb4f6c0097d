#pragma once

#include <memory>
#include <string>
#include <vector>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/discovery_cache.h"
#include "authenticate/oidc/fetcher.h"
#include "authenticate/oidc/form_encoding.h"
#include "authenticate/oidc/id_token_verifier.h"
#include "authenticate/oidc/provider.h"
#include "authenticate/oidc/token_response.h"

namespace gatehouse::authenticate::oidc {

// What distinguishes one OpenID Connect identity provider from another;
// each named provider (provider_google.cc, ...) fills one in.
struct OidcFlavor {
  std::string name;
  // Used when idp_provider_url is empty; empty = the URL is required.
  std::string default_provider_url;
  enum class TrailingSlash { kKeep, kTrim, kEnsure };
  TrailingSlash trailing_slash = TrailingSlash::kKeep;
  std::vector<std::string> default_scopes = {"openid", "profile", "email", "offline_access"};
  // Extra authorize URL parameters, replaced by idp_request_params.
  Params default_auth_params;
  // The claim that holds the user id.
  std::string subject_claim = "sub";
  // Azure: the discovered issuer may be a "{tenantid}" template, checked
  // per token against its "tid".
  bool tenant_issuer_template = false;
  // Auth0: sign-out goes to <authorization host>/v2/logout?client_id&returnTo.
  bool auth0_logout = false;
};

// The generic OpenID Connect relying party: authorization code flow with
// PKCE, ID token verification, userinfo, refresh, revocation and
// RP-initiated logout, configured by an OidcFlavor. See Provider for the
// contract of each method.
class OidcProvider final : public Provider {
 public:
  // Validates the settings (kInvalidArgument naming the idp_* key) without
  // any network access; discovery happens on first use.
  static Result<std::shared_ptr<OidcProvider>> create(const ProviderSettings& settings,
                                                      OidcFlavor flavor,
                                                      std::shared_ptr<Fetcher> fetcher,
                                                      Clock clock);

  std::string_view name() const override { return flavor_.name; }
  Task<Result<std::string>> authorizeUrl(std::string_view state, std::string_view nonce,
                                         std::string_view pkce_challenge) override;
  Task<bool> supportsPkce() override;
  Task<Result<std::string>> issuer() override;
  Task<Result<Identity>> exchangeCode(std::string_view code, std::string_view pkce_verifier,
                                      std::string_view expected_nonce) override;
  Task<Result<Identity>> refresh(const Tokens& tokens) override;
  Task<Result<void>> revoke(const Tokens& tokens) override;
  Task<Result<std::string>> endSessionUrl(std::string_view id_token_hint,
                                          std::string_view post_logout_redirect_uri,
                                          std::string_view state) override;

 private:
  OidcProvider(ProviderSettings settings, OidcFlavor flavor, std::shared_ptr<Fetcher> fetcher,
               Clock clock);

  // POSTs `form` to the token endpoint with the client's credentials.
  Task<Result<TokenResponse>> requestTokens(const DiscoveryDocument& discovery, Params form,
                                            std::string_view what);
  // Verifies the ID token, merges userinfo and builds the Identity.
  // `expected_subject` (refresh): the subject the session already has.
  Task<Result<Identity>> buildIdentity(const DiscoveryDocument& discovery, Tokens tokens,
                                       bool have_new_id_token, std::string_view nonce,
                                       std::string_view expected_subject);
  Task<Result<nlohmann::json>> fetchUserinfo(const DiscoveryDocument& discovery,
                                             const std::string& access_token);
  void addClientAuthentication(const DiscoveryDocument& discovery, FetchRequest& request,
                               Params& form) const;

  const ProviderSettings settings_;
  const OidcFlavor flavor_;
  const std::shared_ptr<Fetcher> fetcher_;
  const Clock clock_;
  DiscoveryCache discovery_;
  IdTokenVerifier verifier_;
};

// Tokens from a token endpoint response, `expiry` from expires_in.
Tokens tokensFrom(TokenResponse response, std::chrono::system_clock::time_point now);

// Checks what every provider needs: client_id, client_secret,
// redirect_url, and idp_request_params that do not try to replace the
// parameters that protect the flow.
Result<void> validateCommonSettings(const ProviderSettings& settings);

}  // namespace gatehouse::authenticate::oidc

#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/asio.h"

namespace gatehouse::authenticate::oidc {

// The identity provider settings of one configuration snapshot (Pomerium's
// idp_* keys).
struct ProviderSettings {
  std::string type = "oidc";        // idp_provider
  std::string provider_url;         // idp_provider_url: the issuer (GitHub: the web base URL)
  std::string client_id;            // idp_client_id
  std::string client_secret;        // idp_client_secret
  std::vector<std::string> scopes;  // idp_scopes; empty = the provider's defaults
  // idp_request_params, added to the authorize URL. When set they replace
  // the provider's own extra parameters (Google's access_type and prompt),
  // as in Pomerium.
  std::vector<std::pair<std::string, std::string>> request_params;
  std::string redirect_url;  // https://<authenticate host>/oauth2/callback
  std::string ca_pem;        // certificate_authority: extra roots for the IdP's certificate
};

// OAuth 2.0 tokens as the token endpoint returned them.
struct Tokens {
  std::string access_token;
  std::string refresh_token;
  std::string token_type;
  std::string id_token;  // raw compact JWS; empty when the IdP sent none
  // When the access token expires; the epoch (time_point{}) = unknown.
  std::chrono::system_clock::time_point expiry{};
};

// Who signed in, as established by one exchangeCode or refresh call.
struct Identity {
  Tokens tokens;
  // The verified ID token's claims merged with the userinfo response (the
  // userinfo value wins, except for "sub", "iss" and "aud"). A JSON object;
  // after a refresh it holds only what that refresh learned (the caller
  // merges it into the stored claims).
  nlohmann::json claims = nlohmann::json::object();
  // The user id: "sub" (Azure: "oid", GitHub: the numeric user id). Empty
  // only after a refresh that returned neither an ID token nor userinfo.
  std::string subject;
};

// One identity provider, as the authenticate handlers and the session
// refresher use it. Shared by every worker thread: every method may be
// called concurrently from any thread and runs on its caller's executor.
// Discovery and keys are fetched on first use and cached; no method holds
// a lock across a suspension.
//
// Errors: kUnavailable (retryable) when the IdP cannot be reached or
// answers 5xx; kUnauthenticated when it refuses the credentials (bad code,
// invalid_grant) or a token fails verification; kInvalidArgument or
// kProtocol when its answers are malformed.
class Provider {
 public:
  virtual ~Provider() = default;

  // The registry name ("oidc", "google", ...).
  virtual std::string_view name() const = 0;

  // The IdP's authorization URL: response_type=code, client_id,
  // redirect_uri, scope, state, nonce, code_challenge and
  // code_challenge_method=S256 when `pkce_challenge` is not empty, then
  // the provider's extra parameters or idp_request_params.
  virtual Task<Result<std::string>> authorizeUrl(std::string_view state, std::string_view nonce,
                                                 std::string_view pkce_challenge) = 0;

  // Whether the IdP accepts PKCE with S256 (discovery's
  // code_challenge_methods_supported). False when discovery fails.
  virtual Task<bool> supportsPkce() = 0;

  // The issuer identifier, for checking the RFC 9207 `iss` callback
  // parameter. Empty for a plain OAuth 2.0 provider (GitHub).
  virtual Task<Result<std::string>> issuer() = 0;

  // Redeems an authorization code. The ID token is verified (signature
  // with the IdP's published keys, RS256/ES256/PS256/EdDSA only; iss, aud,
  // azp, exp, nbf, iat with 60 s leeway; "nonce" equal to `expected_nonce`)
  // and userinfo is merged into the claims. `pkce_verifier` is sent when
  // not empty.
  virtual Task<Result<Identity>> exchangeCode(std::string_view code, std::string_view pkce_verifier,
                                              std::string_view expected_nonce) = 0;

  // Uses the refresh token. A permanent refusal (invalid_grant, 400 or 401
  // from the token endpoint) is kUnauthenticated: the session is over. The
  // old refresh token is kept when the IdP does not rotate it, the old ID
  // token when no new one comes; a new ID token is verified (no nonce) and
  // must name the same subject as the old one.
  virtual Task<Result<Identity>> refresh(const Tokens& tokens) = 0;

  // Revokes the access token (RFC 7009) when the IdP has a revocation
  // endpoint; succeeds without doing anything otherwise.
  virtual Task<Result<void>> revoke(const Tokens& tokens) = 0;

  // The URL that ends the session at the IdP (RP-initiated logout), with
  // id_token_hint, client_id, post_logout_redirect_uri and state where not
  // empty; an empty string when the IdP has no such endpoint.
  virtual Task<Result<std::string>> endSessionUrl(std::string_view id_token_hint,
                                                  std::string_view post_logout_redirect_uri,
                                                  std::string_view state) = 0;
};

}  // namespace gatehouse::authenticate::oidc

#pragma once
// The query parameters that carry a login between the proxy, authenticate
// and the browser (Pomerium's internal/urlutil/query_params.go), and the
// small URL tools they need.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::session {

namespace param {
inline constexpr std::string_view kRedirectUri = "pomerium_redirect_uri";
inline constexpr std::string_view kIdpId = "pomerium_idp_id";
inline constexpr std::string_view kAdditionalHosts = "pomerium_additional_hosts";
inline constexpr std::string_view kCallbackUri = "pomerium_callback_uri";
inline constexpr std::string_view kProgrammatic = "pomerium_programmatic";
inline constexpr std::string_view kSessionEncrypted = "pomerium_session_encrypted";
inline constexpr std::string_view kJwt = "pomerium_jwt";
}  // namespace param

inline constexpr std::string_view kSignInPath = "/.pomerium/sign_in";
inline constexpr std::string_view kSignOutPath = "/.pomerium/sign_out";
inline constexpr std::string_view kSignedOutPath = "/.pomerium/signed_out";
inline constexpr std::string_view kCallbackPath = "/.pomerium/callback/";

using Params = std::vector<std::pair<std::string, std::string>>;

// Decodes an application/x-www-form-urlencoded query or body ("+" is a
// space, %XX a byte). Malformed escapes are kept as written. At most
// `max_params` pairs are read.
Params parseQuery(std::string_view query, size_t max_params = 64);

// The first value of `name`, or nullopt.
std::optional<std::string> findParam(const Params& params, std::string_view name);

// Percent-encodes a name or value (letters, digits and "-._~" stay).
std::string escape(std::string_view text);
std::string encodeQuery(const Params& params);

// An absolute http(s) URL split into its parts; nullopt for anything else
// (relative, scheme-relative, user info, spaces, backslashes, controls).
struct AbsoluteUrl {
  std::string scheme;          // lower-case
  std::string host;            // lower-case, no brackets, no port
  std::string authority;       // as written (host[:port])
  std::string path_and_query;  // "/" when empty
};
std::optional<AbsoluteUrl> parseAbsoluteUrl(std::string_view url);

// The id of an identity provider configuration: what `pomerium_idp_id` and
// the session handle carry, so that a session from one IdP is not accepted
// on a route that uses another.
std::string idpId(std::string_view provider, std::string_view provider_url,
                  std::string_view client_id);

}  // namespace gatehouse::session

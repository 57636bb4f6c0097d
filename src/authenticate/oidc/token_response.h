#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::authenticate::oidc {

// A successful token endpoint response (RFC 6749 section 5.1, OpenID
// Connect Core 3.1.3.3).
struct TokenResponse {
  std::string access_token;
  std::string token_type;     // empty when absent
  std::string refresh_token;  // empty when absent
  std::string id_token;       // empty when absent
  std::string scope;          // empty when absent
  std::optional<std::chrono::seconds> expires_in;
};

// Parses a 200 response body strictly: a JSON object with "access_token" a
// non-empty string; "token_type", "refresh_token", "id_token" and "scope"
// strings when present; "expires_in" a non-negative integer (as a number,
// or as a string of digits, which some IdPs send and Go's oauth2 accepts).
// A body with an "error" member (GitHub answers errors with 200) is
// kUnauthenticated; anything malformed kProtocol.
Result<TokenResponse> parseTokenResponse(std::string_view body);

// The "error" of an RFC 6749 section 5.2 error response ("invalid_grant"),
// or empty when the body is not one.
std::string parseTokenErrorCode(std::string_view body);

// The Error for a token endpoint answer that is not 200: 5xx and 429 are
// kUnavailable (retry later); 400 and 401 are kUnauthenticated (the grant
// is refused for good: invalid_grant, invalid_client); anything else is
// kProtocol. The message names the OAuth error code, never the body.
Error tokenEndpointError(int status, std::string_view body, std::string_view what);

}  // namespace gatehouse::authenticate::oidc

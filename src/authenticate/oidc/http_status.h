#pragma once

#include <string_view>

#include "authenticate/oidc/fetcher.h"
#include "common/result.h"

namespace gatehouse::authenticate::oidc {

// The Error for a document fetch (discovery, JWKS, userinfo) that did not
// answer 200: 5xx and 429 are kUnavailable (retryable), 401 and 403
// kUnauthenticated (the token was refused), anything else kProtocol.
Error unexpectedStatus(const FetchResponse& response, std::string_view what);

// Whether a response carries JSON: no Content-Type, or application/json
// (parameters ignored) or a +json type. Used to refuse HTML error pages
// and signed (application/jwt) answers early with a clear message.
bool isJson(const FetchResponse& response);

}  // namespace gatehouse::authenticate::oidc

// Fuzzes the parsers of identity provider answers: the discovery document,
// the token endpoint response and its error form, and the URLs inside them.
// Beyond not crashing, what they accept must hold together:
//  - every endpoint of a parsed discovery document is a URL the fetcher can
//    use, https when the issuer is;
//  - a parsed token response has a non-empty access token and a bounded,
//    non-negative lifetime;
//  - an error answer never becomes a retryable failure unless the status
//    says so.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "authenticate/oidc/discovery_document.h"
#include "authenticate/oidc/http_url.h"
#include "authenticate/oidc/token_response.h"

namespace {

namespace oidc = gatehouse::authenticate::oidc;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void checkEndpoint(const std::string& url, bool required, bool https) {
  if (url.empty()) {
    if (required) fail("required endpoint empty");
    return;
  }
  auto parsed = oidc::parseHttpUrl(url);
  if (!parsed) fail("accepted endpoint does not parse");
  if (https && parsed->scheme != "https") fail("http endpoint for an https issuer");
  if (parsed->target.empty() || parsed->target.front() != '/') fail("bad request target");
}

void fuzzDiscovery(std::string_view body) {
  auto document = oidc::parseDiscoveryDocument(body);
  if (!document) return;
  const bool https = document->issuer.rfind("https:", 0) == 0;
  checkEndpoint(document->issuer, true, false);
  checkEndpoint(document->authorization_endpoint, true, https);
  checkEndpoint(document->token_endpoint, true, https);
  checkEndpoint(document->jwks_uri, false, https);
  checkEndpoint(document->userinfo_endpoint, false, https);
  checkEndpoint(document->revocation_endpoint, false, https);
  checkEndpoint(document->end_session_endpoint, false, https);
  if (!oidc::issuerMatches(document->issuer, document->issuer)) fail("issuer differs from itself");
  (void)document->supportsPkceS256();
  (void)document->useClientSecretPost();
  if (oidc::discoveryUrl(document->issuer).find("/.well-known/openid-configuration") ==
      std::string::npos) {
    fail("discovery URL");
  }
}

void fuzzTokenResponse(std::string_view body, int status) {
  auto tokens = oidc::parseTokenResponse(body);
  if (tokens) {
    if (tokens->access_token.empty()) fail("empty access token accepted");
    if (tokens->expires_in &&
        (tokens->expires_in->count() < 0 || *tokens->expires_in > std::chrono::hours(24 * 3660))) {
      fail("lifetime out of range");
    }
  }
  (void)oidc::parseTokenErrorCode(body);
  auto error = oidc::tokenEndpointError(status, body, "fuzz");
  const bool retryable_status = status >= 500 || status == 429;
  if (error.retryable != retryable_status) fail("retryability does not follow the status");
  if (error.message.size() > 200) fail("error message carries the body");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first two bytes choose a status for the error classification.
  const int status = size >= 2 ? 100 + (data[0] * 256 + data[1]) % 500 : 400;
  fuzzDiscovery(input);
  fuzzTokenResponse(input, status);
  (void)oidc::parseHttpUrl(input);
  (void)oidc::urlForMessages(input);
  return 0;
}

#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/jwks_cache.h"
#include "common/result.h"
#include "net/asio.h"

namespace gatehouse::authenticate::oidc {

// What an ID token must say (OpenID Connect Core 3.1.3.7).
struct IdTokenExpectations {
  // "iss" must equal this exactly...
  std::string issuer;
  // ...or, when this is set, this template with "{tenantid}" replaced by
  // the token's own "tid" claim (Azure's multi-tenant endpoints).
  std::string tenant_issuer_template;
  // "aud" must contain it, and "azp", when present or required by several
  // audiences, must equal it.
  std::string client_id;
  // "nonce" must equal it; empty = not checked (refresh, OIDC Core 12.2).
  std::string nonce;
  // The IdP's id_token_signing_alg_values_supported; when not empty the
  // token's "alg" must be one of them as well.
  std::vector<std::string> advertised_algorithms;
  std::string jwks_uri;
};

// Verifies ID tokens: the header, the signature with the IdP's keys, then
// the claims. Shared by all threads (JwksCache is thread-safe).
class IdTokenVerifier {
 public:
  IdTokenVerifier(std::shared_ptr<JwksCache> keys, Clock clock)
      : keys_(std::move(keys)), clock_(std::move(clock)) {}

  // The verified claims (a JSON object with a non-empty "sub"), or
  // kUnauthenticated with the reason.
  Task<Result<nlohmann::json>> verify(std::string_view raw,
                                      const IdTokenExpectations& expectations) const;

 private:
  std::shared_ptr<JwksCache> keys_;
  Clock clock_;
};

// The "sub" of an ID token this process verified earlier and stored,
// read without checking it again; empty when it cannot be read.
std::string storedIdTokenSubject(std::string_view raw);

}  // namespace gatehouse::authenticate::oidc

#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/jws.h"

namespace gatehouse::crypto {

// What a verified JWS payload must say for its claims to be accepted
// (RFC 7519 section 4.1, OpenID Connect Core section 3.1.3.7).
struct ClaimsRequirements {
  // "iss" must equal this exactly. Empty: not checked.
  std::string issuer;
  // "aud" (a string or an array of strings) must contain one of these.
  // Empty: not checked.
  std::vector<std::string> audiences;
  // When set, an "azp" claim must equal it, and a token with more than one
  // audience must have one (OpenID Connect Core 3.1.3.7, items 4 and 5).
  std::string authorized_party;
  // Session handles have no "exp" (the databroker record expires instead);
  // ID tokens and identity JWTs must have one.
  bool require_expiry = true;
  bool require_issued_at = false;
  // Tolerated clock difference for "exp", "nbf" and "iat".
  std::chrono::seconds leeway{60};
};

// The claims of a JWT whose time and audience checks passed.
class JwtClaims {
 public:
  // Parses `payload` (the output of a successful Jws::verify) as a strict
  // JSON object and checks it against `requirements` at time `now`:
  //   exp: now < exp + leeway          nbf: now >= nbf - leeway
  //   iat: iat <= now + leeway (not issued in the future)
  // Each time claim that is present must be a number, "iss" and "azp" must
  // be strings, "aud" a string or an array of strings. A failed check is
  // kUnauthenticated; a malformed payload kInvalidArgument.
  static Result<JwtClaims> verify(std::string_view payload, const ClaimsRequirements& requirements,
                                  std::chrono::system_clock::time_point now,
                                  const JwsLimits& limits = {});

  const nlohmann::json& json() const { return json_; }
  // The string claim `name`, or empty when absent or not a string.
  std::string stringClaim(std::string_view name) const;
  // "aud" as a list (one element when it is a string).
  std::vector<std::string> audiences() const;

 private:
  explicit JwtClaims(nlohmann::json json) : json_(std::move(json)) {}

  nlohmann::json json_;
};

}  // namespace gatehouse::crypto

#include "crypto/jwt_claims.h"

#include <algorithm>
#include <optional>

#include "crypto/openssl_util.h"
#include "crypto/strict_json.h"

namespace gatehouse::crypto {
namespace {

using detail::malformed;
using detail::rejected;

// A NumericDate claim (RFC 7519 section 2): absent, or a JSON number of
// seconds, possibly fractional.
Result<std::optional<double>> numericDate(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<double>();
  if (!it->is_number()) return malformed(std::string("JWT: \"") + name + "\" is not a number");
  return std::optional<double>(it->get<double>());
}

Result<std::vector<std::string>> audienceList(const nlohmann::json& claims) {
  std::vector<std::string> out;
  auto it = claims.find("aud");
  if (it == claims.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) return malformed("JWT: \"aud\" is neither a string nor an array");
  for (const auto& value : *it) {
    if (!value.is_string()) return malformed("JWT: \"aud\" has a member that is not a string");
    out.push_back(value.get<std::string>());
  }
  return out;
}

}  // namespace

Result<JwtClaims> JwtClaims::verify(std::string_view payload,
                                    const ClaimsRequirements& requirements,
                                    std::chrono::system_clock::time_point now,
                                    const JwsLimits& limits) {
  if (payload.size() > limits.max_token_bytes) return malformed("JWT: claims too large");
  auto parsed = detail::parseStrictJson(payload, limits.max_json_depth);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return malformed("JWT: claims are not a JSON object");
  const nlohmann::json& claims = *parsed;

  const double now_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(requirements.leeway.count());

  auto exp = numericDate(claims, "exp");
  if (!exp) return exp.error();
  if (!exp->has_value() && requirements.require_expiry) return rejected("JWT: no \"exp\"");
  if (exp->has_value() && !(now_seconds < **exp + leeway)) return rejected("JWT: expired");

  auto nbf = numericDate(claims, "nbf");
  if (!nbf) return nbf.error();
  if (nbf->has_value() && !(now_seconds >= **nbf - leeway)) return rejected("JWT: not valid yet");

  auto iat = numericDate(claims, "iat");
  if (!iat) return iat.error();
  if (!iat->has_value() && requirements.require_issued_at) return rejected("JWT: no \"iat\"");
  if (iat->has_value() && !(**iat <= now_seconds + leeway)) {
    return rejected("JWT: issued in the future");
  }

  if (auto iss = claims.find("iss"); iss != claims.end() && !iss->is_string()) {
    return malformed("JWT: \"iss\" is not a string");
  }
  if (!requirements.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || iss->get_ref<const std::string&>() != requirements.issuer) {
      return rejected("JWT: wrong issuer");
    }
  }

  auto audiences = audienceList(claims);
  if (!audiences) return audiences.error();
  if (!requirements.audiences.empty()) {
    const bool match = std::any_of(audiences->begin(), audiences->end(), [&](const auto& aud) {
      return std::find(requirements.audiences.begin(), requirements.audiences.end(), aud) !=
             requirements.audiences.end();
    });
    if (!match) return rejected("JWT: wrong audience");
  }

  auto azp = claims.find("azp");
  if (azp != claims.end() && !azp->is_string()) return malformed("JWT: \"azp\" is not a string");
  if (!requirements.authorized_party.empty()) {
    if (azp != claims.end() &&
        azp->get_ref<const std::string&>() != requirements.authorized_party) {
      return rejected("JWT: wrong authorized party");
    }
    if (azp == claims.end() && audiences->size() > 1) {
      return rejected("JWT: several audiences and no authorized party");
    }
  }
  return JwtClaims(std::move(*parsed));
}

std::string JwtClaims::stringClaim(std::string_view name) const {
  auto it = json_.find(std::string(name));
  if (it == json_.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::vector<std::string> JwtClaims::audiences() const {
  auto list = audienceList(json_);
  return list ? std::move(*list) : std::vector<std::string>();
}

}  // namespace gatehouse::crypto

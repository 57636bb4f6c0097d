#include "databroker/service_token.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "crypto/hmac.h"

namespace gatehouse::databroker {
namespace {

constexpr auto kLeeway = std::chrono::minutes(1);

Error unauthenticated(std::string message) {
  return {ErrorCode::kUnauthenticated, ErrorSource::kDownstream, std::move(message), false};
}

}  // namespace

std::string mintServiceToken(std::string_view shared_secret, Timestamp now, Duration lifetime) {
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch() + lifetime);
  std::string signing_input = base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                              base64UrlEncode(R"({"exp":)" + std::to_string(exp.count()) + "}");
  return signing_input + "." +
         base64UrlEncode(crypto::hmac(crypto::HmacHash::kSha256, shared_secret, signing_input));
}

Result<void> verifyServiceToken(std::string_view token, std::string_view shared_secret,
                                Timestamp now) {
  if (token.empty()) return unauthenticated("missing jwt");
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return unauthenticated("invalid jwt");
  }
  auto header_text = base64Decode(token.substr(0, first));
  auto payload_text = base64Decode(token.substr(first + 1, second - first - 1));
  auto signature = base64Decode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) return unauthenticated("invalid jwt");

  // Only HS256: anything else ("none", or an asymmetric algorithm with the
  // secret as a "public key") is refused before the signature is looked at.
  auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object() || !header.contains("alg") || header["alg"] != "HS256") {
    return unauthenticated("invalid jwt: algorithm must be HS256");
  }
  if (!crypto::verifyHmac(crypto::HmacHash::kSha256, shared_secret, token.substr(0, second),
                          *signature)) {
    return unauthenticated("invalid jwt: bad signature");
  }

  auto payload = nlohmann::json::parse(*payload_text, nullptr, false);
  if (!payload.is_object() || payload.size() != 1 || !payload.contains("exp") ||
      !payload["exp"].is_number()) {
    return unauthenticated("invalid jwt: exp must be its only claim");
  }
  double exp = payload["exp"].get<double>();
  double limit = std::chrono::duration<double>((now - kLeeway).time_since_epoch()).count();
  if (exp <= limit) return unauthenticated("jwt expired");
  return {};
}

}  // namespace gatehouse::databroker

#include "databroker/service_token.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "crypto/hmac.h"

namespace gatehouse::databroker {
namespace {

constexpr auto kLeeway = std::chrono::minutes(1);
constexpr auto kTokenReuse = std::chrono::seconds(30);

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
                                Timestamp now, double* exp_out) {
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
  if (exp_out) *exp_out = exp;
  return {};
}

ServiceTokenSource::ServiceTokenSource(std::string shared_secret)
    : shared_secret_(std::move(shared_secret)) {}

std::string ServiceTokenSource::current() {
  Timestamp now = databroker::now();
  std::lock_guard lock(mutex_);
  if (token_.empty() || now >= renew_at_ || now < minted_at_) {
    token_ = mintServiceToken(shared_secret_, now);
    minted_at_ = now;
    renew_at_ = now + kTokenReuse;
  }
  return token_;
}

ServiceTokenVerifier::ServiceTokenVerifier(std::string shared_secret)
    : shared_secret_(std::move(shared_secret)) {}

Result<void> ServiceTokenVerifier::verify(std::string_view token, Timestamp now) {
  double seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_) {
      if (entry.token == token && seconds < entry.exp) return {};
    }
  }
  double exp = 0;
  auto verified = verifyServiceToken(token, shared_secret_, now, &exp);
  if (verified.ok() && seconds < exp) remember(token, exp);
  return verified;
}

void ServiceTokenVerifier::remember(std::string_view token, double exp) {
  std::lock_guard lock(mutex_);
  Entry* slot = nullptr;
  for (auto& entry : entries_) {
    if (entry.token == token) return;
    if (slot == nullptr || entry.exp < slot->exp) slot = &entry;
  }
  if (entries_.size() < kCapacity) {
    entries_.push_back({std::string(token), exp});
  } else {
    *slot = {std::string(token), exp};  // the one expiring first
  }
}

}  // namespace gatehouse::databroker

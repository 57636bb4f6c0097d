#include "authenticate/oidc/token_response.h"

#include <nlohmann/json.hpp>

#include "authenticate/oidc/json_document.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr size_t kMaxTokenResponseBytes = size_t{256} * 1024;
// Ten years: a larger lifetime is nonsense, and bounding it keeps the
// expiry arithmetic far from overflow.
constexpr uint64_t kMaxExpiresIn = uint64_t{10} * 365 * 24 * 3600;

Result<std::string> optionalString(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return protocolError(std::string("token response: \"") + name + "\" is not a string");
  }
  return it->get<std::string>();
}

Result<std::optional<std::chrono::seconds>> expiresIn(const nlohmann::json& object) {
  auto it = object.find("expires_in");
  if (it == object.end() || it->is_null()) return std::optional<std::chrono::seconds>();
  uint64_t seconds = 0;
  if (it->is_number_unsigned()) {
    seconds = it->get<uint64_t>();
  } else if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    seconds = static_cast<uint64_t>(it->get<int64_t>());
  } else if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text.empty() || text.size() > 12) {
      return protocolError("token response: \"expires_in\" is not a number");
    }
    for (char c : text) {
      if (c < '0' || c > '9')
        return protocolError("token response: \"expires_in\" is not a number");
      seconds = seconds * 10 + static_cast<uint64_t>(c - '0');
    }
  } else {
    return protocolError("token response: \"expires_in\" is not a non-negative integer");
  }
  if (seconds > kMaxExpiresIn) seconds = kMaxExpiresIn;
  return std::optional<std::chrono::seconds>(std::chrono::seconds(seconds));
}

}  // namespace

Result<TokenResponse> parseTokenResponse(std::string_view body) {
  auto document = parseJsonObject(body, "token response", kMaxTokenResponseBytes);
  if (!document) return document.error();
  if (auto error = document->find("error"); error != document->end()) {
    std::string code = error->is_string() ? error->get<std::string>() : "(not a string)";
    return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream,
                 "token endpoint refused: " + code.substr(0, 64), false};
  }
  TokenResponse out;
  auto access_token = optionalString(*document, "access_token");
  if (!access_token) return access_token.error();
  if (access_token->empty()) return protocolError("token response: \"access_token\" is missing");
  out.access_token = std::move(*access_token);

  struct Member {
    const char* name;
    std::string* target;
  };
  const Member members[] = {{"token_type", &out.token_type},
                            {"refresh_token", &out.refresh_token},
                            {"id_token", &out.id_token},
                            {"scope", &out.scope}};
  for (const Member& member : members) {
    auto value = optionalString(*document, member.name);
    if (!value) return value.error();
    *member.target = std::move(*value);
  }
  auto expires = expiresIn(*document);
  if (!expires) return expires.error();
  out.expires_in = *expires;
  return out;
}

std::string parseTokenErrorCode(std::string_view body) {
  auto document = parseJsonObject(body, "token error", kMaxTokenResponseBytes);
  if (!document) return {};
  auto error = document->find("error");
  if (error == document->end() || !error->is_string()) return {};
  return error->get<std::string>().substr(0, 64);
}

Error tokenEndpointError(int status, std::string_view body, std::string_view what) {
  std::string message = std::string(what) + ": HTTP " + std::to_string(status);
  if (std::string code = parseTokenErrorCode(body); !code.empty()) message += " " + code;
  if (status >= 500 || status == 429) {
    return Error{ErrorCode::kUnavailable, ErrorSource::kUpstream, std::move(message), true};
  }
  if (status == 400 || status == 401) {
    return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream, std::move(message), false};
  }
  return protocolError(std::move(message));
}

}  // namespace gatehouse::authenticate::oidc

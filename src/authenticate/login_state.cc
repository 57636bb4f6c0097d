#include "authenticate/login_state.h"

#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace gatehouse::authenticate {
namespace {

constexpr size_t kMaxStateBytes = 8192;

bool isBase64Url(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '=')) {
      return false;
    }
  }
  return !s.empty();
}

}  // namespace

std::string LoginState::encode(const crypto::Aead& cookie_cipher) const {
  nlohmann::json payload = {{"i", idp_id}, {"n", nonce}, {"p", pkce}, {"q", sign_in_query}};
  std::string ad = csrf + "." + std::to_string(issued);
  auto sealed = cookie_cipher.sealBase64Url(
      payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), ad);
  return ad + "." + (sealed ? *sealed : std::string());
}

Result<LoginState> LoginState::decode(std::string_view state, const crypto::Aead& cookie_cipher,
                                      std::chrono::system_clock::time_point now) {
  if (state.empty() || state.size() > kMaxStateBytes) return Error::invalid("invalid state");
  size_t first = state.find('.');
  size_t second = first == std::string_view::npos ? first : state.find('.', first + 1);
  if (second == std::string_view::npos) return Error::invalid("invalid state");
  LoginState out;
  out.csrf = std::string(state.substr(0, first));
  std::string_view issued = state.substr(first + 1, second - first - 1);
  std::string_view sealed = state.substr(second + 1);
  if (!isBase64Url(out.csrf) || !isBase64Url(sealed) || issued.empty() || issued.size() > 12) {
    return Error::invalid("invalid state");
  }
  for (char c : issued) {
    if (c < '0' || c > '9') return Error::invalid("invalid state");
    out.issued = out.issued * 10 + (c - '0');
  }
  auto opened = cookie_cipher.openBase64Url(sealed, state.substr(0, second));
  if (!opened) return Error::invalid("state was not issued by this service");
  int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  int64_t lifetime = std::chrono::duration_cast<std::chrono::seconds>(kLifetime).count();
  if (out.issued > now_seconds + 60 || now_seconds - out.issued > lifetime) {
    return Error::invalid("state expired: start the login again");
  }
  auto payload = nlohmann::json::parse(*opened, nullptr, false);
  if (!payload.is_object() || !payload.contains("q") || !payload["q"].is_string() ||
      !payload["n"].is_string() || !payload["i"].is_string() || !payload["p"].is_boolean()) {
    return Error::invalid("invalid state");
  }
  out.sign_in_query = payload["q"].get<std::string>();
  out.nonce = payload["n"].get<std::string>();
  out.idp_id = payload["i"].get<std::string>();
  out.pkce = payload["p"].get<bool>();
  return out;
}

std::string pkceCookieName(std::string_view state) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(state.data()), state.size(), digest);
  return "_pomerium_pkce_" +
         base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), 9));
}

}  // namespace gatehouse::authenticate

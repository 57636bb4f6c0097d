#include "session/handle.h"

#include <nlohmann/json.hpp>

#include "crypto/jws.h"

namespace gatehouse::session {
namespace {

using nlohmann::json;

// Handles are small; anything much larger is not one of ours.
constexpr size_t kMaxHandleBytes = 4096;

Error unauthenticated(std::string message) {
  return {ErrorCode::kUnauthenticated, ErrorSource::kDownstream, std::move(message), false};
}

}  // namespace

Result<HandleCodec> HandleCodec::create(std::string_view shared_secret) {
  auto key = crypto::Jwk::fromSecret(shared_secret);
  if (!key) return key.error();
  auto aead = crypto::Aead::create(crypto::AeadAlgorithm::kXChaCha20Poly1305, shared_secret);
  if (!aead) return aead.error();
  return HandleCodec(std::move(*key), std::move(*aead));
}

std::string HandleCodec::sign(const Handle& handle) const {
  json claims = json::object();
  claims["iss"] = handle.issuer;
  claims["sub"] = handle.user_id;
  claims["aud"] = handle.audience;
  claims["iat"] = handle.issued_at;
  claims["jti"] = handle.session_id;
  if (!handle.idp_id.empty()) claims["idp_id"] = handle.idp_id;
  claims["databroker_server_version"] = handle.server_version;
  claims["databroker_record_version"] = handle.record_version;
  crypto::JwsSignOptions options;
  options.include_key_id = false;
  auto jwt =
      crypto::Jws::sign(key_, claims.dump(-1, ' ', false, json::error_handler_t::replace), options);
  // Signing with an in-memory HMAC key cannot fail short of memory exhaustion.
  return jwt ? std::move(*jwt) : std::string();
}

Result<Handle> HandleCodec::verify(std::string_view jwt) const {
  if (jwt.empty() || jwt.size() > kMaxHandleBytes) return Error::invalid("not a session handle");
  crypto::JwsLimits limits;
  limits.max_token_bytes = kMaxHandleBytes;
  limits.max_json_depth = 4;
  auto jws = crypto::Jws::parse(jwt, limits);
  if (!jws) return Error::invalid("not a session handle: " + jws.error().message);
  if (jws->header().algorithm != crypto::JwsAlgorithm::kHs256) {
    return unauthenticated("session handle not signed with HS256");
  }
  if (auto ok = jws->verify(key_); !ok) return unauthenticated("session handle signature");
  json claims = json::parse(jws->payload(), nullptr, false);
  if (!claims.is_object()) return Error::invalid("session handle claims are not an object");
  Handle h;
  auto str = [&](const char* name, std::string& out) {
    auto it = claims.find(name);
    if (it == claims.end()) return true;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto num = [&](const char* name, auto& out) {
    auto it = claims.find(name);
    if (it == claims.end()) return true;
    if (!it->is_number_integer() && !it->is_number_unsigned()) return false;
    out = it->get<std::remove_reference_t<decltype(out)>>();
    return true;
  };
  bool ok = str("jti", h.session_id) && str("sub", h.user_id) && str("iss", h.issuer) &&
            str("idp_id", h.idp_id) && num("iat", h.issued_at) &&
            num("databroker_server_version", h.server_version) &&
            num("databroker_record_version", h.record_version);
  if (auto aud = claims.find("aud"); ok && aud != claims.end()) {
    if (aud->is_string()) {
      h.audience.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (auto& a : *aud) {
        if (!a.is_string()) {
          ok = false;
          break;
        }
        h.audience.push_back(a.get<std::string>());
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return Error::invalid("session handle claims have the wrong types");
  if (h.session_id.empty()) return Error::invalid("session handle without a session id");
  return h;
}

std::string HandleCodec::seal(const Handle& handle) const {
  auto sealed = aead_.sealBase64Url(sign(handle));
  return sealed ? std::move(*sealed) : std::string();
}

Result<Handle> HandleCodec::open(std::string_view sealed) const {
  if (sealed.empty() || sealed.size() > kMaxHandleBytes * 2) {
    return Error::invalid("not a sealed session handle");
  }
  auto jwt = aead_.openBase64Url(sealed);
  if (!jwt) return unauthenticated("sealed session handle does not open with this secret");
  return verify(*jwt);
}

}  // namespace gatehouse::session

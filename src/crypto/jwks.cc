#include "crypto/jwks.h"

#include <nlohmann/json.hpp>

#include "crypto/openssl_util.h"
#include "crypto/strict_json.h"

namespace gatehouse::crypto {
namespace {

constexpr int kMaxJwksDepth = 8;

}  // namespace

Result<Jwks> Jwks::parse(std::string_view json) {
  if (json.size() > kMaxBytes) return detail::malformed("JWKS: larger than 256 KiB");
  auto document = detail::parseStrictJson(json, kMaxJwksDepth);
  if (!document) return document.error();
  if (!document->is_object()) return detail::malformed("JWKS: not a JSON object");
  auto keys = document->find("keys");
  if (keys == document->end() || !keys->is_array()) {
    return detail::malformed("JWKS: \"keys\" is not an array");
  }
  if (keys->size() > kMaxKeys) return detail::malformed("JWKS: more than 100 keys");
  Jwks set;
  for (size_t i = 0; i < keys->size(); ++i) {
    auto key = Jwk::fromJson((*keys)[i]);
    if (key) {
      set.keys_.push_back(std::move(*key));
    } else {
      set.skipped_.push_back("keys[" + std::to_string(i) + "]: " + key.error().message);
    }
  }
  return set;
}

std::vector<const Jwk*> Jwks::find(std::string_view key_id, JwsAlgorithm algorithm) const {
  std::vector<const Jwk*> found;
  bool id_known = false;
  for (const Jwk& key : keys_) {
    id_known = id_known || (!key_id.empty() && key.keyId() == key_id);
    if (key.allows(algorithm) && (key_id.empty() || key.keyId() == key_id)) found.push_back(&key);
  }
  if (!id_known && !key_id.empty()) {
    // A token may name a key that its issuer publishes without a "kid".
    for (const Jwk& key : keys_) {
      if (key.allows(algorithm) && key.keyId().empty()) found.push_back(&key);
    }
  }
  return found;
}

std::string Jwks::toJson() const {
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const Jwk& key : keys_) {
    std::string json = key.toPublicJson();
    if (json.empty()) continue;
    if (!first) out += ',';
    first = false;
    out += json;
  }
  out += "]}";
  return out;
}

}  // namespace gatehouse::crypto

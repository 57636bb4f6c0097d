#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authorize/identity.h"
#include "config/loader.h"
#include "crypto/jwks.h"
#include "crypto/jws.h"
#include "crypto/signing_key.h"
#include "unit/crypto/test_keys.h"

namespace gatehouse::authorize::testing {

inline std::shared_ptr<const crypto::SigningKey> ecKey() {
  static auto key = std::make_shared<const crypto::SigningKey>(
      crypto::SigningKey::fromPem(crypto::testing::kPomeriumEcKeyBase64).value());
  return key;
}

inline std::shared_ptr<const crypto::SigningKey> rsaKey() {
  static auto key = std::make_shared<const crypto::SigningKey>(
      crypto::SigningKey::fromPem(crypto::testing::kPomeriumRsaKeyBase64).value());
  return key;
}

// Verifies `token` against the JWKS document `jwks_json` and returns its
// payload (null JSON on failure, with a test failure recorded).
inline nlohmann::json verifiedPayload(std::string_view token, std::string_view jwks_json) {
  auto jwks = crypto::Jwks::parse(jwks_json);
  if (!jwks) {
    ADD_FAILURE() << "JWKS: " << jwks.error().message;
    return nullptr;
  }
  auto jws = crypto::Jws::parse(token);
  if (!jws) {
    ADD_FAILURE() << "JWS: " << jws.error().message;
    return nullptr;
  }
  if (auto ok = jws->verify(*jwks); !ok) {
    ADD_FAILURE() << "signature: " << ok.error().message;
    return nullptr;
  }
  return nlohmann::json::parse(jws->payload());
}

// Owns what an Identity points at.
struct User {
  std::string session_id = "session-1";
  uint64_t session_version = 7;
  std::string user_id = "user-1";
  std::string email = "alice@example.com";
  std::string name;
  std::vector<std::string> groups;
  nlohmann::json claims;  // null = none
  std::string access_token = "ACCESS";
  std::string id_token = "ID";
  uint64_t view = 0;  // Identity::view

  Identity identity() const {
    Identity id;
    id.session_id = session_id;
    id.session_version = session_version;
    id.user_id = user_id;
    id.email = email;
    id.name = name;
    id.groups = groups;
    id.claims = claims.is_null() ? nullptr : &claims;
    id.access_token = access_token;
    id.id_token = id_token;
    id.view = view;
    return id;
  }
};

inline std::string indent(std::string_view text, std::string_view prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += std::string(prefix) + std::string(text.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  return out;
}

// Routes from a YAML `routes:` list body (each entry "- from: ...").
inline std::vector<config::Route> loadRoutes(std::string_view routes_yaml) {
  config::Environment env = {{"SHARED_SECRET", "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE="},
                             {"COOKIE_SECRET", "Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE="}};
  std::string text = "routes:\n" + indent(routes_yaml, "  ");
  config::LoadResult result = config::loadText(text, "/nonexistent", env);
  if (!result.options) {
    std::string message;
    for (const auto& e : result.errors) message += e + "\n";
    ADD_FAILURE() << "config rejected:\n" << message << text;
    return {};
  }
  return result.options->routes;
}

}  // namespace gatehouse::authorize::testing

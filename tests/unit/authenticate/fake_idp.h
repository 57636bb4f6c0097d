#pragma once

// A scripted identity provider for the relying party's unit tests: a
// Fetcher that serves discovery, JWKS, token and userinfo documents from
// memory, with signing keys generated per process, and helpers to mint ID
// tokens. Not for anything but tests.

#include <openssl/evp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/fetcher.h"
#include "common/base64.h"
#include "crypto/jwk.h"
#include "crypto/jws.h"
#include "support/run_task.h"

namespace gatehouse::authenticate::oidc::testing {

using gatehouse::testing::run;

inline crypto::Jwk generateKey(const char* type, std::string kid, crypto::JwsAlgorithm algorithm) {
  EVP_PKEY* key = nullptr;
  if (std::string_view(type) == "RSA") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  } else if (std::string_view(type) == "EC") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  auto jwk = crypto::Jwk::fromOpensslKey(key, std::move(kid), algorithm);
  EVP_PKEY_free(key);
  return *jwk;
}

// One key of each kind, generated once (RSA generation is slow).
struct TestKeys {
  crypto::Jwk rsa = generateKey("RSA", "rsa-1", crypto::JwsAlgorithm::kRs256);
  crypto::Jwk rsa_pss =
      crypto::Jwk::fromOpensslKey(rsa.opensslKey(), "pss-1", crypto::JwsAlgorithm::kPs256).value();
  crypto::Jwk ec = generateKey("EC", "ec-1", crypto::JwsAlgorithm::kEs256);
  crypto::Jwk ed = generateKey("ED25519", "ed-1", crypto::JwsAlgorithm::kEdDsa);
  crypto::Jwk other_rsa = generateKey("RSA", "rsa-2", crypto::JwsAlgorithm::kRs256);

  static const TestKeys& get() {
    static const TestKeys keys;
    return keys;
  }
};

// A wall and monotonic clock the test moves by hand.
struct ManualClock {
  std::chrono::system_clock::time_point wall =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::chrono::steady_clock::time_point mono =
      std::chrono::steady_clock::time_point(std::chrono::hours(1));

  void advance(std::chrono::seconds d) {
    wall += d;
    mono += d;
  }
  Clock clock() {
    return Clock{[this] { return wall; }, [this] { return mono; }};
  }
  int64_t unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
  }
};

inline FetchResponse jsonResponse(int status, const std::string& body) {
  FetchResponse response;
  response.status = status;
  response.headers.add("Content-Type", "application/json");
  response.body = body;
  return response;
}

// The fake identity provider at https://idp.example.com.
class FakeIdp final : public Fetcher {
 public:
  using Handler = std::function<Result<FetchResponse>(const FetchRequest&)>;

  std::string issuer = "https://idp.example.com";
  std::string client_id = "gatehouse-client";
  std::string client_secret = "a-client-secret-that-is-32-bytes-long!";
  ManualClock* clock = nullptr;

  nlohmann::json discovery = {
      {"issuer", "https://idp.example.com"},
      {"authorization_endpoint", "https://idp.example.com/authorize"},
      {"token_endpoint", "https://idp.example.com/token"},
      {"jwks_uri", "https://idp.example.com/jwks"},
      {"userinfo_endpoint", "https://idp.example.com/userinfo"},
      {"revocation_endpoint", "https://idp.example.com/revoke"},
      {"end_session_endpoint", "https://idp.example.com/logout"},
      {"code_challenge_methods_supported", {"plain", "S256"}},
      {"id_token_signing_alg_values_supported", {"RS256", "ES256", "PS256", "EdDSA"}},
  };
  std::vector<crypto::Jwk> published = {TestKeys::get().rsa, TestKeys::get().rsa_pss,
                                        TestKeys::get().ec, TestKeys::get().ed};
  // What the token endpoint answers next (status and JSON body).
  int token_status = 200;
  nlohmann::json token_response;
  nlohmann::json userinfo = {
      {"sub", "user-1"}, {"email", "user@example.com"}, {"name", "User One"}};
  // Extra routes by URL (without query), checked before the built-in ones.
  std::map<std::string, Handler> routes;

  std::vector<FetchRequest> requests;
  int count(std::string_view url) const {
    int n = 0;
    for (const auto& r : requests) n += r.url == url;
    return n;
  }
  const FetchRequest* last(std::string_view url) const {
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      if (it->url == url) return &*it;
    }
    return nullptr;
  }

  Task<Result<FetchResponse>> fetch(FetchRequest request) override {
    requests.push_back(request);
    co_return answer(request);
  }

  // ID token claims that pass every check at the clock's time.
  nlohmann::json goodClaims(std::string nonce = "nonce-1") const {
    const int64_t now = clock ? clock->unix() : 1'800'000'000;
    nlohmann::json claims = {{"iss", issuer}, {"sub", "user-1"},   {"aud", client_id},
                             {"iat", now},    {"exp", now + 3600}, {"email", "user@example.com"}};
    if (!nonce.empty()) claims["nonce"] = nonce;
    return claims;
  }

  static std::string sign(const crypto::Jwk& key, const nlohmann::json& claims) {
    return crypto::Jws::sign(key, claims.dump()).value();
  }
  std::string idToken(const nlohmann::json& claims) const {
    return sign(TestKeys::get().rsa, claims);
  }

  // A token endpoint answer carrying `id_token`.
  void answerTokens(std::string id_token, std::string refresh_token = "refresh-1") {
    token_status = 200;
    token_response = {{"access_token", "access-1"}, {"token_type", "Bearer"}, {"expires_in", 3600}};
    if (!id_token.empty()) token_response["id_token"] = std::move(id_token);
    if (!refresh_token.empty()) token_response["refresh_token"] = std::move(refresh_token);
  }

 private:
  Result<FetchResponse> answer(const FetchRequest& request) {
    const std::string url = request.url.substr(0, request.url.find('?'));
    if (auto it = routes.find(url); it != routes.end()) return it->second(request);
    if (url == issuer + "/.well-known/openid-configuration") {
      return jsonResponse(200, discovery.dump());
    }
    if (url == issuer + "/jwks") {
      std::string body = "{\"keys\":[";
      for (size_t i = 0; i < published.size(); ++i) {
        if (i) body += ",";
        body += published[i].toPublicJson();
      }
      return jsonResponse(200, body + "]}");
    }
    if (url == issuer + "/token") return jsonResponse(token_status, token_response.dump());
    if (url == issuer + "/userinfo") return jsonResponse(200, userinfo.dump());
    if (url == issuer + "/revoke") return jsonResponse(200, "{}");
    return jsonResponse(404, "{}");
  }
};

}  // namespace gatehouse::authenticate::oidc::testing

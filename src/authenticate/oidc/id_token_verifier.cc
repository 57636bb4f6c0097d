#include "authenticate/oidc/id_token_verifier.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "crypto/jws.h"
#include "crypto/jwt_claims.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr std::string_view kTenantPlaceholder = "{tenantid}";

Error refused(std::string message) {
  return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream, "ID token: " + message, false};
}

// Only asymmetric signatures are accepted for ID tokens. HS256 would be
// keyed with the client secret (OIDC Core 10.1), which every component
// that holds the configuration knows: anyone of them could mint identities.
bool acceptedAlgorithm(crypto::JwsAlgorithm algorithm) {
  switch (algorithm) {
    case crypto::JwsAlgorithm::kRs256:
    case crypto::JwsAlgorithm::kEs256:
    case crypto::JwsAlgorithm::kPs256:
    case crypto::JwsAlgorithm::kEdDsa:
      return true;
    case crypto::JwsAlgorithm::kHs256:
      return false;
  }
  return false;
}

bool equalConstantTime(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The issuer a token must name: fixed, or the tenant template filled in
// with the token's "tid" (which must be a plain identifier, so that it
// cannot smuggle "/" or anything else into the issuer).
Result<std::string> expectedIssuer(const IdTokenExpectations& expectations,
                                   const nlohmann::json& claims) {
  if (expectations.tenant_issuer_template.empty()) return expectations.issuer;
  auto tid = claims.find("tid");
  if (tid == claims.end() || !tid->is_string() || tid->get_ref<const std::string&>().empty()) {
    return refused("no \"tid\" claim for a multi-tenant issuer");
  }
  const std::string& tenant = tid->get_ref<const std::string&>();
  if (tenant.size() > 64 || !std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-';
      })) {
    return refused("\"tid\" is not a tenant id");
  }
  std::string issuer = expectations.tenant_issuer_template;
  const size_t at = issuer.find(kTenantPlaceholder);
  if (at == std::string::npos) return refused("multi-tenant issuer without {tenantid}");
  issuer.replace(at, kTenantPlaceholder.size(), tenant);
  return issuer;
}

}  // namespace

Task<Result<nlohmann::json>> IdTokenVerifier::verify(
    std::string_view raw, const IdTokenExpectations& expectations) const {
  auto jws = crypto::Jws::parse(raw);
  if (!jws) co_return refused(jws.error().message);
  const crypto::JwsAlgorithm algorithm = jws->header().algorithm;
  const std::string_view algorithm_name = crypto::jwsAlgorithmName(algorithm);
  if (!acceptedAlgorithm(algorithm)) {
    co_return refused("algorithm " + std::string(algorithm_name) + " is not accepted");
  }
  const auto& advertised = expectations.advertised_algorithms;
  if (!advertised.empty() &&
      std::find(advertised.begin(), advertised.end(), algorithm_name) == advertised.end()) {
    co_return refused("algorithm " + std::string(algorithm_name) +
                      " is not one the identity provider advertises");
  }

  auto signature = co_await keys_->verify(*jws, expectations.jwks_uri);
  if (!signature) {
    Error error = signature.error();
    if (error.code == ErrorCode::kUnauthenticated && error.message.rfind("ID token", 0) != 0) {
      error.message = "ID token: " + error.message;
    }
    co_return error;
  }

  // The issuer is checked below once the claims are known (it may depend
  // on "tid"); everything else by JwtClaims.
  crypto::ClaimsRequirements requirements;
  requirements.audiences = {expectations.client_id};
  requirements.authorized_party = expectations.client_id;
  requirements.require_expiry = true;
  requirements.require_issued_at = true;
  requirements.leeway = std::chrono::seconds(60);
  auto claims = crypto::JwtClaims::verify(jws->payload(), requirements, clock_.now());
  if (!claims) co_return refused(claims.error().message);
  const nlohmann::json& json = claims->json();

  auto issuer = expectedIssuer(expectations, json);
  if (!issuer) co_return issuer.error();
  auto iss = json.find("iss");
  if (iss == json.end() || !iss->is_string() || iss->get_ref<const std::string&>() != *issuer) {
    co_return refused("\"iss\" is not the identity provider's issuer");
  }
  auto sub = json.find("sub");
  if (sub == json.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    co_return refused("\"sub\" is missing");
  }
  if (!expectations.nonce.empty()) {
    auto nonce = json.find("nonce");
    if (nonce == json.end() || !nonce->is_string() ||
        !equalConstantTime(nonce->get_ref<const std::string&>(), expectations.nonce)) {
      co_return refused("\"nonce\" does not match the one sent");
    }
  }
  co_return json;
}

std::string storedIdTokenSubject(std::string_view raw) {
  auto jws = crypto::Jws::parse(raw);
  if (!jws) return {};
  nlohmann::json payload = nlohmann::json::parse(jws->payload(), nullptr, false);
  if (!payload.is_object()) return {};
  auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string()) return {};
  return sub->get<std::string>();
}

}  // namespace gatehouse::authenticate::oidc

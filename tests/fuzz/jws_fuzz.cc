// Fuzzes the parsers of untrusted JOSE input: compact JWS (then verified
// against fixed keys of every kind), JWK, JWK Set and JWT claims. Beyond not
// crashing, what they accept must hold together:
//  - a verified signature used an algorithm the key allows (never HS256
//    with a public key, never "none");
//  - re-signing a parsed payload with the fixed HS256 key verifies, and
//    changes nothing in what parse() reports about it;
//  - a parsed JWK or JWKS survives its own serialisation: same thumbprints,
//    same document the second time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/jwk.h"
#include "crypto/jwks.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"

namespace {

using gatehouse::crypto::ClaimsRequirements;
using gatehouse::crypto::Jwk;
using gatehouse::crypto::Jwks;
using gatehouse::crypto::Jws;
using gatehouse::crypto::JwsAlgorithm;
using gatehouse::crypto::JwtClaims;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

Jwk mustParse(std::string_view json) {
  auto key = Jwk::parse(json);
  if (!key) fail("a fixed key does not parse");
  return *key;
}

// The keys every token is checked against: one of each kind.
struct Keys {
  Jwk hmac = *Jwk::fromSecret("0123456789abcdef0123456789abcdef", "hs");
  Jwk ec = mustParse(
      R"({"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
  Jwk rsa = mustParse(
      R"({"kty":"RSA","kid":"rsa","n":"67KjqmQYGq0MVtACVpeCmXminlQbDPGLmsZAUEwueHQnrt3WtvpDOm6AlaJMUnW-Hu55jjokalKeVjTKmgYGbqUzVDoMbPDaHekltdBTMGlOUFsP4UJSDrO4zdN-zo428TX2PnG2FCdVKGy4PE8ilHbWLcr871YjV51fw8CLDX9PZJNu861CF7V9iEJm6sSfQlmnhN8j3-WzVbPQNy1WsR7i9e9j63EqKt22Q9OXL-WAcKskoISmCNVRUAjU8YRVcgQJB-zQ34AQPlz0Op5O_QN_MedjaF8wLS-iv_zviS8cqPbxo6sLq6FNTltk_QkxeCeKKTQe_3kPYvQAdnl65Q","e":"AQAB"})");
  Jwk ed = mustParse(
      R"({"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  Jwks set{std::vector<Jwk>{ec, rsa, ed}};
};

const Keys& keys() {
  static const Keys kKeys;
  return kKeys;
}

void fuzzJws(std::string_view input) {
  auto jws = Jws::parse(input);
  if (!jws) return;
  const Keys& k = keys();
  for (const Jwk* key : {&k.hmac, &k.ec, &k.rsa, &k.ed}) {
    if (jws->verify(*key).ok() && !key->allows(jws->header().algorithm)) {
      fail("verified with an algorithm the key does not allow");
    }
  }
  if (auto verified = jws->verify(k.set);
      verified.ok() && jws->header().algorithm == JwsAlgorithm::kHs256) {
    fail("an HS256 token verified against public keys");
  }
  auto resigned = Jws::sign(k.hmac, jws->payload());
  if (!resigned) fail("signing a parsed payload failed");
  // A longer header than the input's can push it over the size limit.
  if (resigned->size() > gatehouse::crypto::JwsLimits{}.max_token_bytes) return;
  auto again = Jws::parse(*resigned);
  if (!again) fail("a token Gatehouse signed does not parse");
  if (again->payload() != jws->payload()) fail("payload changed through sign and parse");
  if (!again->verify(k.hmac).ok()) fail("a token Gatehouse signed does not verify");
  if (again->verify(k.set).ok()) fail("an HS256 token verified against the public key set");
}

void fuzzJwk(std::string_view input) {
  auto key = Jwk::parse(input);
  if (!key) return;
  if (key->isPrivate()) fail("a parsed JWK holds a private key");
  auto again = Jwk::parse(key->toPublicJson());
  if (!again) fail("a parsed JWK's own JSON does not parse");
  if (again->thumbprint() != key->thumbprint()) fail("thumbprint changed through serialisation");
  if (again->toPublicJson() != key->toPublicJson()) fail("JWK JSON is not stable");
}

void fuzzJwks(std::string_view input) {
  auto set = Jwks::parse(input);
  if (!set) return;
  const std::string json = set->toJson();
  auto again = Jwks::parse(json);
  if (!again) fail("a parsed JWKS's own JSON does not parse");
  if (again->keys().size() != set->keys().size() || !again->skipped().empty()) {
    fail("JWKS lost or skipped keys through serialisation");
  }
  if (again->toJson() != json) fail("JWKS JSON is not stable");
}

void fuzzClaims(std::string_view input) {
  ClaimsRequirements requirements;
  requirements.issuer = "https://idp.example.com";
  requirements.audiences = {"client"};
  requirements.authorized_party = "client";
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto claims = JwtClaims::verify(input, requirements, now);
  if (!claims) return;
  if (claims->stringClaim("iss") != requirements.issuer) fail("accepted another issuer");
  bool audience = false;
  for (const auto& aud : claims->audiences()) audience = audience || aud == "client";
  if (!audience) fail("accepted another audience");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzzJws(input);
  fuzzJwk(input);
  fuzzJwks(input);
  fuzzClaims(input);
  return 0;
}

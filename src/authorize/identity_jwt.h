#pragma once

// The identity JWT (X-Pomerium-Jwt-Assertion): what it says about a user, and
// signing it. The claims are Pomerium's (authorize/evaluator/
// headers_evaluator_evaluation.go), so upstreams that verify Pomerium's
// assertion accept Gatehouse's unchanged:
//
//   iss     the request's host name, or "https://<host>/" (IssuerFormat::kUri)
//   aud     the request's host name
//   jti     a random UUID
//   iat     now (seconds); exp = iat + 5 minutes
//   sub     the user id; `user` the same
//   email   Identity::email
//   groups  Identity::groups, always an array ([] rather than null)
//   sid     the session id
//   name    Identity::name, else the "name" claim comma-joined
//   ...     each claim named by jwt_claims_headers that is not one of the
//           above, from Identity::claims, as one comma-joined string (and
//           absent when the user has no such claim)
//
// The payload is written as Go's encoding/json writes Pomerium's map: keys
// sorted, "<", ">" and "&" escaped.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "authorize/identity.h"
#include "common/result.h"
#include "crypto/signing_key.h"

namespace gatehouse::authorize {

// `jwt_issuer_format`, globally or per route.
enum class IssuerFormat : uint8_t {
  kHostOnly,  // "hostOnly" (Pomerium's default): iss is the bare host name
  kUri,       // "uri": iss is https://<host>/
};

// Pomerium's YAML values "hostOnly" and "uri", and the names its protobuf
// and Enterprise API use, "IssuerHostOnly" and "IssuerURI" (all compared
// case-insensitively). nullopt for anything else.
std::optional<IssuerFormat> parseIssuerFormat(std::string_view text);
// The YAML spelling: "hostOnly" or "uri".
std::string_view issuerFormatName(IssuerFormat format);
// The "iss" value for a request to `host`.
std::string issuerFor(IssuerFormat format, std::string_view host);

// The claims Pomerium always writes; a jwt_claims_headers entry naming one
// of them reads it instead of adding a claim.
bool isBaseClaim(std::string_view claim);

// The claim values of one identity JWT, computed from an Identity without
// building JSON, so that claim headers can be filled from a cached token's
// stamp (jti, iat, exp) without parsing it. Borrows everything it is given.
class IdentityClaims {
 public:
  struct Stamp {
    std::string_view issuer;
    std::string_view audience;
    std::string_view jti;
    int64_t issued_at = 0;
    int64_t expires_at = 0;
  };

  IdentityClaims(const Identity& identity, const Stamp& stamp,
                 std::span<const std::string> extra_claims)
      : identity_(identity), stamp_(stamp), extra_claims_(extra_claims) {}

  // Appends the claim's value as Pomerium writes it into a claim header:
  // arrays comma-joined, numbers in decimal. Returns false (appending
  // nothing) when the payload has no such claim.
  bool appendHeaderValue(std::string_view claim, std::string& out) const;

  // The JSON payload.
  std::string payloadJson() const;

 private:
  const Identity& identity_;
  Stamp stamp_;
  std::span<const std::string> extra_claims_;
};

// Mints identity JWTs for one configuration: the signing keys and the claim
// names of jwt_claims_headers. Immutable and thread-safe.
class IdentityJwt {
 public:
  static constexpr std::chrono::seconds kLifetime{300};

  // A freshly signed token and the stamp it was signed with.
  struct Minted {
    std::string token;
    std::string jti;
    int64_t issued_at = 0;
    int64_t expires_at = 0;
  };

  // `claim_names`: the claims jwt_claims_headers names (ClaimHeaders::
  // claimNames()); base claims among them are ignored, duplicates dropped.
  IdentityJwt(std::shared_ptr<const crypto::SigningKey> signing_key,
              std::span<const std::string> claim_names);

  // Signs a JWT for `identity` on a request to `host` with the first
  // signing key. Fails only if signing fails.
  Result<Minted> mint(const Identity& identity, std::string_view host, IssuerFormat format,
                      std::chrono::system_clock::time_point now) const;

  // Appends everything of `identity` that the payload depends on, apart
  // from the session id and the time, in an unambiguous encoding: two
  // identities with equal fingerprints get equal payloads. Used by JwtCache
  // to notice a changed user record under an unchanged session version.
  void appendFingerprint(const Identity& identity, std::string& out) const;

  // The non-base claims the payload carries, in the order configured.
  const std::vector<std::string>& extraClaims() const { return extra_claims_; }
  const crypto::SigningKey& signingKey() const { return *signing_key_; }
  // Identifies this minter's configuration (signing key id and extra
  // claims): minters with equal keys make equal payloads for equal input.
  const std::string& configKey() const { return config_key_; }

 private:
  std::shared_ptr<const crypto::SigningKey> signing_key_;
  std::vector<std::string> extra_claims_;
  std::string config_key_;
};

// A random (version 4) UUID in its 36-character text form.
std::string randomUuid();

}  // namespace gatehouse::authorize

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/jwk.h"
#include "crypto/jwks.h"

namespace gatehouse::crypto {

// The keys that sign identity JWTs (X-Pomerium-Jwt-Assertion): the first
// signs, and all of them are published at /.well-known/pomerium/jwks.json,
// so that a key can be rotated by listing the new one first while tokens
// signed with the old one still verify. Immutable; share it as
// std::shared_ptr<const SigningKey> in the configuration snapshot.
class SigningKey {
 public:
  // From `signing_key` / `signing_key_file` as Pomerium reads it: PEM text,
  // or base64 of PEM text (line breaks allowed, surrounding whitespace
  // ignored), with one or more blocks. Each private key block (SEC 1 "EC
  // PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY") becomes a
  // key: EC P-256 signs with ES256, RSA with RS256, its "kid" the hex
  // SHA-256 JWK thumbprint. "EC PARAMETERS" blocks, which `openssl ecparam
  // -genkey` writes before the key, are skipped. Encrypted keys, other
  // curves, Ed25519 (Pomerium does not sign with it either) and any other
  // block are refused, naming the block.
  static Result<SigningKey> fromPem(std::string_view text);

  // The key Pomerium uses when `signing_key` is unset (config/options.go,
  // deriveSigningKey): 40 bytes of HKDF-SHA256 over the raw shared secret
  // with no salt and info "derived-jwt-signing-key", read as a big-endian
  // integer c, give the P-256 private scalar d = c mod (n - 1) + 1 (the
  // procedure of Go 1.19's ecdsa.GenerateKey that Pomerium keeps through
  // filippo.io/keygen's ECDSALegacy). Same secret, same key, same "kid" as
  // Pomerium, so upstreams keep verifying across a switch.
  static Result<SigningKey> deriveFromSharedSecret(std::string_view shared_secret);

  // The key that signs.
  const Jwk& current() const { return keys_.front(); }
  // Every key, the signing one first.
  const std::vector<Jwk>& keys() const { return keys_; }
  // The public keys as a JWK Set document.
  std::string jwksJson() const;

  // A JWT over `claims_json` with the header {"alg","kid","typ":"JWT"}.
  Result<std::string> sign(std::string_view claims_json) const;

 private:
  explicit SigningKey(std::vector<Jwk> keys) : keys_(std::move(keys)) {}

  std::vector<Jwk> keys_;  // never empty
};

}  // namespace gatehouse::crypto

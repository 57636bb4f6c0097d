#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/jwk.h"

namespace gatehouse::crypto {

// A JWK Set (RFC 7517 section 5): the keys an identity provider publishes at
// its jwks_uri, or the keys Gatehouse publishes at
// /.well-known/pomerium/jwks.json. Immutable once built.
class Jwks {
 public:
  static constexpr size_t kMaxBytes = size_t{256} * 1024;
  static constexpr size_t kMaxKeys = 100;

  // Parses {"keys": [...]}. The document must be strict JSON (no duplicate
  // member names) within the size limits; a key Gatehouse cannot use (an
  // encryption key, another curve, a malformed member) is left out and
  // listed in skipped(), so that one odd key does not take the others down.
  static Result<Jwks> parse(std::string_view json);

  Jwks() = default;
  explicit Jwks(std::vector<Jwk> keys) : keys_(std::move(keys)) {}

  const std::vector<Jwk>& keys() const { return keys_; }
  // Why each left-out key of a parsed document was left out.
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The keys that may check a signature made with `algorithm` by the key
  // named `key_id`: with an empty `key_id`, every key that allows the
  // algorithm; when no key has that id, the keys that have none (some
  // issuers publish keys without "kid" and name them in tokens anyway).
  // Only a key that allows the algorithm is ever returned.
  std::vector<const Jwk*> find(std::string_view key_id, JwsAlgorithm algorithm) const;

  // {"keys":[...]} with the public part of every key, in order.
  std::string toJson() const;

 private:
  std::vector<Jwk> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace gatehouse::crypto

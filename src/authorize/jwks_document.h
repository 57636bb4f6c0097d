#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/signing_key.h"

namespace gatehouse::authorize {

// The body and validators of /.well-known/pomerium/jwks.json: every signing
// key's public JWK, the signing one first, so that upstreams keep verifying
// tokens from a key being rotated out. Built once per configuration.
struct JwksDocument {
  std::string body;  // {"keys":[...]}
  // `"<hex>"` (quotes included) of the 64-bit FNV-1 hash of the body, as
  // Pomerium's internal/handlers/jwks.go writes it (Go's fnv.New64, which is
  // FNV-1, not FNV-1a; %x, so no leading zeros).
  std::string etag;
  // Pomerium's other response headers for it.
  static constexpr std::string_view kContentType = "application/json";
  static constexpr std::string_view kCacheControl = "max-age=60";

  static JwksDocument build(const crypto::SigningKey& keys);
};

// FNV-1 64-bit hash (offset basis 14695981039346656037, prime 1099511628211;
// multiply, then xor).
uint64_t fnv1Hash64(std::string_view data);

}  // namespace gatehouse::authorize

#pragma once

#include <string>
#include <string_view>

namespace gatehouse::crypto {

// The hash under an HMAC.
enum class HmacHash {
  kSha256,
  // SHA-512/256 (FIPS 180-4: SHA-512 with its own initial values, truncated
  // to 256 bits). Pomerium signs redirect URLs with HMAC over it.
  kSha512_256,
};

// HMAC of `data` under `key`: 32 raw bytes for both hashes. Any key length
// is allowed (RFC 2104); secrets from the configuration are 32 bytes.
// OpenSSL failing to compute an HMAC means the process has no working
// crypto at all, so that aborts rather than returning an error.
std::string hmac(HmacHash hash, std::string_view key, std::string_view data);

// Whether `mac` is the HMAC of `data` under `key`, compared in constant time.
bool verifyHmac(HmacHash hash, std::string_view key, std::string_view data, std::string_view mac);

// Byte equality in time that depends only on the lengths, never on where
// the first difference is (CRYPTO_memcmp). Use it for every comparison of a
// secret or of a MAC with an expected value; lengths are not secret.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gatehouse::crypto

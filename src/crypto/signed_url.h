#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto {

// Pomerium's HMAC-signed redirect URLs (`internal/urlutil/signed.go`), which
// authorize, authenticate and the proxy hand each other through the browser.
//
// sign() sets the query parameters `pomerium_issued` (Unix seconds),
// `pomerium_expiry` (issued + 5 minutes) and `pomerium_signature`:
// base64url, with padding, of HMAC-SHA-512/256 under the key over
//   U || issued || " " || expiry
// where U is the URL without `pomerium_signature`, its query re-encoded the
// way Go's url.Values.Encode does (keys sorted, values form-escaped). The
// space is not a typo: Go's fmt.Append puts one between two operands that
// are not strings, and Pomerium signs fmt.Append(nil, url, issued, expiry).
//
// The part of the URL before the query (scheme, authority, path) is signed
// as given, apart from a lower-cased scheme. URLs that Pomerium built are
// already in Go's form, and Gatehouse builds its own the same way.
//
// Thread-safe: immutable after construction.
class SignedUrl {
 public:
  static constexpr std::chrono::seconds kLifetime{5 * 60};
  // How far `now` may be past the expiry, or before the issue time, and the
  // URL still be accepted (Pomerium's DefaultLeeway).
  static constexpr std::chrono::seconds kLeeway{5 * 60};

  // `key` is the raw shared secret (the decoded 32 bytes of shared_secret).
  explicit SignedUrl(std::string key);
  SignedUrl(const SignedUrl& other) = default;
  SignedUrl& operator=(const SignedUrl& other) = default;
  ~SignedUrl();

  // `url` with the three parameters set (replacing any it had), its query in
  // Go's canonical order.
  std::string sign(std::string_view url, std::chrono::system_clock::time_point now) const;

  // Succeeds when the signature matches and `now` is within the issue and
  // expiry times, each widened by kLeeway. A missing or malformed time or
  // signature is kInvalidArgument; a wrong signature or a time out of range
  // is kUnauthenticated.
  Result<void> verify(std::string_view url, std::chrono::system_clock::time_point now) const;

 private:
  std::string key_;
};

}  // namespace gatehouse::crypto

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/jwk.h"
#include "crypto/jwks.h"

namespace gatehouse::crypto {

// Bounds on untrusted JOSE input, checked before any work that grows with it.
struct JwsLimits {
  size_t max_token_bytes = size_t{64} * 1024;  // ID tokens with many groups get large
  size_t max_header_bytes = size_t{4} * 1024;  // decoded JOSE header
  int max_json_depth = 32;                     // nesting in the header and the claims
};

// The protected header of a JWS, after strict checks (see Jws::parse).
struct JoseHeader {
  JwsAlgorithm algorithm = JwsAlgorithm::kHs256;
  std::string key_id;        // "kid", empty when absent
  std::string type;          // "typ", empty when absent
  std::string content_type;  // "cty", empty when absent
};

struct JwsSignOptions {
  // Defaults to the key's algorithm (Jwk::defaultAlgorithm).
  std::optional<JwsAlgorithm> algorithm;
  // "typ"; omitted when empty.
  std::string type = "JWT";
  // Whether the header names the key ("kid") when the key has an id.
  bool include_key_id = true;
};

// A JWS in compact serialization (RFC 7515 section 7.1), parsed but not yet
// verified. Read header() to choose a key, verify(), and only then trust
// payload().
class Jws {
 public:
  // Splits and decodes `compact`, and checks the header strictly: a JSON
  // object with no duplicate member names; "alg" one of JwsAlgorithm ("none"
  // and anything unknown refused); no "crit" (Gatehouse understands no
  // extensions, so RFC 7515 requires refusing any that is critical); no
  // "b64", no "enc" or "zip" (not a JWS); "kid", "typ" and "cty" strings.
  // Members that name keys ("jku", "jwk", "x5u", "x5c") are ignored: keys
  // come from configuration or the issuer's JWKS, never from the token.
  // Malformed input is kInvalidArgument.
  static Result<Jws> parse(std::string_view compact, const JwsLimits& limits = {});

  // Signs `payload` with a private key or an HS256 secret and returns the
  // compact serialization. The header is {"alg","kid","typ"} in that order,
  // as go-jose writes it.
  static Result<std::string> sign(const Jwk& key, std::string_view payload,
                                  const JwsSignOptions& options = {});

  const JoseHeader& header() const { return header_; }
  // The decoded payload: not to be trusted before verify() succeeds.
  const std::string& payload() const { return payload_; }

  // Checks the signature with `key`. The header's algorithm must be one the
  // key allows (Jwk::allows): an HS256 token never verifies with a public
  // key, and an RS256 token never with an EC key. kUnauthenticated when the
  // signature or the algorithm is wrong.
  Result<void> verify(const Jwk& key) const;
  // Checks the signature with the key of `keys` that the header names, or,
  // without a "kid", with any key that allows the algorithm. kNotFound when
  // no key fits (a caller may refetch the issuer's JWKS once, rate-limited);
  // kUnauthenticated when keys fit but the signature is wrong.
  Result<void> verify(const Jwks& keys) const;

 private:
  JoseHeader header_;
  std::string signing_input_;  // base64url(header) "." base64url(payload)
  std::string payload_;
  std::string signature_;
};

}  // namespace gatehouse::crypto

#pragma once

#include <openssl/types.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto {

// The JWS algorithms Gatehouse signs or verifies with (RFC 7518, RFC 8037).
// "none" is deliberately not one of them.
enum class JwsAlgorithm {
  kHs256,  // HMAC-SHA256 with a shared secret (session handles, service tokens)
  kEs256,  // ECDSA P-256 with SHA-256, signature is r || s (64 bytes)
  kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256
  kPs256,  // RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt
  kEdDsa,  // Ed25519
};

std::string_view jwsAlgorithmName(JwsAlgorithm algorithm);
// The algorithm named by a JOSE "alg" value; nullopt for anything else,
// "none" included.
std::optional<JwsAlgorithm> parseJwsAlgorithm(std::string_view name);

// A JSON Web Key (RFC 7517) Gatehouse can use: an EC P-256, RSA (2048 to
// 8192 bits) or OKP Ed25519 key, public or private, or an HS256 shared
// secret ("oct"). Copies share one immutable key, so a Jwk is cheap to copy
// and safe to use from any number of threads at once.
class Jwk {
 public:
  enum class Type { kEc, kRsa, kOkp, kOct };

  // One public key in JWK form, as an identity provider publishes it.
  // Refuses private members ("d", ...), unknown key types and curves, and a
  // declared "alg", "use" or "key_ops" that does not allow verifying with
  // the key.
  static Result<Jwk> parse(std::string_view json);
  // The same for a key that is already parsed JSON (a member of a JWKS).
  static Result<Jwk> fromJson(const nlohmann::json& value);

  // An HS256 key. RFC 7518 section 3.2 asks for at least 256 bits.
  static Result<Jwk> fromSecret(std::string_view secret, std::string key_id = "");

  // The first key in PEM text: a private key (PKCS#8 "PRIVATE KEY", SEC 1
  // "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY") or a public key ("PUBLIC
  // KEY"). Encrypted keys are refused. `key_id` defaults to the hex SHA-256
  // thumbprint, as Pomerium names its keys; `algorithm` defaults to the key
  // type's (ES256, RS256, EdDSA), which the key then declares as its "alg".
  static Result<Jwk> fromPem(std::string_view pem, std::string key_id = "",
                             std::optional<JwsAlgorithm> algorithm = std::nullopt);

  // An OpenSSL key of a supported kind; takes a reference of its own.
  static Result<Jwk> fromOpensslKey(EVP_PKEY* key, std::string key_id = "",
                                    std::optional<JwsAlgorithm> algorithm = std::nullopt);

  Type type() const;
  bool isPrivate() const;
  // "kid": empty when the key has none.
  const std::string& keyId() const;
  // The algorithm the key declares ("alg"), if it declares one.
  std::optional<JwsAlgorithm> declaredAlgorithm() const;
  // Whether a signature with `algorithm` may be checked (or made) with this
  // key: the algorithm must fit the key type (so HS256 never with a public
  // key) and equal the declared "alg" when there is one.
  bool allows(JwsAlgorithm algorithm) const;
  // The algorithm to sign with by default: HS256, ES256, RS256 or EdDSA.
  JwsAlgorithm defaultAlgorithm() const;

  // RFC 7638 thumbprint, SHA-256, 32 raw bytes; and as lower-case hex, which
  // is what Pomerium uses as "kid" (`pkg/cryptutil/jose.go`).
  std::string thumbprint() const;
  std::string thumbprintHex() const;

  // The public key as a JWK, members in the order go-jose writes them
  // ("use":"sig", "kty", "kid", "crv", "alg", then the key), so that a JWKS
  // document is byte-for-byte Pomerium's. Never contains private material;
  // empty for an "oct" key, which has no public part.
  std::string toPublicJson() const;

  // The OpenSSL key, borrowed; null for an "oct" key.
  EVP_PKEY* opensslKey() const;
  // The shared secret of an "oct" key; empty otherwise.
  std::string_view secret() const;

  // The key itself, shared by copies (defined in jwk.cc).
  struct Material;

 private:
  explicit Jwk(std::shared_ptr<const Material> material) : material_(std::move(material)) {}

  std::shared_ptr<const Material> material_;
};

}  // namespace gatehouse::crypto

#pragma once
// The session handle: what the session cookie, `Authorization: Pomerium`
// and programmatic logins carry. It names a session record; it never holds
// tokens. A JWT signed with HS256 and the shared secret, with Pomerium's
// claims (pkg/grpc/session/handle.go) and, like Pomerium's, no "exp": the
// databroker record decides when the session ends.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/aead.h"
#include "crypto/jwk.h"

namespace gatehouse::session {

struct Handle {
  std::string session_id;  // "jti"
  std::string user_id;     // "sub"
  std::string issuer;      // "iss": the authenticate host
  std::vector<std::string> audience;
  int64_t issued_at = 0;  // "iat", Unix seconds
  std::string idp_id;
  // Where the session record stood when the handle was made: a reader
  // whose copy is older reads through once (read-your-writes).
  uint64_t server_version = 0;
  uint64_t record_version = 0;
};

// Signs, verifies, encrypts and decrypts handles with the shared secret.
// Immutable: one instance per configuration, used from every thread.
class HandleCodec {
 public:
  static Result<HandleCodec> create(std::string_view shared_secret);

  // The compact JWT.
  std::string sign(const Handle& handle) const;
  // Verifies the signature and the claims' shapes. A handle signed with
  // another secret, or altered, is kUnauthenticated; garbage is
  // kInvalidArgument. Never throws, never allocates without bound.
  Result<Handle> verify(std::string_view jwt) const;

  // The JWT sealed with XChaCha20-Poly1305 under the shared secret, as
  // base64url: how sign-in hands a handle to a route host's callback
  // through the browser without the browser being able to read or alter it.
  std::string seal(const Handle& handle) const;
  Result<Handle> open(std::string_view sealed) const;

 private:
  HandleCodec(crypto::Jwk key, crypto::Aead aead) : key_(std::move(key)), aead_(std::move(aead)) {}
  crypto::Jwk key_;
  crypto::Aead aead_;
};

}  // namespace gatehouse::session

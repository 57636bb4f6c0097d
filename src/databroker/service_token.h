#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "databroker/record.h"

namespace gatehouse::databroker {

// Pomerium's service-to-service credential: an HS256 JWT signed with the
// shared secret whose only claim is `exp`, sent as the `jwt` gRPC metadata.
// Its short lifetime bounds replay.
std::string mintServiceToken(std::string_view shared_secret, Timestamp now,
                             Duration lifetime = std::chrono::minutes(1));

// Unauthenticated unless `token` is such a JWT, correctly signed and not
// expired (with a minute of leeway for clock skew between hosts). On
// success `exp`, when given, receives the token's expiry (Unix seconds).
Result<void> verifyServiceToken(std::string_view token, std::string_view shared_secret,
                                Timestamp now, double* exp = nullptr);

// The token a client sends with its calls, shared by every thread. A token
// lives a minute and is minted again every half minute, so every call
// carries one with at least half its lifetime left, and the signing is
// paid twice a minute instead of on every call.
class ServiceTokenSource {
 public:
  explicit ServiceTokenSource(std::string shared_secret);
  std::string current();

 private:
  std::string shared_secret_;
  std::mutex mutex_;
  std::string token_;
  Timestamp minted_at_{};
  Timestamp renew_at_{};
};

// verifyServiceToken for a server, remembering the tokens it verified
// lately. A client sends the same token for many calls, so most calls
// compare it with one verified before instead of decoding it, checking its
// HMAC and parsing its JSON again. A token is taken from memory only before
// its `exp`; after that (a client whose clock is behind) it is verified in
// full, with the leeway, on every call.
class ServiceTokenVerifier {
 public:
  explicit ServiceTokenVerifier(std::string shared_secret);
  Result<void> verify(std::string_view token, Timestamp now);

 private:
  // Clients (each with its own token) times tokens overlapping at renewal.
  static constexpr size_t kCapacity = 16;
  struct Entry {
    std::string token;
    double exp = 0;
  };
  void remember(std::string_view token, double exp);

  std::string shared_secret_;
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace gatehouse::databroker

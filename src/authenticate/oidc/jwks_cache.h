#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/fetcher.h"
#include "common/result.h"
#include "crypto/jwks.h"
#include "crypto/jws.h"
#include "net/asio.h"

namespace gatehouse::authenticate::oidc {

// The identity provider's signing keys (its jwks_uri), fetched on first use
// and kept. A token that names a key the cache does not hold makes the
// cache fetch the keys again, at most once per `min_refetch_interval` over
// all threads: an IdP that rotated its keys is followed within seconds,
// while a stream of forged "kid" values costs one request per interval.
// Thread-safe; the lock is never held across a fetch.
class JwksCache {
 public:
  static constexpr std::chrono::seconds kDefaultRefetchInterval{30};

  JwksCache(std::shared_ptr<Fetcher> fetcher, Clock clock,
            std::chrono::steady_clock::duration min_refetch_interval = kDefaultRefetchInterval);

  // Checks the signature of `jws` with the keys published at `jwks_uri`.
  // kUnauthenticated when the signature is wrong or no published key fits
  // (after the refetch, or when one is not allowed yet); the fetch's own
  // error when the keys cannot be loaded.
  Task<Result<void>> verify(const crypto::Jws& jws, const std::string& jwks_uri);

 private:
  Task<Result<std::shared_ptr<const crypto::Jwks>>> fetchKeys(const std::string& jwks_uri);
  std::shared_ptr<const crypto::Jwks> current();
  void store(std::shared_ptr<const crypto::Jwks> keys);

  const std::shared_ptr<Fetcher> fetcher_;
  const Clock clock_;
  const std::chrono::steady_clock::duration min_refetch_interval_;

  std::mutex mutex_;
  std::shared_ptr<const crypto::Jwks> keys_;
  std::optional<std::chrono::steady_clock::time_point> last_refetch_;
};

}  // namespace gatehouse::authenticate::oidc

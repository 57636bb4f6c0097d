#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/discovery_document.h"
#include "authenticate/oidc/fetcher.h"
#include "common/result.h"
#include "net/asio.h"

namespace gatehouse::authenticate::oidc {

// Decides whether the issuer a discovery document names is acceptable for
// the configured one (issuerMatches, or Azure's tenant template).
using IssuerCheck = std::function<bool(std::string_view configured, std::string_view discovered)>;

// The provider's discovery document, fetched on first use and then kept for
// the life of the provider (a configuration reload builds a new provider).
// A failed fetch is remembered: until a backoff (1 s, doubling to 60 s)
// has passed, get() answers with the same error without fetching again.
// Thread-safe; the lock is never held across a fetch, so two threads that
// miss at once may both fetch (harmless, and only until the first result).
class DiscoveryCache {
 public:
  DiscoveryCache(std::string configured_issuer, std::shared_ptr<Fetcher> fetcher, Clock clock,
                 IssuerCheck issuer_check);

  Task<Result<std::shared_ptr<const DiscoveryDocument>>> get();

 private:
  Task<Result<std::shared_ptr<const DiscoveryDocument>>> load();

  const std::string configured_issuer_;
  const std::shared_ptr<Fetcher> fetcher_;
  const Clock clock_;
  const IssuerCheck issuer_check_;

  std::mutex mutex_;
  std::shared_ptr<const DiscoveryDocument> document_;
  std::optional<Error> last_error_;
  std::chrono::steady_clock::time_point retry_after_{};
  std::chrono::steady_clock::duration backoff_{};
};

}  // namespace gatehouse::authenticate::oidc

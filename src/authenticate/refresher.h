#pragma once
// Keeps signed-in users' IdP tokens fresh, as Pomerium's identity manager
// does: a minute before an access token or ID token expires, the refresh
// token is used, the session's tokens and claims are updated and the user's
// claims with them. A permanent refusal (the IdP revoked the grant) ends the
// session; a temporary failure is retried with backoff. Sessions past their
// expiry are deleted.
//
// Only one process refreshes at a time: it holds the databroker lease
// "identity_manager" (30 s, renewed every 10 s); the others wait for it.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "authenticate/service.h"
#include "databroker/client.h"
#include "session/cache.h"

namespace gatehouse::authenticate {

class Refresher {
 public:
  struct Options {
    // How often due sessions are looked for.
    std::chrono::milliseconds interval{std::chrono::seconds(5)};
    // Refresh this long before a token expires.
    std::chrono::seconds ahead{60};
    // Never refresh one session more often than this.
    std::chrono::seconds min_gap{10};
    std::chrono::seconds lease_ttl{30};
  };

  // `authenticator` gives the current configuration's sign-in (its
  // providers); it may return null (no IdP configured).
  Refresher(databroker::Client& databroker, session::Cache& sessions,
            std::function<std::shared_ptr<const Authenticator>()> authenticator, Options options);
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // When `session` should be refreshed next (Time::max() = never).
  static session::Time nextRefresh(const session::Session& session, const Options& options);
  static session::Time nextRefresh(const session::Schedule& schedule, const Options& options);

  // Outcomes of refresh attempts, for metrics: written by the refresher's
  // thread, read from any thread. Timestamps are Unix seconds (0 = never).
  struct Stats {
    std::atomic<uint64_t> successes{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<int64_t> last_success_unix{0};
    std::atomic<int64_t> last_error_unix{0};
  };
  const Stats& stats() const { return stats_; }

 private:
  Task<void> run();
  Task<bool> holdLease();
  Task<void> refreshDue();
  Task<void> refreshOne(const session::Loaded& loaded, std::shared_ptr<oidc::Provider> provider);
  Task<void> remove(const std::string& session_id, const char* why);
  void countRefresh(bool success);

  databroker::Client& databroker_;
  session::Cache& sessions_;
  std::function<std::shared_ptr<const Authenticator>()> authenticator_;
  Options options_;
  std::string lease_id_;
  std::chrono::steady_clock::time_point lease_renewed_{};
  // Sessions whose last attempt failed temporarily: not before this time.
  std::map<std::string, std::chrono::steady_clock::time_point> retry_after_;
  std::map<std::string, int> failures_;
  Stats stats_;
  asio::io_context io_{1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gatehouse::authenticate

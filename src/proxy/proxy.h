#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "authorize/client.h"
#include "http/handler.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"

namespace gatehouse::metrics {
class RequestMetrics;
}

namespace gatehouse::proxy {

// Gives a worker the current snapshot. Implemented by the server; cheap
// enough to call once per request.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual std::shared_ptr<const Snapshot> current() = 0;
};

// The data plane: one instance per worker, serving every request of that
// worker's connections. handle() is the life of a request, top to bottom.
class Proxy final : public http::Handler {
 public:
  // `authorizer` decides every request that needs a decision (in process
  // or over gRPC; the proxy does not know which); `metrics` is this
  // worker's counters (null: none).
  Proxy(SnapshotSource& snapshots, uint64_t seed, authorize::Client& authorizer,
        metrics::RequestMetrics* metrics = nullptr);
  ~Proxy() override;

  Task<void> handle(http::ServerExchange& exchange) override;
  Task<void> handleMalformed(http::ServerExchange& exchange, int status,
                             std::string_view reason) override;

  UpstreamPool& pool() { return pool_; }

 private:
  struct Request;
  enum class Outcome {
    kContinue,  // the request goes on to the next phase
    kDone,      // a response was sent (or the connection is gone)
  };

  Task<Outcome> admit(Request& r);
  Task<Outcome> authorize(Request& r);
  // Sign-in (sign_in.cc).
  Task<void> serveAuthenticate(Request& r);
  Task<Outcome> serveInternal(Request& r);
  Task<void> serveCallback(Request& r);
  Task<void> serveSignOut(Request& r);
  Task<void> serveProgrammaticLogin(Request& r);
  Task<Outcome> ask(Request& r, bool internal);
  Task<void> sendDenied(Request& r, int status, std::string_view message, bool grpc);
  Task<Result<std::string>> readSmallBody(Request& r, size_t limit);
  Task<void> forward(Request& r);
  Task<void> spliceUpgrade(Request& r, http::UpstreamExchange& upstream);
  Task<void> sendLocal(Request& r, int status, std::string_view details);
  Task<void> sendSimple(Request& r, http::ResponseHead head, std::string_view body);
  void addResponseHeaders(Request& r, http::Headers& headers) const;
  void prepareUpstreamHeaders(Request& r, http::RequestHead& out, const config::UpstreamUrl& to);
  const config::UpstreamUrl* pickUpstream(Request& r, const config::UpstreamUrl* avoid);
  void logAccess(const Request& r) const;
  std::string newRequestId();

  SnapshotSource& snapshots_;
  authorize::Client& authorizer_;
  metrics::RequestMetrics* metrics_;
  UpstreamPool pool_;
  std::mt19937_64 random_;
  // Endpoints that refused a connection, skipped until the time given.
  std::unordered_map<std::string, net::Clock::time_point> dead_until_;
};

// Answers every request on the `http_redirect_addr` listener with a
// redirect to the same URL over https.
class HttpsRedirector final : public http::Handler {
 public:
  explicit HttpsRedirector(SnapshotSource& snapshots) : snapshots_(snapshots) {}
  // The port the HTTPS listener is bound to (set before the worker runs):
  // with port 0 or a service name in `address` only the socket knows it.
  void setHttpsPort(uint16_t port) { https_port_ = port; }
  Task<void> handle(http::ServerExchange& exchange) override;
  Task<void> handleMalformed(http::ServerExchange& exchange, int status,
                             std::string_view reason) override;

 private:
  SnapshotSource& snapshots_;
  uint16_t https_port_ = 0;
};

}  // namespace gatehouse::proxy

#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "authorize/client.h"
#include "http/handler.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_pool.h"

namespace gatehouse::metrics {
class RequestMetrics;
}

namespace gatehouse::proxy {

class ProxyRequestHeaders;

// A request's id: 36 characters shaped like a UUID, held in place.
struct RequestId {
  std::array<char, 36> text{};
  operator std::string_view() const { return {text.data(), text.size()}; }
};

// The UUID-shaped id (version 4, as 8-4-4-4-12 lower-case hex digits) of
// 128 random bits: `high` gives the first sixteen digits, `low` the rest,
// the version digit in place of the thirteenth.
RequestId requestIdFrom(uint64_t high, uint64_t low);

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

  // What admission found: the request goes on to routing, or is answered
  // by admit().
  enum class Admission {
    kRoute,
    kBadHost,          // 400
    kMisdirected,      // 421
    kBadPath,          // 400
    kPathRedirect,     // 307 to the normalised path
    kPing,             // /ping, /healthz
    kDiscovery,        // /.well-known/pomerium
    kJwks,             // /.well-known/pomerium/jwks.json
    kAuthenticate,     // the authenticate service's own paths
    kRoutesNotServed,  // 404: this process serves authenticate only
    kInternal,         // /.pomerium/...
    kUnknownWellKnown  // 404
  };
  Admission classify(Request& r);
  Task<Outcome> admit(Request& r, Admission admission);
  Task<Outcome> authorize(Request& r);
  // Sign-in (sign_in.cc).
  Task<void> serveAuthenticate(Request& r);
  Task<Outcome> serveInternal(Request& r);
  Task<void> serveCallback(Request& r);
  Task<void> serveSignOut(Request& r);
  Task<void> serveProgrammaticLogin(Request& r);
  void describe(Request& r, bool internal, ProxyRequestHeaders& headers, std::string& scheme_text,
                authorize::CheckRequest& check) const;
  void recordDecision(const authorize::CheckResponse& answer, net::Clock::time_point started) const;
  std::optional<authorize::CheckResponse> askNow(Request& r);
  Task<Outcome> ask(Request& r, bool internal);
  Task<Outcome> act(Request& r, authorize::CheckResponse answer, bool internal);
  Task<void> sendDenied(Request& r, int status, std::string_view message, bool grpc);
  Task<Result<std::string>> readSmallBody(Request& r, size_t limit);
  Task<void> forward(Request& r);
  Task<void> sendConfiguredAnswer(Request& r);
  Task<std::optional<Result<void>>> sendRequestBody(Request& r, http::UpstreamExchange& upstream);
  Task<void> relayResponse(Request& r, http::UpstreamExchange& upstream, http::ResponseHead& head,
                           bool websocket);
  Task<void> spliceUpgrade(Request& r, http::UpstreamExchange& upstream);
  Task<void> sendLocal(Request& r, int status, std::string_view details);
  Task<void> sendSimple(Request& r, http::ResponseHead head, std::string_view body);
  void addResponseHeaders(Request& r, http::Headers& headers) const;
  void prepareUpstreamHeaders(Request& r, http::RequestHead& out, const config::UpstreamUrl& to);
  const config::UpstreamUrl* pickUpstream(Request& r, const config::UpstreamUrl* avoid);
  void logAccess(const Request& r) const;
  RequestId newRequestId();

  SnapshotSource& snapshots_;
  authorize::Client& authorizer_;
  metrics::RequestMetrics* metrics_;
  UpstreamPool pool_;
  // Request ids and the pick among weighted upstreams: SplitMix64, eight
  // bytes of state (std::mt19937_64 keeps 2.5 KB, a cold cache line or two
  // per request when many connections take turns).
  struct Random {
    uint64_t state;
    uint64_t operator()() {
      uint64_t z = (state += 0x9e3779b97f4a7c15);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      return z ^ (z >> 31);
    }
  };
  Random random_;
  // Endpoints that refused a connection, skipped until the time given.
  std::unordered_map<std::string, net::Clock::time_point> dead_until_;
  // Upstream request heads of finished requests, kept with the storage of
  // their fields for the next requests.
  std::vector<std::unique_ptr<http::RequestHead>> spare_heads_;
  // Identity header lists of finished requests, kept with the storage of
  // their strings: a request takes one for its decision to fill.
  std::vector<authorize::HeaderList> spare_identity_headers_;
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

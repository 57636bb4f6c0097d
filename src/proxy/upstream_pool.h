#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "http/http1_upstream.h"
#include "http/http2_client.h"
#include "http/upstream.h"
#include "net/tls.h"

namespace gatehouse::proxy {

// Where one forwarded request goes.
struct UpstreamTarget {
  std::string_view scheme;  // http, https, h2c
  std::string_view host;
  uint16_t port = 0;
  std::shared_ptr<const net::ClientTlsContext> tls;  // for https
  std::string_view server_name;                      // SNI and name to verify
};

// A worker's connections to upstreams: idle HTTP/1.1 keep-alive
// connections per target, and one shared HTTP/2 connection per target.
// Per worker, so nothing here is locked. The TLS context is part of the
// key, so connections made under an older config are never handed to a
// request of a newer one.
class UpstreamPool {
 public:
  UpstreamPool() = default;
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;
  ~UpstreamPool();

  // An exchange on a connection already open to `target`: its HTTP/2
  // connection, or an idle HTTP/1.1 one that is still usable (unless
  // `fresh`). Null when there is none. Never waits.
  std::unique_ptr<http::UpstreamExchange> reuse(const UpstreamTarget& target, bool fresh);
  // An exchange on a new connection. Connect failures are
  // kUnavailable/kTimeout errors with ErrorSource::kUpstream.
  Task<Result<std::unique_ptr<http::UpstreamExchange>>> connect(
      const UpstreamTarget& target, net::Clock::duration connect_timeout);

  size_t idleCount() const;

 private:
  // One target's idle connections, and where its exchanges return their
  // connection. An exchange may outlive the pool at shutdown: a closed
  // list then drops what comes back.
  struct Idle final : http::ConnectionHome {
    void takeBack(std::unique_ptr<http::Http1UpstreamConnection> connection) override;
    std::vector<std::unique_ptr<http::Http1UpstreamConnection>> connections;
    bool closed = false;
  };
  // The target's key, written into key_ (no allocation per request); valid
  // until the next call.
  const std::string& keyFor(const UpstreamTarget& target);
  const std::shared_ptr<Idle>& idleFor(const std::string& key);
  // The target's idle list, or null when it has none yet. Consecutive
  // requests nearly always go to the target of the one before: that one is
  // recognised by its parts, without a key or a hash.
  const std::shared_ptr<Idle>* findIdle(const UpstreamTarget& target);

  std::string key_;
  struct LastTarget {
    std::string scheme;
    std::string host;
    std::string server_name;
    uint16_t port = 0;
    const void* tls = nullptr;
    // Into idle_, whose entries are never erased (and whose values do not
    // move when it grows).
    const std::shared_ptr<Idle>* idle = nullptr;
  };
  LastTarget last_;
  std::unordered_map<std::string, std::shared_ptr<Idle>> idle_;
  std::unordered_map<std::string, std::shared_ptr<http::Http2ClientConnection>> http2_;
};

}  // namespace gatehouse::proxy

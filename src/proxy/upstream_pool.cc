#include "proxy/upstream_pool.h"

#include <charconv>

#include "net/stream_factory.h"

namespace gatehouse::proxy {
namespace {

constexpr size_t kMaxIdlePerTarget = 1024;
constexpr auto kMaxIdleTime = std::chrono::seconds(60);
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);

}  // namespace

UpstreamPool::~UpstreamPool() {
  for (auto& [key, idle] : idle_) {
    idle->closed = true;
    idle->connections.clear();
  }
  for (auto& [key, conn] : http2_) conn->close();
}

void UpstreamPool::Idle::takeBack(std::unique_ptr<http::Http1UpstreamConnection> connection) {
  if (closed || connections.size() >= kMaxIdlePerTarget) return;
  connections.push_back(std::move(connection));
}

const std::string& UpstreamPool::keyFor(const UpstreamTarget& target) {
  std::string& key = key_;
  key.clear();
  key += target.scheme;
  key += '|';
  key += target.host;
  key += '|';
  char number[24];
  key.append(number, std::to_chars(number, number + sizeof(number), target.port).ptr);
  key += '|';
  key.append(number, std::to_chars(number, number + sizeof(number),
                                   reinterpret_cast<uintptr_t>(target.tls.get()))
                         .ptr);
  key += '|';
  key += target.server_name;
  return key;
}

const std::shared_ptr<UpstreamPool::Idle>& UpstreamPool::idleFor(const std::string& key) {
  auto& idle = idle_[key];
  if (!idle) idle = std::make_shared<Idle>();
  return idle;
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [key, idle] : idle_) n += idle->connections.size();
  return n;
}

const std::shared_ptr<UpstreamPool::Idle>* UpstreamPool::findIdle(const UpstreamTarget& target) {
  if (last_.idle && last_.port == target.port && last_.tls == target.tls.get() &&
      last_.host == target.host && last_.scheme == target.scheme &&
      last_.server_name == target.server_name) {
    return last_.idle;
  }
  auto it = idle_.find(keyFor(target));
  if (it == idle_.end()) return nullptr;
  last_.scheme.assign(target.scheme);
  last_.host.assign(target.host);
  last_.server_name.assign(target.server_name);
  last_.port = target.port;
  last_.tls = target.tls.get();
  last_.idle = &it->second;
  return last_.idle;
}

std::unique_ptr<http::UpstreamExchange> UpstreamPool::reuse(const UpstreamTarget& target,
                                                            bool fresh) {
  // Most upstreams speak HTTP/1: no lookup (and hash) for HTTP/2 then.
  if (!http2_.empty()) {
    if (auto it = http2_.find(keyFor(target)); it != http2_.end()) {
      if (it->second->isAlive() && it->second->canOpenStream()) return it->second->newExchange();
      if (!it->second->isAlive()) http2_.erase(it);
    }
  }

  if (!fresh) {
    if (const std::shared_ptr<Idle>* home = findIdle(target)) {
      auto& idle = (*home)->connections;
      auto now = net::Clock::now();
      // Most recently used first: it is the least likely to have been
      // closed by the upstream's own idle timeout.
      while (!idle.empty()) {
        auto connection = std::move(idle.back());
        idle.pop_back();
        if (now - connection->idle_since > kMaxIdleTime) continue;
        // Every reuse is checked (one non-blocking peek): bytes an upstream
        // sent after its complete response, an injected second response
        // above all, must never be read as the answer to another client's
        // request; and a closed connection is dropped before a request
        // with a body is sent into it.
        if (connection->stream->peerClosedOrDirty()) continue;
        return http::makeHttp1UpstreamExchange(std::move(connection), *home);
      }
    }
  }
  return nullptr;
}

Task<Result<std::unique_ptr<http::UpstreamExchange>>> UpstreamPool::connect(
    const UpstreamTarget& target, net::Clock::duration connect_timeout) {
  // key_ is shared by every request of this worker, and connecting waits.
  std::string key = keyFor(target);

  auto socket = co_await net::connectTcp(std::string(target.host), target.port, connect_timeout);
  if (!socket) co_return socket.error();
  std::unique_ptr<net::Stream> stream;
  if (target.scheme == "https") {
    if (!target.tls) co_return Error::internal("https upstream without a TLS context");
    auto tls = co_await net::connectTls(std::move(*socket), target.tls,
                                        std::string(target.server_name), kTlsHandshakeTimeout);
    if (!tls) co_return tls.error();
    stream = std::move(*tls);
  } else {
    stream = net::makeTcpStream(std::move(*socket));
  }

  if (target.scheme == "h2c" || stream->alpn() == "h2") {
    auto connection = co_await http::Http2ClientConnection::start(std::move(stream));
    if (!connection) co_return connection.error();
    http2_[key] = *connection;
    co_return (*connection)->newExchange();
  }
  auto connection = std::make_unique<http::Http1UpstreamConnection>(std::move(stream));
  co_return http::makeHttp1UpstreamExchange(std::move(connection), idleFor(key));
}

}  // namespace gatehouse::proxy

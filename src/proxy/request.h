#pragma once
// The state of one request inside the proxy (private to src/proxy).

#include <chrono>
#include <memory>
#include <string>

#include "authorize/client.h"
#include "http/exchange.h"
#include "metrics/request_metrics.h"
#include "policy/input.h"
#include "proxy/proxy.h"

namespace gatehouse::proxy {

// The client's request headers as the decision reads them.
class ProxyRequestHeaders final : public authorize::RequestHeaders {
 public:
  explicit ProxyRequestHeaders(const http::Headers& headers) : headers_(headers) {}
  std::optional<std::string_view> get(std::string_view name) const override {
    return headers_.get(name);
  }
  void forEach(const std::function<void(std::string_view, std::string_view)>& f) const override {
    for (const auto& field : headers_.fields()) f(field.name, field.value);
  }

 private:
  const http::Headers& headers_;
};

// The state of one request, from accept to the access log line.
struct Proxy::Request {
  Request(http::ServerExchange& e, std::shared_ptr<const Snapshot> s)
      : exchange(e), snapshot(std::move(s)), start(net::Clock::now()) {}
  // `host` may point into host_storage.
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  http::ServerExchange& exchange;
  std::shared_ptr<const Snapshot> snapshot;
  net::Clock::time_point start;
  RequestId id;
  std::string_view host;     // lower-case, without port: in the request's authority,
  std::string host_storage;  // or here when it had to be lowered
  std::string path;          // normalised; what routing, policy and the upstream see
  std::string query;         // raw, without '?'
  const CompiledRoute* route = nullptr;
  std::string client_ip;
  int status = 0;
  uint64_t bytes_sent = 0;
  const config::UpstreamUrl* upstream = nullptr;  // the endpoint last tried (logs name it)
  std::string details;  // why Gatehouse answered itself, for logs and error pages
  metrics::UpstreamFailure upstream_failure = metrics::UpstreamFailure::kNone;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // What the decision adds to the upstream request: the identity JWT, claim
  // headers and the rendered set_request_headers.
  authorize::HeaderList identity_headers;
  // Set-Cookie and other headers a local answer carries along.
  http::Headers extra_headers;
  // The request as it goes to the upstream (rebuilt for each attempt); one
  // of the worker's spare heads, returned when the request ends.
  std::unique_ptr<http::RequestHead> upstream_request;
  // Whether the storage that head holds (measured when it was filled, while
  // its fields are in the cache) is small enough to keep it as a spare.
  bool upstream_request_reusable = false;

  const http::RequestHead& head() const { return exchange.request(); }
  const config::Route* routeConfig() const { return route ? route->config : nullptr; }
};

}  // namespace gatehouse::proxy

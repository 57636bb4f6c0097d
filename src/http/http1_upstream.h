#pragma once

#include <functional>
#include <memory>

#include "http/http1_reader.h"
#include "http/upstream.h"

namespace gatehouse::http {

// One keep-alive HTTP/1.1 connection to an upstream.
struct Http1UpstreamConnection {
  explicit Http1UpstreamConnection(std::unique_ptr<net::Stream> s)
      : stream(std::move(s)), reader(*stream, 8 * 1024) {}
  std::unique_ptr<net::Stream> stream;
  Http1Reader reader;
  net::Clock::time_point idle_since{};
  uint32_t requests = 0;
};

// Called with the connection when an exchange completed cleanly and the
// connection can carry another request; otherwise the connection is
// closed and dropped.
using ReturnToPool = std::function<void(std::unique_ptr<Http1UpstreamConnection>)>;

std::unique_ptr<UpstreamExchange> makeHttp1UpstreamExchange(
    std::unique_ptr<Http1UpstreamConnection> connection, ReturnToPool return_to_pool);

}  // namespace gatehouse::http

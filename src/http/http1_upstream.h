#pragma once

#include <memory>
#include <string>

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
  // The request head being written, kept for its capacity.
  std::string write_buffer;
  // The last response head, given back for its storage.
  ResponseHead spare_response;
};

// Where a connection goes when an exchange completed cleanly and the
// connection can carry another request (a pool's idle list); otherwise
// the connection is closed and dropped. Called on the exchange's thread.
class ConnectionHome {
 public:
  virtual ~ConnectionHome() = default;
  virtual void takeBack(std::unique_ptr<Http1UpstreamConnection> connection) = 0;
};
using ReturnToPool = std::shared_ptr<ConnectionHome>;

std::unique_ptr<UpstreamExchange> makeHttp1UpstreamExchange(
    std::unique_ptr<Http1UpstreamConnection> connection, ReturnToPool return_to_pool);

}  // namespace gatehouse::http

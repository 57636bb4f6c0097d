#pragma once

#include <memory>

#include "common/result.h"
#include "http/upstream.h"
#include "net/stream.h"

namespace gatehouse::http {

// One multiplexed HTTP/2 connection to an upstream (h2c prior knowledge,
// or TLS with ALPN h2), shared by the requests of one worker. Its reader
// and writer loops run on the worker that started it.
class Http2ClientConnection {
 public:
  virtual ~Http2ClientConnection() = default;

  // Sends the connection preface and SETTINGS on `stream` and starts the
  // loops on the calling coroutine's executor.
  static Task<Result<std::shared_ptr<Http2ClientConnection>>> start(
      std::unique_ptr<net::Stream> stream);

  // False once the connection failed, received GOAWAY or was closed; a
  // pool drops it then. Also false while every stream slot the peer
  // allows (SETTINGS_MAX_CONCURRENT_STREAMS) is taken.
  virtual bool canOpenStream() const = 0;
  virtual bool isAlive() const = 0;
  // A new request on this connection; the HTTP/2 stream opens at sendHead.
  virtual std::unique_ptr<UpstreamExchange> newExchange() = 0;
  virtual void close() = 0;
};

}  // namespace gatehouse::http

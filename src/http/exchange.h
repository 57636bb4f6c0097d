#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"
#include "net/stream.h"

namespace gatehouse::http {

// What a handler knows about the connection a request arrived on.
struct ConnectionInfo {
  tcp::endpoint remote;
  std::string remote_ip;  // remote.address() as text, formatted once per connection
  tcp::endpoint local;
  bool tls = false;
  std::string_view server_name;  // SNI
  std::string_view alpn;
  // The client certificate facts when the listener asks for one
  // (downstream mTLS); null otherwise. Owned by the connection's stream.
  const net::ClientCertificate* client_certificate = nullptr;
};

// The downstream half of one request/response, implemented by the HTTP/1
// and HTTP/2 servers. A handler reads the request body (optionally), then
// sends exactly one response: sendHead, zero or more sendBody, finish.
// All calls run on the connection's worker; none may overlap.
class ServerExchange {
 public:
  virtual ~ServerExchange() = default;

  virtual RequestHead& request() = 0;
  virtual const ConnectionInfo& connection() const = 0;

  // The next piece of the request body, valid until the next call; empty
  // at the end. Framing errors and timeouts are errors (source downstream).
  virtual Task<Result<std::string_view>> readBody() = 0;
  // Answers "Expect: 100-continue" once the request is accepted; a no-op
  // if the client did not ask or it was already sent.
  virtual Task<Result<void>> sendContinue() = 0;
  // `body_length`: the exact body size when known (Content-Length), else
  // nullopt and the body is streamed (chunked on HTTP/1.1). `no_body` for
  // HEAD, 204 and 304 responses: nothing may follow but finish(). Queues
  // the head without waiting: it goes out with the first sendBody or
  // finish (a 101's too, before takeOverStream).
  virtual Result<void> sendHead(const ResponseHead& head, std::optional<uint64_t> body_length,
                                bool no_body) = 0;
  virtual Task<Result<void>> sendBody(std::string_view data) = 0;
  // Ends the response, with trailers where the protocol carries them.
  virtual Task<Result<void>> finish(const Headers* trailers = nullptr) = 0;
  // sendBody then finish, in one write where the protocol allows: for the
  // last piece of a body whose end is known.
  virtual Task<Result<void>> sendLast(std::string_view data, const Headers* trailers = nullptr) = 0;
  // sendLast without a coroutine, when all of it goes out at once: its
  // result, or nullopt when sendLast must be awaited, with the same
  // arguments (it sends what is left).
  virtual std::optional<Result<void>> sendLastNow(std::string_view data,
                                                  const Headers* trailers = nullptr) {
    (void)data;
    (void)trailers;
    return std::nullopt;
  }
  // True once sendHead succeeded: a later failure can only reset/close.
  virtual bool responseStarted() const = 0;

  // For an accepted upgrade (101 sent with sendHead and finish): the raw
  // downstream stream, and the bytes read past the request head. Null when
  // the protocol cannot upgrade (HTTP/2). The connection is closed after.
  virtual net::Stream* takeOverStream(std::string& buffered) = 0;
};

// A helper for handlers: a complete response from a string.
Task<Result<void>> respond(ServerExchange& exchange, ResponseHead head, std::string_view body);

}  // namespace gatehouse::http

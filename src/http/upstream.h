#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"
#include "net/stream.h"

namespace gatehouse::http {

// The upstream half of one forwarded request, implemented for HTTP/1.1
// (a pooled connection used by one request at a time) and HTTP/2 (one
// stream of a shared connection). Call order: sendHead, sendBody*,
// finishRequest, readResponse, readBody* until empty. Errors carry
// ErrorSource::kUpstream. Runs on the worker that opened it.
class UpstreamExchange {
 public:
  virtual ~UpstreamExchange() = default;

  // `response_timeout`: from the end of the request to the end of the
  // response (Envoy's route timeout), 0 = none. `idle_timeout`: the
  // longest wait for any single read or write, 0 = none.
  virtual void setTimeouts(net::Clock::duration response_timeout,
                           net::Clock::duration idle_timeout) = 0;

  // `head.target` is the origin-form path to send, `head.authority` the
  // Host. `body_length`: exact size, or nullopt for a streamed body (only
  // meaningful when `head.has_body`). Queues the head without waiting: it
  // goes out with the first sendBody or finishRequest.
  virtual Result<void> sendHead(const RequestHead& head, std::optional<uint64_t> body_length) = 0;
  virtual Task<Result<void>> sendBody(std::string_view data) = 0;
  virtual Task<Result<void>> finishRequest() = 0;
  // finishRequest without a coroutine, when the rest of the request goes
  // out at once: its result, or nullopt when finishRequest must be awaited
  // (it sends what is left).
  virtual std::optional<Result<void>> finishRequestNow() { return std::nullopt; }

  // The final response head (interim 1xx answers are skipped, 101 is not).
  virtual Task<Result<ResponseHead>> readResponse() = 0;
  // The body framing of the response: the exact length when the upstream
  // sent one, else nullopt.
  virtual std::optional<uint64_t> responseLength() const = 0;
  virtual bool responseHasBody() const = 0;
  virtual Task<Result<std::string_view>> readBody() = 0;
  // True once readBody has returned the last of the body, so that the
  // empty read that would say so can be skipped. False when unknown.
  virtual bool bodyDone() const { return false; }
  // Trailers received after the body (HTTP/2, gRPC), or null.
  virtual const Headers* trailers() const { return nullptr; }

  // After a 101 response: the raw upstream stream and the bytes already
  // read past the response head. Null for HTTP/2.
  virtual net::Stream* takeOverStream(std::string& buffered) = 0;

  // True when the request went out on a connection that had served an
  // earlier request: a failure before any response byte may just be the
  // upstream having closed it, and a retry on a new connection is safe
  // for a request whose body was not sent.
  virtual bool reusedConnection() const = 0;
  // True once readResponse returned a head.
  virtual bool responseStarted() const = 0;

  // Gives the head readResponse returned back once it has been used, so
  // that the connection's next response is read into its storage.
  virtual void recycleResponse(ResponseHead&& head) { (void)head; }
};

}  // namespace gatehouse::http

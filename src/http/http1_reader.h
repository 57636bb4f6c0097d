#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/message.h"
#include "net/stream.h"

namespace gatehouse::http {

namespace detail {
class MessageParser;
struct ParserSlots;
}

struct Http1Limits {
  size_t max_head_bytes = 64 * 1024;
  size_t max_headers = 100;
  bool reject_underscore_headers = true;  // else they are dropped (or kept, see allow)
  bool allow_underscore_headers = false;
};

// The largest upstream response head accepted.
inline constexpr size_t kMaxHttp1ResponseHead = 256 * 1024;

// How a message body is delimited on the wire.
struct BodyFraming {
  enum Kind { kNone, kLength, kChunked, kUntilClose } kind = kNone;
  uint64_t length = 0;
};

// Reads HTTP/1.x messages from a stream: heads (strictly validated; the
// plain case split directly, the rest parsed with Beast) and bodies (Content-Length, chunked or until close) as views
// into its own buffer, without copying. Not thread-safe. Used by the
// server (requests) and the upstream client (responses).
class Http1Reader {
 public:
  Http1Reader(net::Stream& stream, size_t buffer_size);
  ~Http1Reader();
  Http1Reader(const Http1Reader&) = delete;
  Http1Reader& operator=(const Http1Reader&) = delete;

  // Reads and parses a request head. Returns false on a clean close before
  // any byte. When the first byte arrives the stream's deadline becomes
  // now + `read_timeout` (the idle timeout covers the wait before it).
  // Errors: kProtocol (400), kTooLarge (431), kTimeout, kClosed.
  Task<Result<bool>> readRequest(RequestHead& out, const Http1Limits& limits,
                                 net::Clock::duration read_timeout);

  // Reads a response head, skipping interim 1xx responses other than 101.
  // `request_method` decides whether a body can follow (HEAD).
  Task<Result<ResponseHead>> readResponse(std::string_view request_method);

  // The two halves of readRequest and readResponse, for a caller that is a
  // coroutine already (one coroutine less per message): readHead waits
  // until a complete head of at most `max_head_bytes` is buffered and
  // returns its length (0 = a clean close before any byte); takeRequest
  // and takeResponse parse it. takeResponse gives nullopt for an interim
  // 1xx response, which is skipped: read the next head.
  Task<Result<size_t>> readHead(size_t max_head_bytes, net::Clock::duration read_timeout);
  Result<bool> takeRequest(size_t length, RequestHead& out, const Http1Limits& limits);
  // `storage`: a head to fill again (its fields keep their strings), or
  // none.
  Result<std::optional<ResponseHead>> takeResponse(size_t length, std::string_view request_method,
                                                   ResponseHead storage = {});

  const BodyFraming& framing() const { return framing_; }
  bool keepAlive() const { return keep_alive_; }

  // The next piece of body; empty at the end. Valid until the next call.
  Task<Result<std::string_view>> readBody();
  // The next piece when no read from the stream is needed (bytes already
  // buffered, or the end); nullopt when only readBody() can give it.
  std::optional<Result<std::string_view>> readBodyNow();
  bool bodyDone() const;
  // Bytes already read past the current message (pipelined data or data
  // after an upgrade), handed over and removed from the buffer.
  std::string takeBuffered();
  // Bytes read from the stream beyond the current message: on an upstream
  // connection after a complete response they mean it is not reusable.
  bool hasBuffered() const { return start_ < end_; }

 private:
  Result<void> parseRequestHead(std::string_view head, RequestHead& out, const Http1Limits& limits);
  // After a head: the body is read by `parser` (Beast's), or without a
  // parser when it is null (a Content-Length body, or one until the close).
  void startBody(detail::MessageParser* parser);
  void compact();
  std::string_view takePlainBody();
  static Error closedInBody();
  // Reading more bytes: into spare(), the room at the end of the buffer
  // (made by compacting or growing it), and then filled() with the result
  // of the read. Two plain calls around the stream's read, so that a read
  // costs no coroutine of its own.
  asio::mutable_buffer spare();
  Result<size_t> filled(Result<size_t> n);

  net::Stream& stream_;
  std::vector<char> buffer_;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last byte read
  size_t max_head_bytes_ = 64 * 1024;
  // One request and one response parser per connection, constructed again
  // in place for every message: no allocation per message.
  std::unique_ptr<detail::ParserSlots> slots_;
  detail::MessageParser* parser_ = nullptr;  // the current message's, in slots_
  bool plain_body_ = false;                  // the body is read without parser_
  uint64_t remaining_ = 0;                   // of a plain Content-Length body
  BodyFraming framing_;
  bool keep_alive_ = true;
  bool at_eof_ = false;
};

}  // namespace gatehouse::http

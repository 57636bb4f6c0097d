#include "http/http1_server.h"


#include "common/log.h"
#include "common/strings.h"
#include "http/http1_reader.h"
#include "http/http1_writer.h"

namespace gatehouse::http {
namespace {

constexpr size_t kInitialBuffer = 8 * 1024;
// Unread request body the server will still read and discard to keep a
// connection alive after a handler did not consume it.
constexpr size_t kMaxDrain = 256 * 1024;

class Http1Exchange final : public ServerExchange {
 public:
  // `pending` is the connection's write buffer, reused by every exchange.
  Http1Exchange(net::Stream& stream, Http1Reader& reader, RequestHead& request,
                ConnectionInfo& info, const ConnectionSettings& settings, std::string& pending)
      : stream_(stream),
        reader_(reader),
        request_(request),
        info_(info),
        settings_(settings),
        pending_(pending) {
    pending_.clear();
    keep_alive_ = reader.keepAlive();
    if (settings.write_timeout.count() > 0) {
      // timeout_write bounds the whole exchange (Envoy's max stream duration).
      exchange_deadline_ = net::Clock::now() + settings.write_timeout;
    }
    // Until the request body is read, timeout_read (armed when the first
    // byte arrived) bounds the exchange; without a body it is read already.
    if (reader.bodyDone()) bodyFinished();
  }

  RequestHead& request() override { return request_; }
  const ConnectionInfo& connection() const override { return info_; }

  Task<Result<std::string_view>> readBody() override {
    if (request_.expect_continue && !continue_sent_) {
      // Reading the body is consent to receive it.
      if (auto r = co_await sendContinue(); !r) co_return r.error();
    }
    auto now = reader_.readBodyNow();
    auto piece = now ? std::move(*now) : co_await reader_.readBody();
    if (!piece) {
      body_broken_ = true;
    } else if (piece->empty()) {
      bodyFinished();
    }
    co_return piece;
  }

  Task<Result<void>> sendContinue() override {
    if (!request_.expect_continue || continue_sent_ || started_) co_return Result<void>();
    continue_sent_ = true;
    co_return co_await stream_.write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  Result<void> sendHead(const ResponseHead& head, std::optional<uint64_t> body_length,
                        bool no_body) override {
    if (started_) return Error::internal("response already started");
    started_ = true;
    // A client that asked for 100-continue and got a final answer without
    // it may still send the body; the connection cannot be reused safely.
    if (request_.expect_continue && !continue_sent_ && !reader_.bodyDone()) keep_alive_ = false;
    // After a malformed body the byte stream cannot frame another request.
    if (body_broken_) keep_alive_ = false;
    // A body the handler left unread is drained after the response only up
    // to kMaxDrain bytes; a larger or unknown one closes the connection, and
    // the response has to say so.
    if (!reader_.bodyDone() && request_.content_length.value_or(kMaxDrain + 1) > kMaxDrain) {
      keep_alive_ = false;
    }
    if (head.status == 101) {
      upgraded_ = true;
      keep_alive_ = false;
    }
    pending_.clear();
    const std::string_view reason = statusReason(head.status);
    // The status line (a status of up to 20 digits), the fields, and at
    // most 64 bytes of framing and Connection fields, then the empty line.
    size_t upper = 9 + 20 + 1 + reason.size() + 2 + 64 + 2;
    for (const auto& f : head.headers.fields()) {
      upper += f.name.size() + f.value.size() + HeadWriter::kFieldExtra;
    }
    HeadWriter out(pending_, upper);
    out.put(request_.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    out.put(static_cast<uint64_t>(head.status)).put(" ").put(reason).put("\r\n");
    for (const auto& f : head.headers.fields()) {
      if (head.status != 101 && isHopByHop(f.name)) continue;
      if (iequals(f.name, "content-length") && !no_body) continue;
      out.field(f.name, f.value);
    }
    bool bodyless_status = head.status == 204 || head.status == 304 || head.status < 200;
    if (no_body || bodyless_status) {
      no_body_ = true;
    } else if (body_length) {
      out.put("Content-Length: ").put(*body_length).put("\r\n");
    } else if (request_.version == 11) {
      chunked_ = true;
      out.put("Transfer-Encoding: chunked\r\n");
    } else {
      keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
    }
    if (head.status != 101) {
      if (!keep_alive_) {
        out.put("Connection: close\r\n");
      } else if (request_.version == 10) {
        out.put("Connection: keep-alive\r\n");
      }
    }
    out.put("\r\n");
    out.done();
    return Result<void>();  // written with the first body piece, or by finish
  }

  Task<Result<void>> sendBody(std::string_view data) override {
    if (!started_ || finished_) co_return Error::internal("body outside a response");
    if (data.empty() || no_body_) co_return Result<void>();
    armWrite();
    BodyPieceBuffers piece(pending_, chunk_header_, data, chunked_);
    auto r = co_await stream_.write(piece.buffers());
    pending_.clear();
    if (!r) broken_ = true;
    co_return r;
  }

  // The end of a response is its last piece, empty: what is pending (a
  // head without a body) and the chunked terminator. A plain function
  // returning sendLast's task, so no coroutine of its own.
  Task<Result<void>> finish(const Headers* trailers) override { return sendLast({}, trailers); }

  // HTTP/1.1 carries no trailers here: they are dropped.
  std::optional<Result<void>> sendLastNow(std::string_view data, const Headers*) override {
    if (!started_ || finished_) return Result<void>(Error::internal("finish outside a response"));
    if (no_body_) data = {};
    if (data.empty() && !chunked_ && pending_.empty()) {
      finished_ = true;
      return Result<void>();
    }
    // Part of it went out already: sendLast sends the rest.
    if (last_sent_ > 0) return std::nullopt;
    armWrite();
    BodyPieceBuffers piece(pending_, chunk_header_, data, chunked_, /*last=*/true);
    auto sent = stream_.writeNow(piece.buffers());
    if (sent && *sent < asio::buffer_size(piece.buffers())) {
      last_sent_ = *sent;
      return std::nullopt;
    }
    finished_ = true;
    pending_.clear();
    if (!sent) {
      broken_ = true;
      return Result<void>(sent.error());
    }
    return Result<void>();
  }

  Task<Result<void>> sendLast(std::string_view data, const Headers* trailers) override {
    if (auto now = sendLastNow(data, trailers)) co_return std::move(*now);
    // What the stream did not take at once (a TLS stream takes nothing).
    finished_ = true;
    if (no_body_) data = {};
    armWrite();
    BodyPieceBuffers piece(pending_, chunk_header_, data, chunked_, /*last=*/true);
    std::span<const asio::const_buffer> buffers = piece.buffers();
    std::vector<asio::const_buffer> rest;
    if (last_sent_ > 0) {
      rest = net::skipBytes(buffers, last_sent_);
      buffers = rest;
    }
    auto r = co_await stream_.write(buffers);
    pending_.clear();
    if (!r) broken_ = true;
    co_return r;
  }

  bool responseStarted() const override { return started_; }

  // Once the request is read, only the exchange deadline applies, plus the
  // idle timeout on every write so that a client that stops reading cannot
  // hold the worker's connection forever.
  void bodyFinished() {
    request_read_ = true;
    stream_.setDeadline(exchange_deadline_);
  }
  void armWrite() {
    if (!request_read_) return;
    auto deadline = exchange_deadline_;
    if (settings_.idle_timeout.count() > 0) {
      deadline = std::min(deadline, net::Clock::now() + std::chrono::duration_cast<net::Clock::duration>(
                                                            settings_.idle_timeout));
    }
    stream_.setDeadline(deadline);
  }

  net::Stream* takeOverStream(std::string& buffered) override {
    if (!upgraded_) return nullptr;
    buffered = reader_.takeBuffered();
    return &stream_;
  }

  // Flushes a head that had no body call after it (a handler that
  // returned right after sendHead).
  bool complete() const { return started_ && finished_ && !broken_; }
  bool keepAlive() const { return keep_alive_ && !body_broken_ && !upgraded_; }
  bool upgraded() const { return upgraded_; }

 private:
  net::Stream& stream_;
  Http1Reader& reader_;
  RequestHead& request_;
  ConnectionInfo& info_;
  const ConnectionSettings& settings_;
  net::Clock::time_point exchange_deadline_ = net::Clock::time_point::max();
  bool request_read_ = false;
  std::string& pending_;
  std::string chunk_header_;
  bool keep_alive_ = true;
  bool started_ = false;
  bool finished_ = false;
  size_t last_sent_ = 0;  // of the last piece, by sendLastNow
  bool chunked_ = false;
  bool no_body_ = false;
  bool continue_sent_ = false;
  bool upgraded_ = false;
  bool broken_ = false;
  bool body_broken_ = false;
};

// Reads what is left of a request body that the handler did not consume,
// up to kMaxDrain bytes, so that the next request on the connection
// starts at the right byte. Returns false if the connection must close.
Task<bool> drainBody(Http1Reader& reader) {
  size_t drained = 0;
  while (!reader.bodyDone()) {
    auto piece = co_await reader.readBody();
    if (!piece) co_return false;
    if (piece->empty()) break;
    drained += piece->size();
    if (drained > kMaxDrain) co_return false;
  }
  co_return true;
}

// Closes the way RFC 9112 section 9.6 asks: send FIN, then read and
// discard what the client still sends, so that its late writes do not turn
// into a RST that destroys the response still in flight. A client that is
// in the middle of a large upload when it gets an early answer (a 413, a
// 401) keeps sending until it reads that answer, so the discarding is
// bounded by time and by bytes, not by a few reads: up to 2 s and 64 MiB,
// like a web server's lingering close.
Task<void> lingeringClose(net::Stream& stream) {
  static constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
  co_await stream.shutdownSend();
  stream.setTimeout(std::chrono::seconds(2));
  char sink[16 * 1024];
  size_t discarded = 0;
  while (discarded < kMaxLingerBytes) {
    auto n = co_await stream.readSome(asio::buffer(sink));
    if (!n || *n == 0) break;
    discarded += *n;
  }
  stream.close();
}

}  // namespace

Task<void> serveHttp1(std::unique_ptr<net::Stream> stream, Handler& handler,
                      const ConnectionSettings& settings) {
  Http1Reader reader(*stream, kInitialBuffer);
  ConnectionInfo info;
  info.remote = stream->remoteEndpoint();
  info.remote_ip = info.remote.address().to_string();
  info.local = stream->localEndpoint();
  info.tls = stream->isTls();
  info.server_name = stream->serverName();
  info.alpn = stream->alpn();
  info.client_certificate = stream->clientCertificate();

  ConnectionTracker* tracker = settings.tracker;
  RequestHead request;
  std::string pending;  // response bytes not yet written, kept for its capacity
  while (true) {
    if (tracker) {
      if (tracker->draining()) break;
      tracker->idle(stream.get());
    }
    stream->setTimeout(settings.idle_timeout);
    auto length = co_await reader.readHead(settings.limits.max_head_bytes, settings.read_timeout);
    Result<bool> got =
        length ? reader.takeRequest(*length, request, settings.limits) : Result<bool>(length.error());
    if (tracker) tracker->busy(stream.get());
    if (!got) {
      const Error& e = got.error();
      if (e.code == ErrorCode::kProtocol || e.code == ErrorCode::kTooLarge) {
        // Answer what we can, then close: the byte stream can no longer be
        // trusted to frame the next request.
        RequestHead& r = request;
        if (r.version != 10) r.version = 11;
        Http1Exchange exchange(*stream, reader, r, info, settings, pending);
        int status = e.code == ErrorCode::kTooLarge ? 431 : 400;
        if (e.message == "unsupported HTTP version") status = 505;
        if (e.message == "unsupported expectation") status = 417;
        co_await handler.handleMalformed(exchange, status, e.message);
        co_await lingeringClose(*stream);
      }
      break;
    }
    if (!*got) break;  // clean close between requests
    Http1Exchange exchange(*stream, reader, request, info, settings, pending);
    co_await handler.handle(exchange);
    if (exchange.upgraded() || !exchange.complete()) break;
    if (!exchange.keepAlive() || (tracker && tracker->draining())) {
      co_await lingeringClose(*stream);
      break;
    }
    if (!reader.bodyDone() && !co_await drainBody(reader)) {
      co_await lingeringClose(*stream);
      break;
    }
  }
  if (tracker) tracker->busy(stream.get());
  stream->close();
}

}  // namespace gatehouse::http

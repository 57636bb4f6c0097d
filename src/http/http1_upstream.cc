#include "http/http1_upstream.h"


#include "common/strings.h"
#include "http/http1_writer.h"

namespace gatehouse::http {
namespace {

constexpr size_t kMaxSpareResponseBytes = 16 * 1024;

Error upstreamFailure(const Error& e, std::string_view what) {
  Error out = e;
  out.source = ErrorSource::kUpstream;
  out.message = std::string(what) + ": " + e.message;
  return out;
}

class Http1UpstreamExchange final : public UpstreamExchange {
 public:
  Http1UpstreamExchange(std::unique_ptr<Http1UpstreamConnection> connection, ReturnToPool ret)
      : connection_(std::move(connection)), return_(std::move(ret)) {
    reused_ = connection_->requests > 0;
    connection_->requests++;
  }

  ~Http1UpstreamExchange() override {
    // Bytes after the end of the response (a body on a 204, say) would be
    // read as the next request's response: such a connection is closed.
    bool reusable = done_ && request_sent_ && connection_->reader.keepAlive() && request_keep_alive_ &&
                    connection_->reader.bodyDone() && !connection_->reader.hasBuffered() &&
                    connection_->stream->isOpen();
    if (reusable && return_) {
      connection_->stream->setDeadline(net::Clock::time_point::max());
      connection_->idle_since = net::Clock::now();
      return_->takeBack(std::move(connection_));
    } else {
      connection_->stream->close();
    }
  }

  void setTimeouts(net::Clock::duration response_timeout,
                   net::Clock::duration idle_timeout) override {
    response_timeout_ = response_timeout;
    idle_timeout_ = idle_timeout;
  }

  Result<void> sendHead(const RequestHead& head, std::optional<uint64_t> body_length) override {
    method_ = head.method;
    connection_->write_buffer.clear();
    // The request line and Host, the fields, the upgrade, at most 64 bytes
    // of framing, then the empty line.
    size_t upper = head.method.size() + 1 + head.target.size() + 17 + head.authority.size() + 2 +
                   head.upgrade.size() + 32 + 64 + 2;
    for (const auto& f : head.headers.fields()) {
      upper += f.name.size() + f.value.size() + HeadWriter::kFieldExtra;
    }
    HeadWriter out(connection_->write_buffer, upper);
    out.put(head.method).put(" ").put(head.target).put(" HTTP/1.1\r\nHost: ");
    out.put(head.authority).put("\r\n");
    for (const auto& f : head.headers.fields()) {
      if (iequals(f.name, "host") || isHopByHop(f.name) || iequals(f.name, "content-length")) {
        continue;
      }
      out.field(f.name, f.value);
    }
    if (!head.upgrade.empty()) {
      out.put("Connection: Upgrade\r\nUpgrade: ").put(head.upgrade).put("\r\n");
      request_keep_alive_ = false;
    }
    if (head.has_body) {
      if (body_length) {
        out.put("Content-Length: ").put(*body_length).put("\r\n");
      } else {
        chunked_ = true;
        out.put("Transfer-Encoding: chunked\r\n");
      }
    } else if (head.content_length) {
      out.put("Content-Length: 0\r\n");
    }
    out.put("\r\n");
    out.done();
    // Buffered: sent with the first body piece or finishRequest.
    armIdle();
    return Result<void>();
  }

  Task<Result<void>> sendBody(std::string_view data) override {
    if (data.empty()) co_return Result<void>();
    armIdle();
    BodyPieceBuffers piece(connection_->write_buffer, chunk_header_, data, chunked_);
    auto r = co_await connection_->stream->write(piece.buffers());
    connection_->write_buffer.clear();
    if (!r) co_return upstreamFailure(r.error(), "upstream write");
    co_return Result<void>();
  }

  std::optional<Result<void>> finishRequestNow() override {
    std::string& buffer = queueRequestEnd();
    if (!buffer.empty()) {
      armIdle();
      asio::const_buffer whole = asio::buffer(buffer);
      auto sent = connection_->stream->writeNow(std::span<const asio::const_buffer>(&whole, 1));
      if (!sent) {
        buffer.clear();
        return upstreamFailure(sent.error(), "upstream write");
      }
      buffer.erase(0, *sent);
      if (!buffer.empty()) return std::nullopt;  // finishRequest sends the rest
    }
    requestSent();
    return Result<void>();
  }

  Task<Result<void>> finishRequest() override {
    if (auto now = finishRequestNow()) co_return std::move(*now);
    // What the stream did not take at once (a TLS stream takes nothing).
    std::string& buffer = connection_->write_buffer;
    asio::const_buffer rest = asio::buffer(buffer);
    auto r = co_await connection_->stream->write(std::span<const asio::const_buffer>(&rest, 1));
    buffer.clear();
    if (!r) co_return upstreamFailure(r.error(), "upstream write");
    requestSent();
    co_return Result<void>();
  }

  Task<Result<ResponseHead>> readResponse() override {
    Http1Reader& reader = connection_->reader;
    while (true) {
      auto length = co_await reader.readHead(kMaxHttp1ResponseHead, net::Clock::duration::zero());
      if (!length) co_return upstreamFailure(length.error(), "upstream response");
      auto head = reader.takeResponse(*length, method_, std::move(connection_->spare_response));
      if (!head) co_return upstreamFailure(head.error(), "upstream response");
      if (!*head) continue;  // an interim 1xx response
      response_started_ = true;
      if (reader.framing().kind == BodyFraming::kNone) done_ = true;
      co_return std::move(**head);
    }
  }

  void recycleResponse(ResponseHead&& head) override {
    // Not when an unusual response left large strings behind: a pooled
    // connection keeps this for as long as it is idle.
    if (connection_ && head.headers.retainedBytes() <= kMaxSpareResponseBytes) {
      connection_->spare_response = std::move(head);
    }
  }

  std::optional<uint64_t> responseLength() const override {
    const BodyFraming& framing = connection_->reader.framing();
    if (framing.kind == BodyFraming::kLength) return framing.length;
    if (framing.kind == BodyFraming::kNone) return 0;
    return std::nullopt;
  }
  bool responseHasBody() const override {
    return connection_->reader.framing().kind != BodyFraming::kNone;
  }

  Task<Result<std::string_view>> readBody() override {
    armIdle();
    auto now = connection_->reader.readBodyNow();
    auto piece = now ? std::move(*now) : co_await connection_->reader.readBody();
    if (!piece) co_return upstreamFailure(piece.error(), "upstream body");
    if (piece->empty() || connection_->reader.bodyDone()) done_ = true;
    co_return piece;
  }

  net::Stream* takeOverStream(std::string& buffered) override {
    buffered = connection_->reader.takeBuffered();
    connection_->stream->setDeadline(net::Clock::time_point::max());
    return connection_->stream.get();
  }

  bool bodyDone() const override { return done_; }
  bool reusedConnection() const override { return reused_; }
  bool responseStarted() const override { return response_started_; }

 private:
  // The write buffer with the end of the request queued (once).
  std::string& queueRequestEnd() {
    std::string& buffer = connection_->write_buffer;
    if (chunked_ && !end_queued_) buffer += "0\r\n\r\n";
    end_queued_ = true;
    return buffer;
  }
  void requestSent() {
    request_sent_ = true;
    if (response_timeout_.count() > 0) {
      response_deadline_ = net::Clock::now() + response_timeout_;
    }
    armIdle();
  }

  void armIdle() {
    auto deadline = response_deadline_;
    if (idle_timeout_.count() > 0) deadline = std::min(deadline, net::Clock::now() + idle_timeout_);
    connection_->stream->setDeadline(deadline);
  }

  std::unique_ptr<Http1UpstreamConnection> connection_;
  ReturnToPool return_;
  std::string method_;
  std::string chunk_header_;
  net::Clock::duration response_timeout_{};
  net::Clock::duration idle_timeout_{};
  net::Clock::time_point response_deadline_ = net::Clock::time_point::max();
  bool chunked_ = false;
  bool end_queued_ = false;  // the chunked terminator is in the write buffer
  bool reused_ = false;
  bool response_started_ = false;
  bool done_ = false;
  bool request_keep_alive_ = true;
  bool request_sent_ = false;  // only a fully sent request leaves the connection reusable
};

}  // namespace

std::unique_ptr<UpstreamExchange> makeHttp1UpstreamExchange(
    std::unique_ptr<Http1UpstreamConnection> connection, ReturnToPool return_to_pool) {
  return std::make_unique<Http1UpstreamExchange>(std::move(connection), std::move(return_to_pool));
}

}  // namespace gatehouse::http

// The HTTP/2 server: nghttp2 does the framing, HPACK, flow-control
// accounting and most of RFC 9113's message checks; this file maps its
// streams to ServerExchanges, runs one handler coroutine per request, and
// turns window updates into backpressure in both directions.

#include "http/http2_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <unordered_map>

#include "common/log.h"
#include "common/strings.h"
#include "http/http2_session.h"

namespace gatehouse::http {
namespace {

constexpr size_t kReadBuffer = size_t{16} * 1024;
constexpr uint32_t kMaxConcurrentStreams = 100;
// Handler coroutines still running for streams the client has already
// reset do not count against MAX_CONCURRENT_STREAMS in nghttp2; this caps
// them so that a reset flood cannot pile up handlers (new streams are
// refused while it is reached).
constexpr size_t kMaxLiveHandlers = size_t{2} * kMaxConcurrentStreams;

Error downstreamError(ErrorCode code, std::string message) {
  return Error{code, ErrorSource::kDownstream, std::move(message), false};
}

net::Clock::time_point deadlineAfter(std::chrono::nanoseconds timeout) {
  if (timeout.count() <= 0) return net::Clock::time_point::max();
  return net::Clock::now() + std::chrono::duration_cast<net::Clock::duration>(timeout);
}

class ServerConnection;

// One request stream. Owned jointly by the connection's stream map (until
// nghttp2 closes the stream) and the handler coroutine (until it returns),
// so that it stays valid for the handler however the stream ends.
class ServerStream final : public ServerExchange {
 public:
  ServerStream(ServerConnection& connection, int32_t id, const asio::any_io_executor& executor);

  RequestHead& request() override { return request_; }
  const ConnectionInfo& connection() const override;
  Task<Result<std::string_view>> readBody() override;
  Task<Result<void>> sendContinue() override;
  Result<void> sendHead(const ResponseHead& head, std::optional<uint64_t> body_length,
                        bool no_body) override;
  Task<Result<void>> sendBody(std::string_view data) override;
  Task<Result<void>> finish(const Headers* trailers) override;
  Task<Result<void>> sendLast(std::string_view data, const Headers* trailers) override;
  bool responseStarted() const override { return head_sent_; }
  net::Stream* takeOverStream(std::string&) override { return nullptr; }

 private:
  friend class ServerConnection;

  void malformed(int status, const char* reason) {
    if (malformed_status_ == 0) {
      malformed_status_ = status;
      malformed_reason_ = reason;
    }
  }
  // Gives the bytes received but not yet consumed back to the peer's
  // flow-control windows.
  void releaseWindow();
  // After a complete response, the unread rest of a request body of known
  // length is small enough to let it arrive and drop it (its bytes are
  // handed back as they come) rather than reset the stream: some clients
  // (curl 7.88) report a reset with NO_ERROR that arrives while they are
  // still sending as a failed request, though the response was complete.
  bool restIsSmall() const {
    constexpr uint64_t kSmallRest = 64 * 1024;
    return request_.content_length && *request_.content_length >= received_ &&
           *request_.content_length - received_ <= kSmallRest;
  }
  // Stops the stream from our side with RST_STREAM `code`, failing
  // pending and later body calls with `error`.
  void reset(uint32_t code, const Error& error);
  void fail(const Error& error);
  // finish() without waiting: nghttp2 sends the end when it writes next.
  Result<void> end(const Headers* trailers);

  ServerConnection& connection_;
  const int32_t id_;
  RequestHead request_;
  net::Clock::time_point body_deadline_ = net::Clock::time_point::max();
  net::Clock::time_point exchange_deadline_ = net::Clock::time_point::max();

  // Request head assembly.
  size_t header_bytes_ = 0;
  std::vector<std::string> cookies_;
  std::optional<std::string> host_;
  size_t host_count_ = 0;
  int malformed_status_ = 0;
  const char* malformed_reason_ = "";

  // Request body: `inbound_` is what arrived and waits for readBody,
  // `delivered_` what the last readBody returned. `unconsumed_` bytes are
  // still charged against the flow-control windows.
  std::string inbound_;
  std::string delivered_;
  size_t unconsumed_ = 0;
  uint64_t received_ = 0;  // request body bytes that arrived, read or not
  bool in_eof_ = false;
  std::optional<Error> in_error_;

  // Response.
  Http2BodyQueue outbound_;
  std::optional<Http2HeaderBlock> trailers_;
  std::optional<Error> out_error_;
  bool continue_sent_ = false;
  bool head_sent_ = false;
  bool no_body_ = false;
  bool finished_ = false;       // finish() called
  bool out_eof_ = false;        // the data provider may end the stream
  bool response_sent_ = false;  // END_STREAM went out

  bool closed_ = false;        // nghttp2 closed the stream
  bool handler_done_ = false;  // the handler coroutine returned

  Http2Wakeup read_wake_;
  Http2Wakeup write_wake_;
};

class ServerConnection final : public Http2Session {
 public:
  ServerConnection(net::Stream& stream, Handler& handler, const ConnectionSettings& settings,
                   const asio::any_io_executor& executor)
      : Http2Session(stream, executor,
                     std::chrono::duration_cast<net::Clock::duration>(settings.idle_timeout)),
        handler_(handler),
        settings_(settings),
        executor_(executor),
        handlers_wake_(executor) {
    info_.remote = stream.remoteEndpoint();
    info_.remote_ip = info_.remote.address().to_string();
    info_.local = stream.localEndpoint();
    info_.tls = stream.isTls();
    info_.server_name = stream.serverName();
    info_.alpn = stream.alpn();
    info_.client_certificate = stream.clientCertificate();
  }

  Result<void> init();
  Task<void> run();

  const ConnectionInfo& info() const { return info_; }
  const ConnectionSettings& settings() const { return settings_; }

  // nghttp2 callbacks, forwarded from the C functions below.
  int onBeginHeaders(const nghttp2_frame& frame);
  int onHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int onFrameRecv(const nghttp2_frame& frame);
  int onDataChunk(int32_t id, const uint8_t* data, size_t size);
  int onStreamClose(int32_t id, uint32_t error_code);
  int onFrameSend(const nghttp2_frame& frame);
  ssize_t readData(int32_t id, uint8_t* buffer, size_t length, uint32_t* flags);

 private:
  void onWriteFailed(const Error& error) override;
  ServerStream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }
  void requestComplete(ServerStream& stream, bool end_stream);
  void spawnPending();
  Task<void> runHandler(std::shared_ptr<ServerStream> stream);
  void handlerDone(ServerStream& stream);
  Task<void> writerMain();
  void failAll(const Error& error);
  void updateIdle();

  Handler& handler_;
  const ConnectionSettings& settings_;
  asio::any_io_executor executor_;
  ConnectionInfo info_;
  std::unordered_map<int32_t, std::shared_ptr<ServerStream>> streams_;
  std::vector<std::shared_ptr<ServerStream>> to_spawn_;
  size_t live_handlers_ = 0;
  Http2Wakeup handlers_wake_;
  bool idle_ = false;
  bool quiet_ = false;  // what the tracker was last told
  bool goaway_sent_ = false;
  bool reading_done_ = false;
  bool broken_ = false;
};

// --- nghttp2 C callbacks: each forwards to the connection. ---

ServerConnection& owner(void* user_data) { return *static_cast<ServerConnection*>(user_data); }

int onFrameSendCb(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return http2Guard([&] { return owner(user_data).onFrameSend(*frame); });
}

ssize_t readDataCb(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                   uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  return http2Guard([&] { return owner(user_data).readData(stream_id, buf, length, data_flags); });
}

// --- ServerStream ---

ServerStream::ServerStream(ServerConnection& connection, int32_t id,
                           const asio::any_io_executor& executor)
    : connection_(connection), id_(id), read_wake_(executor), write_wake_(executor) {
  request_.version = 20;
  // How the client reached us, not what its :scheme claims.
  request_.scheme = connection.info().tls ? "https" : "http";
  const auto& settings = connection.settings();
  exchange_deadline_ = deadlineAfter(settings.write_timeout);
  body_deadline_ = std::min(exchange_deadline_, deadlineAfter(settings.read_timeout));
}

const ConnectionInfo& ServerStream::connection() const { return connection_.info(); }

void ServerStream::releaseWindow() {
  if (unconsumed_ == 0) return;
  nghttp2_session_consume(connection_.session(), id_, unconsumed_);
  unconsumed_ = 0;
  connection_.requestWrite();
}

void ServerStream::fail(const Error& error) {
  if (!in_eof_ && !in_error_) {
    in_error_ = error;
    inbound_.clear();
  }
  if (!response_sent_ && !out_error_) {
    out_error_ = error;
    outbound_.clear();
  }
  releaseWindow();
  read_wake_.notify();
  write_wake_.notify();
}

void ServerStream::reset(uint32_t code, const Error& error) {
  if (!closed_) {
    nghttp2_submit_rst_stream(connection_.session(), NGHTTP2_FLAG_NONE, id_, code);
    connection_.requestWrite();
  }
  fail(error);
}

Task<Result<std::string_view>> ServerStream::readBody() {
  if (request_.expect_continue && !continue_sent_ && !head_sent_) {
    // Reading the body is consent to receive it.
    if (auto r = co_await sendContinue(); !r) co_return r.error();
  }
  while (true) {
    if (!inbound_.empty()) {
      delivered_.clear();
      std::swap(delivered_, inbound_);
      // The handler has taken these bytes: the peer may send more.
      releaseWindow();
      co_return std::string_view(delivered_);
    }
    if (in_eof_) co_return std::string_view();
    if (in_error_) co_return *in_error_;
    if (!co_await read_wake_.wait(body_deadline_) && inbound_.empty() && !in_eof_ && !in_error_) {
      co_return downstreamError(ErrorCode::kTimeout, "http2: request body timed out");
    }
  }
}

Task<Result<void>> ServerStream::sendContinue() {
  if (!request_.expect_continue || continue_sent_ || head_sent_) co_return Result<void>();
  if (out_error_) co_return *out_error_;
  continue_sent_ = true;
  Http2HeaderBlock block;
  block.add(":status", "100");
  int rv = nghttp2_submit_headers(connection_.session(), NGHTTP2_FLAG_NONE, id_, nullptr,
                                  block.data(), block.size(), nullptr);
  if (rv != 0) {
    co_return downstreamError(ErrorCode::kClosed,
                              std::string("http2: cannot send 100: ") + nghttp2_strerror(rv));
  }
  connection_.requestWrite();
  co_return Result<void>();
}

Result<void> ServerStream::sendHead(const ResponseHead& head, std::optional<uint64_t> body_length,
                                    bool no_body) {
  if (head_sent_) return Error::internal("response already started");
  if (head.status < 200 || head.status > 999) {
    // 1xx answers (and so 101 upgrades) do not exist as final responses
    // in HTTP/2.
    return Error::internal("http2: cannot send status " + std::to_string(head.status));
  }
  if (out_error_) return *out_error_;

  Http2HeaderBlock block;
  block.add(":status", std::to_string(head.status));
  block.addFields(head.headers,
                  {"content-length", "te", "trailer", "proxy-authenticate", "proxy-authorization"});
  bool bodyless = no_body || head.status == 204 || head.status == 304;
  if (head.status != 204) {
    if (bodyless) {
      // A HEAD or 304 answer describes the body it does not carry.
      if (auto length = head.headers.get("content-length")) {
        block.add("content-length", *length);
      } else if (body_length && head.status != 304) {
        block.add("content-length", std::to_string(*body_length));
      }
    } else if (body_length) {
      block.add("content-length", std::to_string(*body_length));
    }
  }
  nghttp2_data_provider provider{};
  provider.read_callback = readDataCb;
  int rv = nghttp2_submit_response(connection_.session(), id_, block.data(), block.size(),
                                   bodyless ? nullptr : &provider);
  if (rv != 0) {
    return downstreamError(ErrorCode::kClosed,
                           std::string("http2: cannot send response: ") + nghttp2_strerror(rv));
  }
  head_sent_ = true;
  no_body_ = bodyless;
  connection_.requestWrite();
  return Result<void>();
}

Task<Result<void>> ServerStream::sendBody(std::string_view data) {
  if (!head_sent_ || finished_) co_return Error::internal("body outside a response");
  if (out_error_) co_return *out_error_;
  if (no_body_ || data.empty()) co_return Result<void>();
  outbound_.append(data);
  nghttp2_session_resume_data(connection_.session(), id_);
  connection_.requestWrite();
  // Backpressure: a client that does not take the response (no window
  // updates) holds this handler here instead of growing the queue.
  auto deadline = std::min(exchange_deadline_, deadlineAfter(connection_.settings().idle_timeout));
  while (true) {
    if (out_error_) co_return *out_error_;
    if (outbound_.size() <= kHttp2SendHighWater) co_return Result<void>();
    if (!co_await write_wake_.wait(deadline) && !out_error_ &&
        outbound_.size() > kHttp2SendHighWater) {
      Error error = downstreamError(ErrorCode::kTimeout, "http2: client stopped reading");
      reset(NGHTTP2_CANCEL, error);
      co_return error;
    }
  }
}

Result<void> ServerStream::end(const Headers* trailers) {
  if (!head_sent_ || finished_) return Error::internal("finish outside a response");
  finished_ = true;
  if (out_error_) return *out_error_;
  if (no_body_) return Result<void>();
  if (trailers && !trailers->empty()) {
    trailers_.emplace();
    trailers_->addFields(*trailers, {"content-length", "te", "trailer", "proxy-authenticate",
                                     "proxy-authorization"});
    if (trailers_->size() == 0) trailers_.reset();
  }
  out_eof_ = true;
  nghttp2_session_resume_data(connection_.session(), id_);
  connection_.requestWrite();
  return Result<void>();
}

Task<Result<void>> ServerStream::finish(const Headers* trailers) { co_return end(trailers); }

Task<Result<void>> ServerStream::sendLast(std::string_view data, const Headers* trailers) {
  if (auto r = co_await sendBody(data); !r) co_return r;
  co_return end(trailers);
}

// --- ServerConnection ---

Result<void> ServerConnection::init() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0)
    return Error::internal("http2: out of memory");
  setReceiveCallbacks<ServerConnection>(callbacks);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSendCb);

  Http2OptionPtr option = newHttp2Option();
  if (!option) {
    nghttp2_session_callbacks_del(callbacks);
    return Error::internal("http2: out of memory");
  }

  nghttp2_session* session = nullptr;
  int rv = nghttp2_session_server_new2(&session, callbacks, this, option.get());
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return Error::internal(std::string("http2: ") + nghttp2_strerror(rv));
  setSession(session);

  uint32_t max_header_list =
      static_cast<uint32_t>(std::min<size_t>(settings_.limits.max_head_bytes, UINT32_MAX));
  nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kHttp2StreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, max_header_list},
  };
  rv = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  if (rv == 0) {
    rv = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                               kHttp2ConnectionWindow);
  }
  if (rv != 0) return Error::internal(std::string("http2: ") + nghttp2_strerror(rv));
  return {};
}

Task<void> ServerConnection::run() {
  updateIdle();
  asio::co_spawn(executor_, writerMain(), asio::detached);
  std::vector<uint8_t> buffer(kReadBuffer);
  while (!broken_) {
    auto n = co_await readSome(asio::buffer(buffer));
    if (!n || *n == 0) break;
    auto received = receive(buffer.data(), *n);
    spawnPending();
    updateIdle();
    if (!received) {
      log::debug("http2 connection error").str("error", received.error().message);
      nghttp2_session_terminate_session(session(), NGHTTP2_PROTOCOL_ERROR);
      failAll(downstreamError(ErrorCode::kProtocol, received.error().message));
      break;
    }
    if (sessionDone()) break;
  }
  reading_done_ = true;
  updateIdle();
  if (!sessionDone()) {
    // The client closed (or reset) the connection: it can neither send
    // the rest of a body nor open a window for a response, so every
    // stream ends now; a handler waiting for flow-control credit would
    // otherwise wait for a window that can never come.
    failAll(downstreamError(ErrorCode::kClosed, "http2: connection closed by client"));
  }
  while (live_handlers_ > 0) co_await handlers_wake_.wait();
  stopWriter();
  co_await waitWriterDone();
  stream().close();
  streams_.clear();
}

Task<void> ServerConnection::writerMain() {
  co_await runWriter();
  // The session may be over on the writer's side (GOAWAY sent after a
  // protocol error): unblock the reader.
  if (!reading_done_) stream().close();
}

void ServerConnection::onWriteFailed(const Error& error) {
  broken_ = true;
  failAll(downstreamError(ErrorCode::kClosed, "http2: " + error.message));
  stream().close();
}

void ServerConnection::failAll(const Error& error) {
  for (auto& [id, stream] : streams_) stream->fail(error);
}

void ServerConnection::updateIdle() {
  // Idle = no handler running. Streams whose handler has returned and
  // whose response tail is still draining do not keep the connection
  // open: a client that stops reading is closed after idle_timeout.
  if (live_handlers_ == 0) {
    if (!idle_) {
      idle_ = true;
      setIdleDeadline(deadlineAfter(settings_.idle_timeout));
    }
  } else if (idle_) {
    idle_ = false;
    setIdleDeadline(net::Clock::time_point::max());
  }
  ConnectionTracker* tracker = settings_.tracker;
  if (!tracker) return;
  // A drain closes the connections it knows as idle at once: only those
  // with nothing left to send, not even the tail of a finished response.
  bool quiet = live_handlers_ == 0 && streams_.empty() && !reading_done_;
  if (quiet != quiet_) {
    quiet_ = quiet;
    if (quiet) {
      tracker->idle(&stream());
    } else {
      tracker->busy(&stream());
    }
  }
  if (tracker->draining() && !goaway_sent_) {
    // Graceful drain: the streams already received are answered, later
    // ones are refused (the client retries them elsewhere), and the
    // session ends once the last one is done.
    goaway_sent_ = true;
    nghttp2_submit_goaway(session(), NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session()), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    requestWrite();
  }
}

int ServerConnection::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  if (live_handlers_ >= kMaxLiveHandlers || broken_) {
    nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, frame.hd.stream_id,
                              NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  streams_[frame.hd.stream_id] =
      std::make_shared<ServerStream>(*this, frame.hd.stream_id, executor_);
  return 0;
}

int ServerConnection::onHeader(const nghttp2_frame& frame, std::string_view name,
                               std::string_view value) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // request trailers: not exposed to handlers
  }
  ServerStream* s = find(frame.hd.stream_id);
  if (!s) return 0;
  const auto& limits = settings_.limits;
  // The HPACK size of the field list (RFC 9113 section 6.5.2): once over
  // the limit nothing more is stored, however much the decoder expands.
  s->header_bytes_ += name.size() + value.size() + 32;
  if (s->header_bytes_ > limits.max_head_bytes) {
    s->malformed(431, "request header fields too large");
    return 0;
  }
  if (s->malformed_status_ != 0) return 0;
  RequestHead& r = s->request_;
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") {
      r.method = value;
    } else if (name == ":authority") {
      r.authority = value;
    } else if (name == ":path") {
      r.target = value;
    }
    return 0;
  }
  // Cookie crumbs become one field (RFC 9113 section 8.2.3) and count once.
  if (r.headers.size() + (s->cookies_.empty() ? 0 : 1) >= limits.max_headers) {
    s->malformed(431, "too many request header fields");
    return 0;
  }
  if (name.find('_') != std::string_view::npos) {
    // Underscores are refused by default so that X_Pomerium_Foo cannot
    // slip past a strip of X-Pomerium-Foo at an upstream that folds them.
    if (limits.reject_underscore_headers) {
      s->malformed(400, "header name with underscore");
      return 0;
    }
    if (!limits.allow_underscore_headers) return 0;
  }
  if (name == "cookie") {
    s->cookies_.emplace_back(value);
  } else if (name == "host") {
    ++s->host_count_;
    s->host_ = std::string(value);
  } else if (name == "content-length") {
    r.content_length = parseUint(value);  // nghttp2 checked the syntax
  } else if (name == "expect") {
    if (!iequals(trim(value), "100-continue")) {
      s->malformed(417, "unsupported expectation");
    } else {
      r.expect_continue = true;
    }
  } else {
    r.headers.add(name, value);
  }
  return 0;
}

void ServerConnection::requestComplete(ServerStream& s, bool end_stream) {
  RequestHead& r = s.request_;
  r.has_body = !end_stream;
  s.in_eof_ = end_stream;
  if (r.method == "CONNECT") s.malformed(501, "CONNECT is not supported");
  if (r.authority.empty()) {
    if (s.host_) {
      r.authority = *s.host_;
    } else {
      s.malformed(400, "missing :authority");
    }
  } else if (s.host_ && !iequals(*s.host_, r.authority)) {
    // RFC 9113 section 8.3.1: one request, one authority.
    s.malformed(400, "Host differs from :authority");
  }
  if (s.host_count_ > 1) s.malformed(400, "more than one Host header");
  if (r.authority.find('@') != std::string::npos) s.malformed(400, "invalid :authority");
  // Handlers see the same head as for HTTP/1.1: Host carries the authority.
  if (!r.authority.empty()) {
    r.headers.addFirst("host", r.authority);
  }
  if (!s.cookies_.empty()) {
    // RFC 9113 section 8.2.3: crumbs are joined with "; " before the
    // message goes to an HTTP/1.1 context.
    std::string joined;
    for (const auto& crumb : s.cookies_) {
      if (!joined.empty()) joined += "; ";
      joined += crumb;
    }
    r.headers.add("cookie", joined);
    s.cookies_.clear();
  }
  if (!r.has_body) r.expect_continue = false;
  ++live_handlers_;
  to_spawn_.push_back(streams_[s.id_]);
}

int ServerConnection::onFrameRecv(const nghttp2_frame& frame) {
  bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame.hd.type) {
    case NGHTTP2_HEADERS: {
      ServerStream* s = find(frame.hd.stream_id);
      if (!s) return 0;
      if (frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
        requestComplete(*s, end_stream);
      } else if (end_stream) {
        s->in_eof_ = true;  // trailers end the body
        s->read_wake_.notify();
      }
      return 0;
    }
    case NGHTTP2_DATA: {
      if (!end_stream) return 0;
      if (ServerStream* s = find(frame.hd.stream_id)) {
        s->in_eof_ = true;
        s->read_wake_.notify();
      }
      return 0;
    }
    default:
      return 0;
  }
}

int ServerConnection::onDataChunk(int32_t id, const uint8_t* data, size_t size) {
  ServerStream* s = find(id);
  if (s) s->received_ += size;
  if (!s || s->handler_done_ || s->in_error_) {
    // Nobody will read it: hand the window back at once.
    nghttp2_session_consume(session(), id, size);
    return 0;
  }
  s->inbound_.append(reinterpret_cast<const char*>(data), size);
  s->unconsumed_ += size;
  s->read_wake_.notify();
  return 0;
}

int ServerConnection::onStreamClose(int32_t id, uint32_t error_code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  std::shared_ptr<ServerStream> s = std::move(it->second);
  streams_.erase(it);
  s->closed_ = true;
  // The stream is gone: its bytes count only at the connection level now.
  s->releaseWindow();
  if (!s->in_eof_ || !s->response_sent_) {
    std::string message = error_code == NGHTTP2_NO_ERROR ? std::string("http2: stream closed")
                                                         : std::string("http2: stream reset: ") +
                                                               nghttp2_http2_strerror(error_code);
    s->fail(downstreamError(ErrorCode::kClosed, std::move(message)));
  }
  updateIdle();
  return 0;
}

int ServerConnection::onFrameSend(const nghttp2_frame& frame) {
  if (!(frame.hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  ServerStream* s = find(frame.hd.stream_id);
  if (!s) return 0;
  s->response_sent_ = true;
  if (s->handler_done_ && !s->in_eof_ && !s->restIsSmall()) {
    // RFC 9113 section 8.1: the response is complete, the rest of the
    // request is not wanted.
    nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, s->id_, NGHTTP2_NO_ERROR);
  }
  return 0;
}

ssize_t ServerConnection::readData(int32_t id, uint8_t* buffer, size_t length, uint32_t* flags) {
  ServerStream* s = find(id);
  if (!s || s->out_error_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t before = s->outbound_.size();
  size_t n = s->outbound_.take(buffer, length);
  if (before > kHttp2SendHighWater && s->outbound_.size() <= kHttp2SendHighWater) {
    s->write_wake_.notify();
  }
  if (s->outbound_.empty() && s->out_eof_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (s->trailers_) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      int rv = nghttp2_submit_trailer(session(), id, s->trailers_->data(), s->trailers_->size());
      if (rv != 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

void ServerConnection::spawnPending() {
  if (to_spawn_.empty()) return;
  auto pending = std::move(to_spawn_);
  to_spawn_.clear();
  for (auto& s : pending) {
    if (s->closed_) {
      // Reset by the client in the same read that opened it (the rapid
      // reset pattern): nobody is waiting for an answer, so no handler
      // (and no upstream request) is started for it.
      --live_handlers_;
      continue;
    }
    asio::co_spawn(executor_, runHandler(std::move(s)), asio::detached);
  }
}

Task<void> ServerConnection::runHandler(std::shared_ptr<ServerStream> s) {
  try {
    if (s->malformed_status_ != 0) {
      co_await handler_.handleMalformed(*s, s->malformed_status_, s->malformed_reason_);
    } else {
      co_await handler_.handle(*s);
    }
  } catch (const std::exception& e) {
    log::error("http2 handler threw").str("error", e.what());
  } catch (...) {
    log::error("http2 handler threw");
  }
  handlerDone(*s);
}

void ServerConnection::handlerDone(ServerStream& s) {
  s.handler_done_ = true;
  bool complete = s.finished_ || (s.head_sent_ && s.no_body_);
  if (!s.closed_ && !broken_) {
    if (!complete) {
      // The handler gave up (or left the response unfinished): the client
      // must not take a truncated response for a complete one.
      nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, s.id_, NGHTTP2_INTERNAL_ERROR);
    } else if (s.response_sent_ && !s.in_eof_ && !s.restIsSmall()) {
      nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, s.id_, NGHTTP2_NO_ERROR);
    }
  }
  // Unread request body will never be read now.
  s.inbound_.clear();
  s.releaseWindow();
  requestWrite();
  --live_handlers_;
  updateIdle();
  handlers_wake_.notify();
}

}  // namespace

Task<void> serveHttp2(std::unique_ptr<net::Stream> stream, Handler& handler,
                      const ConnectionSettings& settings) {
  auto executor = co_await asio::this_coro::executor;
  auto connection = std::make_unique<ServerConnection>(*stream, handler, settings, executor);
  if (auto r = connection->init(); !r) {
    log::error("http2 session").str("error", r.error().message);
    stream->close();
    co_return;
  }
  co_await connection->run();
}

}  // namespace gatehouse::http

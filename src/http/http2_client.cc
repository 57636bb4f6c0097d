// The HTTP/2 upstream client: one nghttp2 client session per connection,
// each UpstreamExchange one stream of it. Flow control gives backpressure
// both ways, as on the server side: request bodies wait while the stream's
// unsent queue is full, response bodies are acknowledged (window update)
// only once the caller has taken them.

#include "http/http2_client.h"

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
// The same bound the HTTP/1 client puts on a response head.
constexpr size_t kMaxResponseHeadBytes = size_t{256} * 1024;
// An upstream that has not taken a single byte of a write for this long
// is gone; the connection is closed and its streams fail.
constexpr auto kWriteStallTimeout = std::chrono::seconds(60);

Error upstreamError(ErrorCode code, std::string message, bool retryable = false) {
  return Error{code, ErrorSource::kUpstream, std::move(message), retryable};
}

class ClientExchange;
class ClientConnectionImpl;

// The connection proper: the nghttp2 session, the stream and the reader
// and writer loops, which hold it alive until the connection ends.
class ClientCore final : public Http2Session, public std::enable_shared_from_this<ClientCore> {
 public:
  ClientCore(std::unique_ptr<net::Stream> stream, const asio::any_io_executor& executor)
      : Http2Session(*stream, executor, kWriteStallTimeout),
        owned_stream_(std::move(stream)),
        executor_(executor) {}

  Result<void> init();
  // Writes the connection preface and our SETTINGS before the loops run.
  Task<Result<void>> sendPreface();
  void startLoops();

  bool isAlive() const { return !dead_ && !goaway_; }
  bool canOpenStream() const;
  void close();

  const char* scheme() const { return owned_stream_->isTls() ? "https" : "http"; }
  const asio::any_io_executor& executor() const { return executor_; }
  // Streams opened so far, for UpstreamExchange::reusedConnection.
  uint64_t streamsStarted() const { return streams_started_; }
  void registerStream(int32_t id, ClientExchange* exchange) {
    exchanges_[id] = exchange;
    ++streams_started_;
  }
  void unregisterStream(int32_t id) { exchanges_.erase(id); }

  // nghttp2 callbacks, forwarded from the C functions below.
  int onBeginHeaders(const nghttp2_frame& frame);
  int onHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int onFrameRecv(const nghttp2_frame& frame);
  int onDataChunk(int32_t id, const uint8_t* data, size_t size);
  int onStreamClose(int32_t id, uint32_t error_code);
  ssize_t readData(int32_t id, uint8_t* buffer, size_t length, uint32_t* flags);

 private:
  void onWriteFailed(const Error& error) override;
  void failAll(const Error& error);
  ClientExchange* find(int32_t id) {
    auto it = exchanges_.find(id);
    return it == exchanges_.end() ? nullptr : it->second;
  }
  Task<void> readerMain(std::shared_ptr<ClientCore> self);
  Task<void> writerMain(std::shared_ptr<ClientCore> self);

  std::unique_ptr<net::Stream> owned_stream_;
  asio::any_io_executor executor_;
  // Exchanges own themselves (the caller holds them); each removes its
  // entry when it is destroyed.
  std::unordered_map<int32_t, ClientExchange*> exchanges_;
  uint64_t streams_started_ = 0;
  bool dead_ = false;
  bool goaway_ = false;
  bool reading_done_ = false;
};

// What the pool holds. When the pool and every exchange have let go of
// it, the connection is closed (the loops would otherwise keep an idle
// connection open for ever).
class ClientConnectionImpl final : public Http2ClientConnection,
                                   public std::enable_shared_from_this<ClientConnectionImpl> {
 public:
  explicit ClientConnectionImpl(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
  ~ClientConnectionImpl() override { core_->close(); }

  bool canOpenStream() const override { return core_->canOpenStream(); }
  bool isAlive() const override { return core_->isAlive(); }
  std::unique_ptr<UpstreamExchange> newExchange() override;
  void close() override { core_->close(); }

 private:
  std::shared_ptr<ClientCore> core_;
};

class ClientExchange final : public UpstreamExchange {
 public:
  ClientExchange(std::shared_ptr<ClientConnectionImpl> owner, ClientCore& core)
      : owner_(std::move(owner)),
        core_(core),
        read_wake_(core.executor()),
        write_wake_(core.executor()) {}
  ~ClientExchange() override;

  void setTimeouts(net::Clock::duration response_timeout,
                   net::Clock::duration idle_timeout) override {
    response_timeout_ = response_timeout;
    idle_timeout_ = idle_timeout;
  }
  Result<void> sendHead(const RequestHead& head, std::optional<uint64_t> body_length) override;
  Task<Result<void>> sendBody(std::string_view data) override;
  Task<Result<void>> finishRequest() override;
  Task<Result<ResponseHead>> readResponse() override;
  std::optional<uint64_t> responseLength() const override {
    if (!responseHasBody()) return 0;
    return content_length_;
  }
  bool responseHasBody() const override {
    return got_head_ && !head_ended_stream_ && method_ != "HEAD" && status_ != 204 &&
           status_ != 304;
  }
  Task<Result<std::string_view>> readBody() override;
  const Headers* trailers() const override { return trailers_ ? &*trailers_ : nullptr; }
  net::Stream* takeOverStream(std::string&) override { return nullptr; }
  bool reusedConnection() const override { return reused_; }
  bool responseStarted() const override { return got_head_; }

 private:
  friend class ClientCore;

  net::Clock::time_point waitDeadline() const {
    auto deadline = response_deadline_;
    if (idle_timeout_.count() > 0) deadline = std::min(deadline, net::Clock::now() + idle_timeout_);
    return deadline;
  }
  void releaseWindow();
  // Fails this exchange; resets the stream with `code` if it is open.
  void fail(const Error& error, std::optional<uint32_t> reset_code);
  Error timedOut(std::string_view what);

  std::shared_ptr<ClientConnectionImpl> owner_;
  ClientCore& core_;
  int32_t id_ = 0;  // 0 until sendHead
  std::string method_;
  bool reused_ = false;
  net::Clock::duration response_timeout_{};
  net::Clock::duration idle_timeout_{};
  net::Clock::time_point response_deadline_ = net::Clock::time_point::max();
  std::optional<Error> error_;
  bool closed_ = false;

  // Request body.
  Http2BodyQueue outbound_;
  bool has_body_ = false;
  bool out_eof_ = false;

  // The header block being received (a 1xx, the final head or trailers).
  int block_status_ = 0;
  Headers block_headers_;
  size_t block_bytes_ = 0;

  // Response.
  bool got_head_ = false;
  bool head_ended_stream_ = false;
  int status_ = 0;
  ResponseHead response_;
  std::optional<uint64_t> content_length_;
  std::optional<Headers> trailers_;
  std::string inbound_;
  std::string delivered_;
  size_t unconsumed_ = 0;
  bool in_eof_ = false;

  Http2Wakeup read_wake_;
  Http2Wakeup write_wake_;
};

// --- nghttp2 C callbacks ---

ClientCore& owner(void* user_data) { return *static_cast<ClientCore*>(user_data); }

ssize_t readDataCb(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                   uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  return http2Guard([&] { return owner(user_data).readData(stream_id, buf, length, data_flags); });
}

// --- ClientExchange ---

ClientExchange::~ClientExchange() {
  if (id_ > 0) {
    if (!closed_ && !core_.writerDone()) {
      // Abandoned mid-flight: tell the upstream to stop.
      nghttp2_submit_rst_stream(core_.session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
      core_.requestWrite();
    }
    releaseWindow();
    core_.unregisterStream(id_);
  }
}

void ClientExchange::releaseWindow() {
  if (unconsumed_ == 0) return;
  nghttp2_session_consume(core_.session(), id_, unconsumed_);
  unconsumed_ = 0;
  core_.requestWrite();
}

void ClientExchange::fail(const Error& error, std::optional<uint32_t> reset_code) {
  if (reset_code && id_ > 0 && !closed_) {
    nghttp2_submit_rst_stream(core_.session(), NGHTTP2_FLAG_NONE, id_, *reset_code);
    core_.requestWrite();
  }
  // A response already received in full stays readable whatever happens
  // to the connection afterwards.
  if (!(in_eof_ && got_head_)) {
    if (!error_) error_ = error;
    inbound_.clear();
  }
  outbound_.clear();
  releaseWindow();
  read_wake_.notify();
  write_wake_.notify();
}

Error ClientExchange::timedOut(std::string_view what) {
  Error error = upstreamError(ErrorCode::kTimeout, "upstream " + std::string(what) + " timed out");
  fail(error, NGHTTP2_CANCEL);
  return error;
}

Result<void> ClientExchange::sendHead(const RequestHead& head,
                                      std::optional<uint64_t> body_length) {
  if (id_ != 0) return Error::internal("request already sent");
  if (head.method == "CONNECT") return Error::invalid("http2 upstream: CONNECT is not supported");
  if (!core_.isAlive()) {
    // Nothing was sent: safe to retry on another connection.
    return upstreamError(ErrorCode::kUnavailable, "upstream http2 connection is closed", true);
  }
  method_ = head.method;
  has_body_ = head.has_body;

  Http2HeaderBlock block;
  block.add(":method", head.method);
  block.add(":scheme", core_.scheme());
  block.add(":authority", head.authority);
  block.add(":path", head.target.empty() ? std::string_view("/") : std::string_view(head.target));
  block.addFields(head.headers, {"host", "content-length", "te", "trailer", "proxy-authenticate",
                                 "proxy-authorization", "http2-settings"});
  // The one TE value HTTP/2 allows; gRPC servers insist on it.
  if (head.headers.hasToken("te", "trailers")) block.add("te", "trailers");
  if (head.has_body) {
    if (body_length) block.add("content-length", std::to_string(*body_length));
  } else if (head.content_length) {
    block.add("content-length", "0");
  }

  nghttp2_data_provider provider{};
  provider.read_callback = readDataCb;
  int32_t id = nghttp2_submit_request(core_.session(), nullptr, block.data(), block.size(),
                                      head.has_body ? &provider : nullptr, nullptr);
  if (id < 0) {
    bool exhausted = id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE;
    return upstreamError(ErrorCode::kUnavailable,
                         std::string("upstream http2: cannot open stream: ") + nghttp2_strerror(id),
                         exhausted);
  }
  id_ = id;
  reused_ = core_.streamsStarted() > 0;
  core_.registerStream(id_, this);
  core_.requestWrite();
  return Result<void>();
}

Task<Result<void>> ClientExchange::sendBody(std::string_view data) {
  if (id_ == 0 || out_eof_ || !has_body_) co_return Error::internal("body outside a request");
  if (error_) co_return *error_;
  // The upstream already answered in full and closed the stream: it does
  // not want the rest of the body (RFC 9113 section 8.1).
  if (closed_ && in_eof_) co_return Result<void>();
  if (data.empty()) co_return Result<void>();
  outbound_.append(data);
  nghttp2_session_resume_data(core_.session(), id_);
  core_.requestWrite();
  auto deadline = waitDeadline();
  while (true) {
    if (error_) co_return *error_;
    if (outbound_.size() <= kHttp2SendHighWater || closed_) co_return Result<void>();
    if (!co_await write_wake_.wait(deadline) && !error_ && outbound_.size() > kHttp2SendHighWater) {
      co_return timedOut("request body write");
    }
  }
}

Task<Result<void>> ClientExchange::finishRequest() {
  if (id_ == 0) co_return Error::internal("finishRequest before sendHead");
  if (error_) co_return *error_;
  if (has_body_ && !out_eof_) {
    out_eof_ = true;
    if (!closed_) {
      nghttp2_session_resume_data(core_.session(), id_);
      core_.requestWrite();
    }
  }
  if (response_timeout_.count() > 0) response_deadline_ = net::Clock::now() + response_timeout_;
  co_return Result<void>();
}

Task<Result<ResponseHead>> ClientExchange::readResponse() {
  auto deadline = waitDeadline();
  while (true) {
    if (got_head_) co_return std::move(response_);
    if (error_) co_return *error_;
    if (!co_await read_wake_.wait(deadline) && !got_head_ && !error_) {
      co_return timedOut("response");
    }
  }
}

Task<Result<std::string_view>> ClientExchange::readBody() {
  auto deadline = waitDeadline();
  while (true) {
    if (!inbound_.empty()) {
      delivered_.clear();
      std::swap(delivered_, inbound_);
      releaseWindow();
      co_return std::string_view(delivered_);
    }
    if (in_eof_) co_return std::string_view();
    if (error_) co_return *error_;
    if (!co_await read_wake_.wait(deadline) && inbound_.empty() && !in_eof_ && !error_) {
      co_return timedOut("response body");
    }
  }
}

// --- ClientCore ---

Result<void> ClientCore::init() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0)
    return Error::internal("http2: out of memory");
  setReceiveCallbacks<ClientCore>(callbacks);

  Http2OptionPtr option = newHttp2Option();
  if (!option) {
    nghttp2_session_callbacks_del(callbacks);
    return Error::internal("http2: out of memory");
  }

  nghttp2_session* session = nullptr;
  int rv = nghttp2_session_client_new2(&session, callbacks, this, option.get());
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return Error::internal(std::string("http2: ") + nghttp2_strerror(rv));
  setSession(session);

  nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kHttp2StreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(kMaxResponseHeadBytes)},
  };
  rv = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  if (rv == 0) {
    rv = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                               kHttp2ConnectionWindow);
  }
  if (rv != 0) return Error::internal(std::string("http2: ") + nghttp2_strerror(rv));
  return {};
}

Task<Result<void>> ClientCore::sendPreface() {
  std::string out;
  while (true) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session(), &data);
    if (n < 0)
      co_return Error::internal(std::string("http2: ") + nghttp2_strerror(static_cast<int>(n)));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  owned_stream_->setTimeout(kWriteStallTimeout);
  auto written = co_await owned_stream_->write(out);
  owned_stream_->setDeadline(net::Clock::time_point::max());
  if (!written) {
    co_return upstreamError(written.error().code,
                            "upstream http2 preface: " + written.error().message, true);
  }
  co_return Result<void>();
}

void ClientCore::startLoops() {
  asio::co_spawn(executor_, writerMain(shared_from_this()), asio::detached);
  asio::co_spawn(executor_, readerMain(shared_from_this()), asio::detached);
}

bool ClientCore::canOpenStream() const {
  if (!isAlive()) return false;
  if (!nghttp2_session_check_request_allowed(session())) return false;
  // Stream ids are 31 bits; the last few are kept as a margin.
  if (nghttp2_session_get_next_stream_id(session()) >= (1u << 31) - 16) return false;
  uint32_t limit =
      nghttp2_session_get_remote_settings(session(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return exchanges_.size() < limit;
}

void ClientCore::close() {
  if (dead_) return;
  dead_ = true;
  failAll(upstreamError(ErrorCode::kClosed, "upstream http2 connection closed"));
  // GOAWAY, then the writer ends the session and closes the stream.
  nghttp2_session_terminate_session(session(), NGHTTP2_NO_ERROR);
  stopWriter();
  if (writerDone()) owned_stream_->close();
}

Task<void> ClientCore::readerMain(std::shared_ptr<ClientCore> self) {
  std::vector<uint8_t> buffer(kReadBuffer);
  while (!dead_) {
    auto n = co_await readSome(asio::buffer(buffer));
    if (!n) {
      failAll(upstreamError(ErrorCode::kClosed, "upstream http2 connection: " + n.error().message));
      break;
    }
    if (*n == 0) {
      failAll(upstreamError(ErrorCode::kClosed, "upstream closed the http2 connection"));
      break;
    }
    auto received = receive(buffer.data(), *n);
    if (!received) {
      nghttp2_session_terminate_session(session(), NGHTTP2_PROTOCOL_ERROR);
      failAll(upstreamError(ErrorCode::kProtocol, "upstream " + received.error().message));
      break;
    }
    if (sessionDone()) break;
  }
  reading_done_ = true;
  dead_ = true;
  failAll(upstreamError(ErrorCode::kClosed, "upstream http2 connection closed"));
  stopWriter();
  co_await waitWriterDone();
  owned_stream_->close();
}

Task<void> ClientCore::writerMain(std::shared_ptr<ClientCore> self) {
  co_await runWriter();
  if (!reading_done_) owned_stream_->close();
}

void ClientCore::onWriteFailed(const Error& error) {
  dead_ = true;
  failAll(
      upstreamError(error.code == ErrorCode::kTimeout ? ErrorCode::kTimeout : ErrorCode::kClosed,
                    "upstream http2 write: " + error.message));
  owned_stream_->close();
}

void ClientCore::failAll(const Error& error) {
  // fail() does not touch the map, so iterating it is safe.
  for (auto& [id, exchange] : exchanges_) exchange->fail(error, std::nullopt);
}

int ClientCore::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS) return 0;
  if (ClientExchange* e = find(frame.hd.stream_id)) {
    e->block_status_ = 0;
    e->block_headers_.clear();
    e->block_bytes_ = 0;
  }
  return 0;
}

int ClientCore::onHeader(const nghttp2_frame& frame, std::string_view name,
                         std::string_view value) {
  if (frame.hd.type != NGHTTP2_HEADERS) return 0;
  ClientExchange* e = find(frame.hd.stream_id);
  if (!e) return 0;
  e->block_bytes_ += name.size() + value.size() + 32;
  if (e->block_bytes_ > kMaxResponseHeadBytes) {
    e->fail(upstreamError(ErrorCode::kTooLarge, "upstream response head too large"), std::nullopt);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  }
  if (name == ":status") {
    e->block_status_ = static_cast<int>(parseUint(value).value_or(0));
  } else if (!name.empty() && name.front() != ':') {
    e->block_headers_.add(name, value);
  }
  return 0;
}

int ClientCore::onFrameRecv(const nghttp2_frame& frame) {
  bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame.hd.type) {
    case NGHTTP2_GOAWAY:
      // Streams above last_stream_id are closed by nghttp2 with
      // REFUSED_STREAM (retryable); the others may still complete.
      goaway_ = true;
      return 0;
    case NGHTTP2_HEADERS: {
      ClientExchange* e = find(frame.hd.stream_id);
      if (!e || e->error_) return 0;
      if (!e->got_head_) {
        if (e->block_status_ >= 100 && e->block_status_ < 200) return 0;  // interim: skipped
        e->got_head_ = true;
        e->head_ended_stream_ = end_stream;
        e->status_ = e->block_status_;
        e->response_.status = e->block_status_;
        e->response_.headers = std::move(e->block_headers_);
        if (auto cl = e->response_.headers.get("content-length"))
          e->content_length_ = parseUint(*cl);
        // Framing is ours to express downstream; HEAD and 304 answers keep
        // it, as they describe a body they do not carry.
        if (!(e->method_ == "HEAD" || e->status_ == 304))
          e->response_.headers.remove("content-length");
      } else {
        e->trailers_ = std::move(e->block_headers_);
      }
      e->block_headers_.clear();
      if (end_stream) e->in_eof_ = true;
      e->read_wake_.notify();
      return 0;
    }
    case NGHTTP2_DATA:
      if (!end_stream) return 0;
      if (ClientExchange* e = find(frame.hd.stream_id)) {
        e->in_eof_ = true;
        e->read_wake_.notify();
      }
      return 0;
    default:
      return 0;
  }
}

int ClientCore::onDataChunk(int32_t id, const uint8_t* data, size_t size) {
  ClientExchange* e = find(id);
  if (!e || e->error_) {
    nghttp2_session_consume(session(), id, size);
    return 0;
  }
  e->inbound_.append(reinterpret_cast<const char*>(data), size);
  e->unconsumed_ += size;
  e->read_wake_.notify();
  return 0;
}

int ClientCore::onStreamClose(int32_t id, uint32_t error_code) {
  ClientExchange* e = find(id);
  if (!e) return 0;
  // Only open streams stay in the map: they are what canOpenStream counts
  // and what a connection failure must fail.
  exchanges_.erase(id);
  e->closed_ = true;
  e->releaseWindow();
  if (!e->in_eof_ || !e->got_head_) {
    if (error_code == NGHTTP2_REFUSED_STREAM) {
      // The upstream did not process the request (RFC 9113 section 8.7).
      e->fail(upstreamError(ErrorCode::kUnavailable, "upstream refused the http2 stream", true),
              std::nullopt);
    } else {
      e->fail(upstreamError(ErrorCode::kClosed, std::string("upstream http2 stream reset: ") +
                                                    nghttp2_http2_strerror(error_code)),
              std::nullopt);
    }
  } else {
    e->outbound_.clear();
    e->write_wake_.notify();
  }
  return 0;
}

ssize_t ClientCore::readData(int32_t id, uint8_t* buffer, size_t length, uint32_t* flags) {
  ClientExchange* e = find(id);
  if (!e || e->error_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t before = e->outbound_.size();
  size_t n = e->outbound_.take(buffer, length);
  if (before > kHttp2SendHighWater && e->outbound_.size() <= kHttp2SendHighWater) {
    e->write_wake_.notify();
  }
  if (e->outbound_.empty() && e->out_eof_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

std::unique_ptr<UpstreamExchange> ClientConnectionImpl::newExchange() {
  return std::make_unique<ClientExchange>(shared_from_this(), *core_);
}

}  // namespace

Task<Result<std::shared_ptr<Http2ClientConnection>>> Http2ClientConnection::start(
    std::unique_ptr<net::Stream> stream) {
  auto executor = co_await asio::this_coro::executor;
  auto core = std::make_shared<ClientCore>(std::move(stream), executor);
  if (auto r = core->init(); !r) co_return r.error();
  if (auto r = co_await core->sendPreface(); !r) co_return r.error();
  core->startLoops();
  co_return std::shared_ptr<Http2ClientConnection>(std::make_shared<ClientConnectionImpl>(core));
}

}  // namespace gatehouse::http

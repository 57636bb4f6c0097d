// HTTP/2 server and client against each other over real loopback TCP
// connections, all inside one io_context.

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "http/exchange.h"
#include "http/handler.h"
#include "http/http2_client.h"
#include "http/http2_server.h"
#include "http/http2_session.h"
#include "net/stream_factory.h"

namespace gatehouse::http {
namespace {

using namespace std::chrono_literals;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Fails the current test and leaves the coroutine.
#define CO_ASSERT(cond)                          \
  if (!(cond)) {                                 \
    ADD_FAILURE() << "assertion failed: " #cond; \
    co_return;                                   \
  }

// A one-shot event several coroutines can wait for.
class Event {
 public:
  explicit Event(asio::io_context& io) : timer_(io, net::Clock::time_point::max()) {}
  Task<void> wait() {
    while (!set_) co_await timer_.async_wait(kAwait);
  }
  void fire() {
    set_ = true;
    timer_.cancel();
  }
  bool isSet() const { return set_; }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

std::string pattern(size_t offset, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (offset + i) % 26);
  return out;
}

// What the test handler saw, for the assertions.
struct Observed {
  explicit Observed(asio::io_context& io)
      : sink_release(io),
        sink_started(io),
        reset_data(io),
        reset_done(io),
        barrier(io),
        ignore_arrived(io),
        ignore_release(io) {}
  Event sink_release;
  Event sink_started;
  size_t sink_first_piece = 0;
  size_t sink_total = 0;
  Event reset_data;
  Event reset_done;
  std::optional<Error> reset_error;
  std::string reset_target;
  bool reset_send_failed = false;
  Event barrier;
  int barrier_arrived = 0;
  int barrier_size = 0;
  int malformed_calls = 0;
  int counted = 0;
  int ignore_expected = 0;
  int ignore_count = 0;
  Event ignore_arrived;
  Event ignore_release;
};

class TestHandler final : public Handler {
 public:
  explicit TestHandler(Observed& observed) : observed_(observed) {}

  Task<void> handle(ServerExchange& exchange) override {
    const RequestHead& r = exchange.request();
    std::string path = r.target.substr(0, r.target.find('?'));
    if (path == "/echo") co_return co_await echo(exchange);
    if (path == "/big") co_return co_await big(exchange);
    if (path == "/grpc") co_return co_await grpc(exchange);
    if (path == "/sink") co_return co_await sink(exchange);
    if (path == "/reset") co_return co_await reset(exchange);
    if (path == "/count") ++observed_.counted;
    if (path == "/ignore") {
      // Answers without reading the request body, once the test says so.
      if (++observed_.ignore_count == observed_.ignore_expected) observed_.ignore_arrived.fire();
      co_await observed_.ignore_release.wait();
    }
    if (path == "/barrier") {
      if (++observed_.barrier_arrived == observed_.barrier_size) observed_.barrier.fire();
      co_await observed_.barrier.wait();
    }
    if (path == "/unfinished") {
      (void)exchange.sendHead(ResponseHead{200, {}}, std::nullopt, false);
      (void)co_await exchange.sendBody("partial");
      co_return;  // no finish(): the stream must be reset
    }
    if (path == "/describe") {
      std::string body = "method=" + r.method + " scheme=" + r.scheme +
                         " authority=" + r.authority + " target=" + r.target +
                         " version=" + std::to_string(r.version) +
                         " has_body=" + (r.has_body ? "1" : "0") + "\n";
      for (const auto& f : r.headers.fields()) body += f.name + ": " + f.value + "\n";
      (void)co_await respond(exchange, ResponseHead{200, {}}, body);
      co_return;
    }
    ResponseHead head{200, {}};
    head.headers.add("Content-Type", "text/plain");
    head.headers.add("Connection", "close");  // must not reach the wire
    (void)co_await respond(exchange, head, "hello");
  }

  Task<void> handleMalformed(ServerExchange& exchange, int status,
                             std::string_view reason) override {
    ++observed_.malformed_calls;
    (void)co_await respond(exchange, ResponseHead{status, {}}, reason);
  }

 private:
  Task<void> echo(ServerExchange& exchange) {
    if (!exchange.sendHead(ResponseHead{200, {}}, std::nullopt, false)) co_return;
    while (true) {
      auto piece = co_await exchange.readBody();
      if (!piece) co_return;
      if (piece->empty()) break;
      if (!co_await exchange.sendBody(*piece)) co_return;
    }
    (void)co_await exchange.finish();
  }

  Task<void> big(ServerExchange& exchange) {
    constexpr size_t kTotal = 10 * 1024 * 1024;
    constexpr size_t kPiece = 64 * 1024;
    if (!exchange.sendHead(ResponseHead{200, {}}, kTotal, false)) co_return;
    for (size_t sent = 0; sent < kTotal; sent += kPiece) {
      if (!co_await exchange.sendBody(pattern(sent, kPiece))) co_return;
    }
    (void)co_await exchange.finish();
  }

  Task<void> grpc(ServerExchange& exchange) {
    std::string request;
    while (true) {
      auto piece = co_await exchange.readBody();
      if (!piece) co_return;
      if (piece->empty()) break;
      request += *piece;
    }
    ResponseHead head{200, {}};
    head.headers.add("content-type", "application/grpc");
    head.headers.add("x-saw-te", std::string(exchange.request().headers.get("te").value_or("")));
    if (!exchange.sendHead(head, std::nullopt, false)) co_return;
    if (!co_await exchange.sendBody("reply:" + request)) co_return;
    Headers trailers;
    trailers.add("grpc-status", "0");
    trailers.add("Grpc-Message", "ok");
    (void)co_await exchange.finish(&trailers);
  }

  // Does not read the upload until the test says so.
  Task<void> sink(ServerExchange& exchange) {
    observed_.sink_started.fire();
    co_await observed_.sink_release.wait();
    while (true) {
      auto piece = co_await exchange.readBody();
      if (!piece) co_return;
      if (piece->empty()) break;
      if (observed_.sink_total == 0) observed_.sink_first_piece = piece->size();
      observed_.sink_total += piece->size();
    }
    (void)co_await respond(exchange, ResponseHead{200, {}}, std::to_string(observed_.sink_total));
  }

  Task<void> reset(ServerExchange& exchange) {
    while (true) {
      auto piece = co_await exchange.readBody();
      if (!piece) {
        observed_.reset_error = piece.error();
        break;
      }
      if (piece->empty()) break;
      observed_.reset_data.fire();
    }
    // The exchange stays valid after the client reset the stream.
    observed_.reset_target = exchange.request().target;
    auto sent = exchange.sendHead(ResponseHead{200, {}}, std::nullopt, false);
    observed_.reset_send_failed = !sent;
    observed_.reset_done.fire();
  }

  Observed& observed_;
};

struct Reply {
  int status = 0;
  Headers headers;
  std::string body;
  bool has_body = false;
  std::optional<Headers> trailers;
};

Task<Result<Reply>> fetch(Http2ClientConnection& connection, std::string method, std::string target,
                          std::string body = "", Headers headers = {}) {
  auto exchange = connection.newExchange();
  exchange->setTimeouts(10s, 10s);
  RequestHead head;
  head.method = std::move(method);
  head.authority = "test.example";
  head.target = std::move(target);
  head.headers = std::move(headers);
  head.has_body = !body.empty();
  if (auto r = exchange->sendHead(head, body.size()); !r) co_return r.error();
  if (!body.empty()) {
    if (auto r = co_await exchange->sendBody(body); !r) co_return r.error();
  }
  if (auto r = co_await exchange->finishRequest(); !r) co_return r.error();
  auto response = co_await exchange->readResponse();
  if (!response) co_return response.error();
  Reply reply;
  reply.status = response->status;
  reply.headers = response->headers;
  reply.has_body = exchange->responseHasBody();
  while (true) {
    auto piece = co_await exchange->readBody();
    if (!piece) co_return piece.error();
    if (piece->empty()) break;
    reply.body += *piece;
  }
  if (exchange->trailers()) reply.trailers = *exchange->trailers();
  co_return reply;
}

// A deliberately lax HTTP/2 client, straight on nghttp2, which sends
// whatever it is given (nghttp2 does not check what an application
// submits): for the requests our own client would never produce.
class RawClient {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  struct StreamResult {
    int status = 0;  // the last one
    std::vector<int> statuses;
    std::optional<uint32_t> close_code;
  };

  // `initial_window`: the stream window it grants the server (0 = the
  // server may send no DATA at all).
  explicit RawClient(tcp::socket socket, uint32_t initial_window = 65535)
      : socket_(std::move(socket)) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(
        callbacks, [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* self) {
          if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
            auto& stream = static_cast<RawClient*>(self)->streams[frame->hd.stream_id];
            stream.status = std::stoi(std::string(reinterpret_cast<const char*>(value), valuelen));
            stream.statuses.push_back(stream.status);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        callbacks, [](nghttp2_session*, int32_t id, uint32_t code, void* self) {
          static_cast<RawClient*>(self)->streams[id].close_code = code;
          return 0;
        });
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry window{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &window, 1);
  }
  ~RawClient() { nghttp2_session_del(session_); }

  int32_t submit(const Fields& fields, std::string_view body = {}) {
    // nghttp2 lower-cases the names it copies; NO_COPY_NAME sends them as
    // they are, from strings kept here until the connection ends.
    const Fields& kept = kept_.emplace_back(fields);
    std::vector<nghttp2_nv> nv;
    for (const auto& [name, value] : kept) {
      nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME});
    }
    nghttp2_data_provider provider{};
    provider.source.ptr = &bodies_.emplace_back(body);
    provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source* source, void*) -> ssize_t {
      auto* rest = static_cast<std::string*>(source->ptr);
      size_t n = std::min(length, rest->size());
      std::memcpy(buf, rest->data(), n);
      rest->erase(0, n);
      if (rest->empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    };
    int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                        body.empty() ? nullptr : &provider, nullptr);
    streams[id];
    return id;
  }
  void reset(int32_t id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  }
  // Serialises what was submitted so far (HEADERS leave before a later
  // RST_STREAM for the same stream is submitted).
  void collect() {
    const uint8_t* data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
      pending_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }
  Task<void> flush() {
    collect();
    if (pending_.empty()) co_return;
    co_await asio::async_write(socket_, asio::buffer(pending_), kAwait);
    pending_.clear();
  }
  // Exchanges frames until every stream in `ids` is closed or the
  // connection ends.
  Task<void> waitClosed(const std::vector<int32_t>& ids) {
    co_await waitFor([&] {
      bool all = true;
      for (int32_t id : ids) all = all && streams[id].close_code.has_value();
      return all;
    });
  }
  // Exchanges frames until `done()` or the connection ends.
  template <typename Pred>
  Task<void> waitFor(Pred done) {
    uint8_t buffer[16384];
    while (true) {
      co_await flush();
      if (done()) co_return;
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), kAwait);
      if (ec) co_return;
      if (nghttp2_session_mem_recv(session_, buffer, n) < 0) co_return;
    }
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  std::map<int32_t, StreamResult> streams;

 private:
  tcp::socket socket_;
  nghttp2_session* session_ = nullptr;
  std::string pending_;
  std::list<Fields> kept_;
  std::list<std::string> bodies_;
};

RawClient::Fields requestFields(std::string method = "GET", std::string path = "/hello") {
  return {{":method", std::move(method)},
          {":scheme", "http"},
          {":authority", "test.example"},
          {":path", std::move(path)}};
}

RawClient::Fields with(RawClient::Fields fields, std::string name, std::string value) {
  fields.emplace_back(std::move(name), std::move(value));
  return fields;
}

class Http2Test : public ::testing::Test {
 protected:
  Http2Test()
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        observed_(io_),
        handler_(observed_),
        server_done_(io_) {}

  // Accepts one connection and serves it with serveHttp2.
  Task<void> serveOne() {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) co_return;
    co_await serveHttp2(net::makeTcpStream(std::move(socket)), handler_, settings_);
    server_done_.fire();
  }

  Task<tcp::socket> connectRaw() {
    auto socket = co_await net::connectTcp("127.0.0.1", acceptor_.local_endpoint().port(), 5s);
    EXPECT_TRUE(socket.ok());
    co_return std::move(*socket);
  }

  // Starts the server and connects an HTTP/2 client to it (h2c, prior
  // knowledge).
  Task<std::shared_ptr<Http2ClientConnection>> connect() {
    asio::co_spawn(io_, serveOne(), asio::detached);
    auto socket = co_await connectRaw();
    auto client = co_await Http2ClientConnection::start(net::makeTcpStream(std::move(socket)));
    EXPECT_TRUE(client.ok());
    if (!client) co_return nullptr;
    co_return std::move(*client);
  }

  // Closes the client and waits until the server side has returned.
  Task<void> shutdown(std::shared_ptr<Http2ClientConnection>& client) {
    client->close();
    client.reset();
    co_await server_done_.wait();
  }

  // Runs `body` to completion (bounded, so that a hang fails the test).
  template <typename F>
  void run(F body) {
    bool done = false;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      done = true;
      if (e) ADD_FAILURE() << "test coroutine threw";
      io_.stop();
    });
    io_.run_for(30s);
    EXPECT_TRUE(done) << "test did not finish";
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  ConnectionSettings settings_;
  Observed observed_;
  TestHandler handler_;
  Event server_done_;
};

TEST_F(Http2Test, SimpleRequestAndHeaders) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto reply = co_await fetch(*client, "GET", "/hello");
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "hello");
    EXPECT_EQ(reply->headers.get("content-type").value_or(""), "text/plain");
    EXPECT_FALSE(reply->headers.has("connection"));
    EXPECT_FALSE(reply->headers.has("content-length"));  // framing, not a field

    Headers headers;
    headers.add("Cookie", "a=1");
    headers.add("X-Mixed-Case", "v");
    headers.add("cookie", "b=2");
    headers.add("Connection", "keep-alive");
    headers.add("Keep-Alive", "timeout=5");
    auto described = co_await fetch(*client, "GET", "/describe?q=1", "", headers);
    CO_ASSERT(described.ok());
    const std::string& d = described->body;
    EXPECT_NE(d.find("method=GET scheme=http authority=test.example target=/describe?q=1 "
                     "version=20 has_body=0"),
              std::string::npos)
        << d;
    EXPECT_NE(d.find("host: test.example\n"), std::string::npos) << d;
    EXPECT_NE(d.find("cookie: a=1; b=2\n"), std::string::npos) << d;
    EXPECT_NE(d.find("x-mixed-case: v\n"), std::string::npos) << d;
    EXPECT_EQ(d.find("keep-alive"), std::string::npos) << d;
    EXPECT_EQ(d.find("connection"), std::string::npos) << d;
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, HeadResponseHasNoBody) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto reply = co_await fetch(*client, "HEAD", "/hello");
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_FALSE(reply->has_body);
    EXPECT_EQ(reply->body, "");
    EXPECT_EQ(reply->headers.get("content-length").value_or(""), "5");
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, EchoStreamsBothWaysAtOnce) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    // 3 MiB is far more than the windows and queues on both sides: this
    // only completes if sending and receiving overlap.
    constexpr size_t kTotal = 3 * 1024 * 1024;
    constexpr size_t kPiece = 50 * 1000;
    auto exchange = client->newExchange();
    exchange->setTimeouts(10s, 10s);
    RequestHead head;
    head.method = "POST";
    head.authority = "test.example";
    head.target = "/echo";
    head.has_body = true;
    CO_ASSERT(exchange->sendHead(head, std::nullopt).ok());
    bool sent_ok = false;
    asio::co_spawn(
        io_,
        [&]() -> Task<void> {
          for (size_t sent = 0; sent < kTotal; sent += kPiece) {
            if (!co_await exchange->sendBody(pattern(sent, std::min(kPiece, kTotal - sent)))) {
              co_return;
            }
          }
          sent_ok = (co_await exchange->finishRequest()).ok();
        },
        asio::detached);
    auto response = co_await exchange->readResponse();
    CO_ASSERT(response.ok());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(exchange->responseLength(), std::nullopt);
    size_t received = 0;
    bool intact = true;
    while (true) {
      auto piece = co_await exchange->readBody();
      CO_ASSERT(piece.ok());
      if (piece->empty()) break;
      intact = intact && *piece == pattern(received, piece->size());
      received += piece->size();
    }
    EXPECT_TRUE(sent_ok);
    EXPECT_EQ(received, kTotal);
    EXPECT_TRUE(intact);
    exchange.reset();
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, StreamsTenMebibyteResponse) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto exchange = client->newExchange();
    RequestHead head;
    head.method = "GET";
    head.authority = "test.example";
    head.target = "/big";
    CO_ASSERT(exchange->sendHead(head, std::nullopt).ok());
    CO_ASSERT((co_await exchange->finishRequest()).ok());
    auto response = co_await exchange->readResponse();
    CO_ASSERT(response.ok());
    EXPECT_EQ(exchange->responseLength(), 10u * 1024 * 1024);
    size_t received = 0;
    size_t largest_piece = 0;
    bool intact = true;
    while (true) {
      auto piece = co_await exchange->readBody();
      CO_ASSERT(piece.ok());
      if (piece->empty()) break;
      intact = intact && *piece == pattern(received, piece->size());
      received += piece->size();
      largest_piece = std::max(largest_piece, piece->size());
    }
    EXPECT_EQ(received, 10u * 1024 * 1024);
    EXPECT_TRUE(intact);
    // The client never holds more than its stream window.
    EXPECT_LE(largest_piece, static_cast<size_t>(kHttp2StreamWindow));
    exchange.reset();
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, UnreadUploadIsHeldBackByFlowControl) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    constexpr size_t kTotal = 10 * 1024 * 1024;
    constexpr size_t kPiece = 64 * 1024;
    auto exchange = client->newExchange();
    RequestHead head;
    head.method = "PUT";
    head.authority = "test.example";
    head.target = "/sink";
    head.has_body = true;
    CO_ASSERT(exchange->sendHead(head, kTotal).ok());
    size_t accepted = 0;
    bool upload_done = false;
    asio::co_spawn(
        io_,
        [&]() -> Task<void> {
          for (size_t sent = 0; sent < kTotal; sent += kPiece) {
            if (!co_await exchange->sendBody(std::string(kPiece, 'u'))) co_return;
            accepted += kPiece;
          }
          upload_done = (co_await exchange->finishRequest()).ok();
        },
        asio::detached);
    co_await observed_.sink_started.wait();
    // Give the client every chance to push more than it may; nothing can
    // be awaited here, the point is that nothing happens.
    asio::steady_timer pause(io_, 300ms);
    co_await pause.async_wait(kAwait);
    EXPECT_FALSE(upload_done);
    // Sent = the server's stream window + the client's queue limit + one piece.
    EXPECT_LE(accepted, static_cast<size_t>(kHttp2StreamWindow) + kHttp2SendHighWater + kPiece);
    observed_.sink_release.fire();
    auto response = co_await exchange->readResponse();
    CO_ASSERT(response.ok());
    std::string body;
    while (true) {
      auto piece = co_await exchange->readBody();
      CO_ASSERT(piece.ok());
      if (piece->empty()) break;
      body += *piece;
    }
    EXPECT_TRUE(upload_done);
    EXPECT_EQ(body, std::to_string(kTotal));
    // What the server had buffered while the handler was not reading.
    EXPECT_GT(observed_.sink_first_piece, 0u);
    EXPECT_LE(observed_.sink_first_piece, static_cast<size_t>(kHttp2StreamWindow));
    exchange.reset();
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, AnswersThatIgnoreTheUploadLeaveTheConnectionUsable) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    // Together these uploads fill the whole connection window with bytes
    // no handler reads: unless the server gives them back when it answers,
    // the upload after them stalls.
    constexpr int kUploads = 8;
    constexpr size_t kTotal = 1024 * 1024;
    constexpr size_t kPiece = 64 * 1024;
    observed_.ignore_expected = kUploads;
    int finished = 0;
    Event all_finished(io_);
    for (int i = 0; i < kUploads; ++i) {
      asio::co_spawn(
          io_,
          [&]() -> Task<void> {
            auto exchange = client->newExchange();
            exchange->setTimeouts(10s, 10s);
            RequestHead head;
            head.method = "POST";
            head.authority = "test.example";
            head.target = "/ignore";
            head.has_body = true;
            bool ok = exchange->sendHead(head, kTotal).ok();
            for (size_t sent = 0; ok && sent < kTotal; sent += kPiece) {
              ok = (co_await exchange->sendBody(std::string(kPiece, 'i'))).ok();
            }
            ok = ok && (co_await exchange->finishRequest()).ok();
            auto response = co_await exchange->readResponse();
            EXPECT_TRUE(ok);
            EXPECT_TRUE(response.ok());
            if (response) EXPECT_EQ(response->status, 200);
            if (++finished == kUploads) all_finished.fire();
          },
          asio::detached);
    }
    co_await observed_.ignore_arrived.wait();
    asio::steady_timer pause(io_, 300ms);  // lets the windows fill up
    co_await pause.async_wait(kAwait);
    observed_.ignore_release.fire();
    co_await all_finished.wait();
    std::string upload = pattern(0, 3 * 1024 * 1024);
    auto echoed = co_await fetch(*client, "POST", "/grpc", upload);  // reads it all, then answers
    CO_ASSERT(echoed.ok());
    EXPECT_TRUE(echoed->body == "reply:" + upload);
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, ConcurrentStreamsOnOneConnection) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    constexpr int kStreams = 20;
    // Every handler waits until all of them have started: only concurrent
    // handling gets past the barrier.
    observed_.barrier_size = kStreams;
    int completed = 0;
    Event all_done(io_);
    for (int i = 0; i < kStreams; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> Task<void> {
            auto reply = co_await fetch(*client, "GET", "/barrier?i=" + std::to_string(i));
            EXPECT_TRUE(reply.ok());
            if (reply) EXPECT_EQ(reply->body, "hello");
            if (++completed == kStreams) all_done.fire();
          },
          asio::detached);
    }
    co_await all_done.wait();
    EXPECT_EQ(observed_.barrier_arrived, kStreams);
    EXPECT_TRUE(client->isAlive());
    EXPECT_TRUE(client->canOpenStream());
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, ClientResetMidBody) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    {
      auto exchange = client->newExchange();
      RequestHead head;
      head.method = "POST";
      head.authority = "test.example";
      head.target = "/reset";
      head.has_body = true;
      CO_ASSERT(exchange->sendHead(head, std::nullopt).ok());
      CO_ASSERT((co_await exchange->sendBody(std::string(100 * 1024, 'r'))).ok());
      co_await observed_.reset_data.wait();
      // Destroying an unfinished exchange resets its stream (CANCEL).
    }
    co_await observed_.reset_done.wait();
    CO_ASSERT(observed_.reset_error.has_value());
    EXPECT_EQ(observed_.reset_error->code, ErrorCode::kClosed);
    EXPECT_EQ(observed_.reset_error->source, ErrorSource::kDownstream);
    EXPECT_EQ(observed_.reset_target, "/reset");
    EXPECT_TRUE(observed_.reset_send_failed);
    // The connection carries on.
    auto reply = co_await fetch(*client, "GET", "/hello");
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->body, "hello");
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, TrailersRoundTrip) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    Headers headers;
    headers.add("content-type", "application/grpc");
    headers.add("te", "trailers");
    auto reply = co_await fetch(*client, "POST", "/grpc", "ping", headers);
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "reply:ping");
    EXPECT_EQ(reply->headers.get("x-saw-te").value_or(""), "trailers");
    CO_ASSERT(reply->trailers.has_value());
    EXPECT_EQ(reply->trailers->get("grpc-status").value_or(""), "0");
    EXPECT_EQ(reply->trailers->get("grpc-message").value_or(""), "ok");
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, UnderscoreHeadersRejectedByDefault) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    Headers headers;
    headers.add("x_pomerium_jwt_assertion", "forged");
    auto reply = co_await fetch(*client, "GET", "/hello", "", headers);
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 400);
    EXPECT_EQ(reply->body, "header name with underscore");
    EXPECT_EQ(observed_.malformed_calls, 1);
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, UnderscoreHeadersDroppedWhenNotRejected) {
  settings_.limits.reject_underscore_headers = false;
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    Headers headers;
    headers.add("x_dropped", "1");
    headers.add("x-kept", "2");
    auto reply = co_await fetch(*client, "GET", "/describe", "", headers);
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body.find("x_dropped"), std::string::npos) << reply->body;
    EXPECT_NE(reply->body.find("x-kept: 2"), std::string::npos) << reply->body;
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, OversizedHeadersGet431) {
  settings_.limits.max_head_bytes = 4096;
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    Headers headers;
    headers.add("x-big", std::string(8000, 'x'));
    auto reply = co_await fetch(*client, "GET", "/hello", "", headers);
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 431);
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, HandlerThatDoesNotFinishResetsStream) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto reply = co_await fetch(*client, "GET", "/unfinished");
    CO_ASSERT(!reply.ok());
    EXPECT_EQ(reply.error().source, ErrorSource::kUpstream);
    EXPECT_NE(reply.error().message.find("INTERNAL_ERROR"), std::string::npos)
        << reply.error().message;
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, IdleConnectionIsClosed) {
  settings_.idle_timeout = 200ms;
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto reply = co_await fetch(*client, "GET", "/hello");
    CO_ASSERT(reply.ok());
    co_await server_done_.wait();
    auto late = co_await fetch(*client, "GET", "/hello");
    EXPECT_FALSE(late.ok());
    EXPECT_FALSE(client->isAlive());
  });
}

TEST_F(Http2Test, ClientTimeoutResetsOnlyThatStream) {
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto exchange = client->newExchange();
    exchange->setTimeouts(200ms, 0s);
    RequestHead head;
    head.method = "GET";
    head.authority = "test.example";
    head.target = "/sink";  // answers only once released
    CO_ASSERT(exchange->sendHead(head, std::nullopt).ok());
    CO_ASSERT((co_await exchange->finishRequest()).ok());
    auto response = co_await exchange->readResponse();
    CO_ASSERT(!response.ok());
    EXPECT_EQ(response.error().code, ErrorCode::kTimeout);
    EXPECT_EQ(response.error().source, ErrorSource::kUpstream);
    observed_.sink_release.fire();
    auto reply = co_await fetch(*client, "GET", "/hello");
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->body, "hello");
    EXPECT_TRUE(client->isAlive());
    exchange.reset();
    co_await shutdown(client);
  });
}

TEST_F(Http2Test, DrainAnswersStreamsInFlightThenEnds) {
  ConnectionTracker tracker;
  settings_.tracker = &tracker;
  run([&]() -> Task<void> {
    auto client = co_await connect();
    CO_ASSERT(client);
    auto exchange = client->newExchange();
    RequestHead head;
    head.method = "GET";
    head.authority = "test.example";
    head.target = "/sink";
    CO_ASSERT(exchange->sendHead(head, std::nullopt).ok());
    CO_ASSERT((co_await exchange->finishRequest()).ok());
    co_await observed_.sink_started.wait();
    tracker.startDrain();  // the connection is busy: it is not closed now
    observed_.sink_release.fire();
    auto response = co_await exchange->readResponse();
    CO_ASSERT(response.ok());
    EXPECT_EQ(response->status, 200);
    auto body = co_await exchange->readBody();
    CO_ASSERT(body.ok());
    EXPECT_EQ(*body, "0");
    // GOAWAY after the last stream, then the server side ends by itself.
    co_await server_done_.wait();
    EXPECT_FALSE(client->isAlive());
    EXPECT_FALSE(client->canOpenStream());
    // Nothing was sent: a caller may retry elsewhere.
    auto late = client->newExchange();
    auto sent = late->sendHead(head, std::nullopt);
    CO_ASSERT(!sent.ok());
    EXPECT_TRUE(sent.error().retryable);
    EXPECT_EQ(sent.error().source, ErrorSource::kUpstream);
  });
}

TEST_F(Http2Test, GarbageInsteadOfPrefaceClosesConnection) {
  run([&]() -> Task<void> {
    asio::co_spawn(io_, serveOne(), asio::detached);
    auto socket = co_await connectRaw();
    std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(request), kAwait);
    char buffer[4096];
    while (true) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kAwait);
      if (ec) break;
    }
    co_await server_done_.wait();
  });
}

TEST_F(Http2Test, MalformedRequestsAreRefused) {
  run([&]() -> Task<void> {
    asio::co_spawn(io_, serveOne(), asio::detached);
    RawClient client(co_await connectRaw());
    int32_t upper = client.submit(with(requestFields(), "X-Upper", "1"));
    int32_t connection = client.submit(with(requestFields(), "connection", "keep-alive"));
    int32_t te = client.submit(with(requestFields(), "te", "gzip"));
    int32_t no_path =
        client.submit({{":method", "GET"}, {":scheme", "http"}, {":authority", "test.example"}});
    int32_t control = client.submit(with(requestFields(), "x-bad", std::string("a\x01z")));
    int32_t space_name = client.submit(with(requestFields(), "x bad", "1"));
    int32_t connect = client.submit({{":method", "CONNECT"}, {":authority", "test.example:443"}});
    int32_t other_host = client.submit(with(requestFields(), "host", "other.example"));
    int32_t good = client.submit(with(requestFields(), "host", "test.example"));
    co_await client.waitClosed(
        {upper, connection, te, no_path, control, space_name, connect, other_host, good});
    for (int32_t id : {upper, connection, te, no_path, control, space_name}) {
      EXPECT_EQ(client.streams[id].status, 0) << "stream " << id;
      EXPECT_EQ(client.streams[id].close_code, std::optional<uint32_t>(NGHTTP2_PROTOCOL_ERROR))
          << "stream " << id;
    }
    EXPECT_EQ(client.streams[connect].status, 501);
    EXPECT_EQ(client.streams[other_host].status, 400);
    EXPECT_EQ(client.streams[good].status, 200);
    EXPECT_EQ(observed_.malformed_calls, 2);
    client.close();
    co_await server_done_.wait();
  });
}

TEST_F(Http2Test, ContinueIsSentWhenTheBodyIsReadAndSkippedByTheClient) {
  run([&]() -> Task<void> {
    asio::co_spawn(io_, serveOne(), asio::detached);
    RawClient raw(co_await connectRaw());
    int32_t id = raw.submit(
        with(with(requestFields("POST", "/grpc"), "expect", "100-continue"), "content-length", "4"),
        "ping");
    co_await raw.waitClosed({id});
    EXPECT_EQ(raw.streams[id].statuses, (std::vector<int>{100, 200}));
    raw.close();
    co_await server_done_.wait();

    // Our client skips the interim answer.
    asio::co_spawn(io_, serveOne(), asio::detached);
    auto socket = co_await connectRaw();
    auto client = co_await Http2ClientConnection::start(net::makeTcpStream(std::move(socket)));
    CO_ASSERT(client.ok());
    Headers headers;
    headers.add("expect", "100-continue");
    auto reply = co_await fetch(**client, "POST", "/grpc", "ping", headers);
    CO_ASSERT(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "reply:ping");
  });
}

TEST_F(Http2Test, ClientVanishingWhileAResponseWaitsForWindowEndsTheConnection) {
  settings_.idle_timeout = 60s;  // longer than the test may take
  run([&]() -> Task<void> {
    asio::co_spawn(io_, serveOne(), asio::detached);
    RawClient raw(co_await connectRaw(), /*initial_window=*/0);
    int32_t id = raw.submit(requestFields("GET", "/big"));
    co_await raw.waitFor([&] { return raw.streams[id].status != 0; });
    EXPECT_EQ(raw.streams[id].status, 200);
    // The handler now waits for window the client will never grant.
    raw.close();
    co_await server_done_.wait();
  });
}

TEST_F(Http2Test, RequestsResetInTheSameReadStartNoHandler) {
  run([&]() -> Task<void> {
    asio::co_spawn(io_, serveOne(), asio::detached);
    RawClient client(co_await connectRaw());
    std::vector<int32_t> ids;
    for (int i = 0; i < 50; ++i) ids.push_back(client.submit(requestFields("GET", "/count")));
    client.collect();
    for (int32_t id : ids) client.reset(id);
    co_await client.flush();
    int32_t last = client.submit(requestFields("GET", "/hello"));
    co_await client.waitClosed({last});
    EXPECT_EQ(client.streams[last].status, 200);
    EXPECT_EQ(observed_.counted, 0);
    client.close();
    co_await server_done_.wait();
  });
}

}  // namespace
}  // namespace gatehouse::http

#include "http/http1_server.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "http/exchange.h"
#include "support/fake_stream.h"

namespace gatehouse::http {
namespace {

using testing::FakeStream;

// Answers every request with its own target as the body: the last piece
// through sendLastNow, and sendLast when that could not send all of it,
// as the proxy does.
class EchoTarget final : public Handler {
 public:
  Task<void> handle(ServerExchange& exchange) override {
    std::string body = "target=" + exchange.request().target;
    ResponseHead head;
    head.headers.add("x-test", "1");
    if (!exchange.sendHead(head, body.size(), false)) co_return;
    auto now = exchange.sendLastNow(body);
    if (now) {
      now_results.push_back(bool(*now));
    } else {
      awaited++;
      (void)co_await exchange.sendLast(body);
    }
  }
  Task<void> handleMalformed(ServerExchange& exchange, int status, std::string_view) override {
    ResponseHead head;
    head.status = status;
    (void)co_await respond(exchange, std::move(head), "");
  }

  std::vector<bool> now_results;
  int awaited = 0;
};

struct Served {
  std::string written;
  std::vector<bool> now_results;
  int awaited = 0;
};

// Two pipelined requests on one connection whose writeNow takes `limit`
// bytes a call.
Served serve(size_t limit) {
  auto stream = std::make_unique<FakeStream>(std::deque<std::string>{
      "GET /one HTTP/1.1\r\nHost: a.test\r\n\r\nGET /two HTTP/1.1\r\nHost: a.test\r\n\r\n"});
  Served served;
  stream->write_now_limit = limit;
  stream->copy_to = &served.written;
  EchoTarget handler;
  ConnectionSettings settings;
  asio::io_context io;
  asio::co_spawn(io, serveHttp1(std::move(stream), handler, settings), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  served.now_results = handler.now_results;
  served.awaited = handler.awaited;
  return served;
}

TEST(Http1Server, TheLastPieceGoesOutOnceWhateverTheSocketTakesAtOnce) {
  const std::string expected =
      "HTTP/1.1 200 OK\r\nx-test: 1\r\nContent-Length: 11\r\n\r\ntarget=/one"
      "HTTP/1.1 200 OK\r\nx-test: 1\r\nContent-Length: 11\r\n\r\ntarget=/two";

  Served all = serve(SIZE_MAX);
  EXPECT_EQ(all.written, expected);
  EXPECT_EQ(all.now_results, (std::vector<bool>{true, true}));
  EXPECT_EQ(all.awaited, 0);

  Served part = serve(10);  // each response is cut after 10 bytes
  EXPECT_EQ(part.written, expected);
  EXPECT_TRUE(part.now_results.empty());
  EXPECT_EQ(part.awaited, 2);

  Served none = serve(0);
  EXPECT_EQ(none.written, expected);
  EXPECT_EQ(none.awaited, 2);
}

TEST(Http1Server, SendLastNowOutsideAResponseIsAnError) {
  class Early final : public Handler {
   public:
    Task<void> handle(ServerExchange& exchange) override {
      auto now = exchange.sendLastNow("x");
      refused = now && !*now;
      ResponseHead head;
      (void)co_await respond(exchange, std::move(head), "ok");
    }
    Task<void> handleMalformed(ServerExchange&, int, std::string_view) override { co_return; }
    bool refused = false;
  } handler;
  auto stream = std::make_unique<FakeStream>(
      std::deque<std::string>{"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"});
  std::string written;
  stream->write_now_limit = SIZE_MAX;
  stream->copy_to = &written;
  ConnectionSettings settings;
  asio::io_context io;
  asio::co_spawn(io, serveHttp1(std::move(stream), handler, settings), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  EXPECT_TRUE(handler.refused);
  EXPECT_EQ(written, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

}  // namespace
}  // namespace gatehouse::http

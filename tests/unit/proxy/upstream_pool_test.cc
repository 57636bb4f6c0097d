#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// A keep-alive HTTP/1.1 server on loopback that answers every request on
// every connection with its own name as the body.
class NamedServer {
 public:
  NamedServer(asio::io_context& io, std::string name)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        name_(std::move(name)) {
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }

 private:
  Task<void> acceptLoop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  Task<void> serve(tcp::socket socket) {
    std::string buffer;
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(name_.size()) + "\r\n\r\n" + name_;
    while (true) {
      auto [ec, n] =
          co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", kAwait);
      if (ec) co_return;
      buffer.erase(0, n);
      auto [wec, written] = co_await asio::async_write(socket, asio::buffer(answer), kAwait);
      if (wec) co_return;
    }
  }

  tcp::acceptor acceptor_;
  std::string name_;
  int connections_ = 0;
};

// One GET through `upstream`; the body, or "" when anything failed. The
// exchange ends here, handing its connection back to the pool.
Task<std::string> get(std::unique_ptr<http::UpstreamExchange> upstream) {
  if (!upstream) co_return "";
  http::RequestHead request;
  request.method = "GET";
  request.target = "/";
  request.authority = "up.test";
  if (!upstream->sendHead(request, std::nullopt)) co_return "";
  if (!co_await upstream->finishRequest()) co_return "";
  auto head = co_await upstream->readResponse();
  if (!head) co_return "";
  std::string body;
  while (true) {
    auto piece = co_await upstream->readBody();
    if (!piece) co_return "";
    if (piece->empty()) break;
    body += *piece;
  }
  co_return body;
}

UpstreamTarget target(uint16_t port, std::string_view server_name = "127.0.0.1") {
  UpstreamTarget t;
  t.scheme = "http";
  t.host = "127.0.0.1";
  t.port = port;
  t.server_name = server_name;
  return t;
}

TEST(UpstreamPool, AnIdleConnectionGoesOnlyToItsOwnTarget) {
  asio::io_context io;
  NamedServer a(io, "a");
  NamedServer b(io, "b");
  UpstreamPool pool;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        // One connection to each, handed back when its exchange ends.
        auto to_a = co_await pool.connect(target(a.port()), 5s);
        EXPECT_TRUE(to_a.ok());
        if (to_a) EXPECT_EQ(co_await get(std::move(*to_a)), "a");
        auto to_b = co_await pool.connect(target(b.port()), 5s);
        EXPECT_TRUE(to_b.ok());
        if (to_b) EXPECT_EQ(co_await get(std::move(*to_b)), "b");
        EXPECT_EQ(pool.idleCount(), 2u);

        // Alternating targets, and the same one twice in a row: each
        // request reuses its own target's connection.
        for (uint16_t port : {a.port(), b.port(), b.port(), a.port(), a.port(), b.port()}) {
          std::string expected = port == a.port() ? "a" : "b";
          EXPECT_EQ(co_await get(pool.reuse(target(port), false)), expected);
        }
        // The same address under another name to verify is another target.
        EXPECT_EQ(pool.reuse(target(a.port(), "other.test"), false), nullptr);
        // A fresh connection is never taken from the idle ones.
        EXPECT_EQ(pool.reuse(target(a.port()), true), nullptr);
        EXPECT_EQ(co_await get(pool.reuse(target(a.port()), false)), "a");
        done = true;
        io.stop();
      },
      asio::detached);
  io.run_for(30s);
  EXPECT_TRUE(done);
  EXPECT_EQ(a.connections(), 1);
  EXPECT_EQ(b.connections(), 1);
}

}  // namespace
}  // namespace gatehouse::proxy

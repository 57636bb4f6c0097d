#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>

#include "net/stream_factory.h"

namespace gatehouse::net {
namespace {

using namespace std::chrono_literals;

// A connected pair on loopback: `server` wrapped as a TcpStream, `client`
// a plain socket.
struct Pair {
  explicit Pair(asio::io_context& io) : client(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acceptor.local_endpoint());
    tcp::socket accepted(io);
    acceptor.accept(accepted);
    // Small kernel buffers, so that a large write cannot go out at once.
    accepted.set_option(asio::socket_base::send_buffer_size(16 * 1024));
    client.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
    server = makeTcpStream(std::move(accepted));
  }
  tcp::socket client;
  std::unique_ptr<Stream> server;
};

std::string pattern(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + i * 7 % 251);
  return s;
}

TEST(TcpStream, AWriteTheSocketTakesOnlyInPartStillSendsEveryByteInOrder) {
  asio::io_context io;
  Pair pair(io);
  std::string a = pattern(300, 'a');
  std::string b = pattern(3 * 1024 * 1024 + 17, 'b');
  std::string c = pattern(1000, 'c');
  std::optional<Result<void>> written;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        asio::const_buffer pieces[] = {asio::buffer(a), asio::buffer(b), asio::buffer(c)};
        written = co_await pair.server->write(std::span<const asio::const_buffer>(pieces));
      },
      asio::detached);
  std::string received(a.size() + b.size() + c.size(), '\0');
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        // Start reading only once the writer has filled the socket.
        asio::steady_timer wait(io, 100ms);
        co_await wait.async_wait(asio::use_awaitable);
        EXPECT_FALSE(written.has_value()) << "the write did not have to wait";
        co_await asio::async_read(pair.client, asio::buffer(received), asio::use_awaitable);
      },
      asio::detached);
  io.run_for(20s);
  ASSERT_TRUE(written.has_value());
  EXPECT_TRUE(written->ok()) << (written->ok() ? "" : written->error().message);
  EXPECT_TRUE(received == a + b + c);
}

TEST(TcpStream, AWriteToAPeerThatWentAwayFailsWithoutASignal) {
  asio::io_context io;
  Pair pair(io);
  // An abortive close: the next send meets a reset, where a blocking
  // sendmsg without MSG_NOSIGNAL would raise SIGPIPE.
  pair.client.set_option(asio::socket_base::linger(true, 0));
  pair.client.close();
  std::optional<Result<void>> last;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        std::string data(64 * 1024, 'x');
        for (int i = 0; i < 50; ++i) {
          last = co_await pair.server->write(data);
          if (!last->ok()) break;
        }
      },
      asio::detached);
  io.run_for(10s);
  ASSERT_TRUE(last.has_value());
  EXPECT_FALSE(last->ok());
}

}  // namespace
}  // namespace gatehouse::net

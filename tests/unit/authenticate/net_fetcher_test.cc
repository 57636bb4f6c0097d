#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "authenticate/oidc/fetcher.h"

namespace gatehouse::authenticate::oidc {
namespace {

// A loopback HTTP/1.1 server for one connection: it records the request
// (head and Content-Length body) and writes `response` verbatim; with an
// empty `response` it answers nothing and waits for the client to go.
struct OneShotServer {
  explicit OneShotServer(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  uint16_t port() const { return acceptor.local_endpoint().port(); }

  Task<void> serve() {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    char buffer[4096];
    boost::system::error_code ec;
    auto read = [&]() -> Task<size_t> {
      auto [error, n] = co_await socket.async_read_some(asio::buffer(buffer),
                                                        asio::as_tuple(asio::use_awaitable));
      ec = error;
      co_return error ? 0 : n;
    };
    size_t head_end = std::string::npos;
    while ((head_end = request.find("\r\n\r\n")) == std::string::npos) {
      size_t n = co_await read();
      if (n == 0) co_return;
      request.append(buffer, n);
    }
    size_t length = 0;
    if (size_t at = request.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(request.substr(at + 16));
    }
    while (request.size() < head_end + 4 + length) {
      size_t n = co_await read();
      if (n == 0) co_return;
      request.append(buffer, n);
    }
    if (response.empty()) {
      while (co_await read() > 0) {
      }
      co_return;
    }
    co_await asio::async_write(socket, asio::buffer(response), asio::as_tuple(asio::use_awaitable));
  }

  tcp::acceptor acceptor;
  std::string request;
  std::string response;
};

Result<FetchResponse> fetchWith(OneShotServer* server, asio::io_context& io, FetchRequest request,
                                NetFetcherOptions options = {}) {
  auto fetcher = NetFetcher::create(options).value();
  std::optional<Result<FetchResponse>> out;
  if (server) asio::co_spawn(io, server->serve(), asio::detached);
  asio::co_spawn(
      io, [&]() -> Task<void> { out.emplace(co_await fetcher->fetch(std::move(request))); },
      asio::detached);
  io.run();
  return std::move(*out);
}

TEST(NetFetcher, SendsTheRequestAndReadsTheWholeResponse) {
  asio::io_context io;
  OneShotServer server(io);
  server.response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
      "11\r\n\r\n{\"ok\":true}";
  FetchRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/token?x=1#frag";
  request.headers.add("Content-Type", "application/x-www-form-urlencoded");
  request.body = "grant_type=refresh_token";
  auto response = fetchWith(&server, io, request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.get("content-type"), "application/json");
  EXPECT_EQ(response->body, "{\"ok\":true}");

  EXPECT_EQ(server.request.rfind("POST /token?x=1 HTTP/1.1\r\n", 0), 0u) << server.request;
  EXPECT_NE(server.request.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(server.request.find("User-Agent: Gatehouse\r\n"), std::string::npos);
  EXPECT_NE(server.request.find("\r\n\r\ngrant_type=refresh_token"), std::string::npos);
}

TEST(NetFetcher, ChunkedBodiesAndRedirectsAreReturnedAsTheyCame) {
  asio::io_context io;
  OneShotServer server(io);
  server.response =
      "HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  FetchRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto response = fetchWith(&server, io, request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->body, "abcde");
}

TEST(NetFetcher, BodyLargerThanTheLimitIsRefused) {
  asio::io_context io;
  OneShotServer server(io);
  server.response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
  FetchRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/jwks";
  NetFetcherOptions options;
  options.max_body_bytes = 10;
  auto response = fetchWith(&server, io, request, options);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kTooLarge);
}

TEST(NetFetcher, NetworkFailuresAndTimeoutsAreRetryable) {
  {
    asio::io_context io;
    uint16_t closed_port = 0;
    {
      OneShotServer closed(io);
      closed_port = closed.port();
    }
    FetchRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
    auto response = fetchWith(nullptr, io, request);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(response.error().retryable);
  }
  {
    asio::io_context io;
    OneShotServer silent(io);  // never answers
    FetchRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/slow?code=secret";
    NetFetcherOptions options;
    options.exchange_timeout = std::chrono::milliseconds(200);
    auto response = fetchWith(&silent, io, request, options);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(response.error().retryable);
    EXPECT_EQ(response.error().message.find("secret"), std::string::npos);
  }
}

TEST(NetFetcher, RefusesUrlsItCannotFetchAndBadCas) {
  asio::io_context io;
  FetchRequest request;
  request.url = "ftp://127.0.0.1/";
  auto response = fetchWith(nullptr, io, request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);

  NetFetcherOptions options;
  options.extra_ca_pem =
      "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  auto bad = NetFetcher::create(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("certificate_authority"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::authenticate::oidc

// Feeds arbitrary bytes, after the client connection preface and split at
// arbitrary points, to serveHttp2 through an in-memory stream, with a
// handler that reads request bodies and answers with bodies, trailers,
// large bodies that flow control must hold back, or not at all.
// Crashes, sanitizer reports and hangs are the failures.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/exchange.h"
#include "http/handler.h"
#include "http/http2_server.h"
#include "support/fake_stream.h"

using namespace gatehouse;

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class FuzzHandler final : public http::Handler {
 public:
  Task<void> handle(http::ServerExchange& exchange) override {
    const http::RequestHead& r = exchange.request();
    char mode = r.target.size() > 1 ? r.target[1] : '/';
    size_t total = 0;
    while (total < 1024 * 1024) {
      auto piece = co_await exchange.readBody();
      if (!piece || piece->empty()) break;
      total += piece->size();
    }
    if (mode == 'n') co_return;  // unanswered: the server resets the stream
    http::ResponseHead head{200, {}};
    head.headers.add("x-path", r.target);
    if (!exchange.sendHead(head, std::nullopt, r.method == "HEAD")) co_return;
    if (mode == 'b') {
      // More than a stream window: flow control has to hold it back.
      std::string chunk(100 * 1024, 'b');
      for (int i = 0; i < 4; ++i) {
        if (!co_await exchange.sendBody(chunk)) co_return;
      }
    } else if (!co_await exchange.sendBody(std::to_string(total))) {
      co_return;
    }
    http::Headers trailers;
    trailers.add("grpc-status", "0");
    (void)co_await exchange.finish(mode == 't' ? &trailers : nullptr);
  }

  Task<void> handleMalformed(http::ServerExchange& exchange, int status,
                             std::string_view reason) override {
    (void)co_await http::respond(exchange, http::ResponseHead{status, {}}, reason);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks where the input is split into reads.
  size_t split = data[0];
  std::string input(kPreface);
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  std::deque<std::string> chunks;
  for (size_t pos = 0; pos < input.size();) {
    size_t len = std::max<size_t>(1, split == 0 ? input.size() : split * 7);
    chunks.push_back(input.substr(pos, len));
    pos += len;
  }

  FuzzHandler handler;
  http::ConnectionSettings settings;
  // A response waiting for a window the input never opens gives up fast.
  settings.idle_timeout = std::chrono::milliseconds(1);
  settings.limits.max_head_bytes = 8 * 1024;
  settings.limits.reject_underscore_headers = (data[0] & 1) == 0;
  asio::io_context io;
  asio::co_spawn(
      io,
      http::serveHttp2(std::make_unique<testing::FakeStream>(std::move(chunks)), handler, settings),
      asio::detached);
  io.run();
  return 0;
}

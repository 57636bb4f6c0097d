// Feeds arbitrary bytes, split at arbitrary points, to the HTTP/1 request
// reader (head validation, Beast parsing, body decoding), then normalises
// the target as the proxy would. Crashes, sanitizer reports and hangs are
// the failures.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string>

#include "http/http1_reader.h"
#include "http/path_normalizer.h"
#include "support/fake_stream.h"

using namespace gatehouse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks where the input is split into reads.
  size_t split = data[0];
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::deque<std::string> chunks;
  for (size_t pos = 0; pos < input.size();) {
    size_t len = std::max<size_t>(1, split == 0 ? input.size() : split);
    chunks.push_back(input.substr(pos, len));
    pos += len;
  }
  testing::FakeStream stream(std::move(chunks));
  http::Http1Reader reader(stream, 512);
  http::Http1Limits limits;
  limits.max_head_bytes = 8192;
  asio::io_context io;
  asio::co_spawn(io, [&]() -> Task<void> {
    for (int request = 0; request < 4; ++request) {
      http::RequestHead head;
      auto got = co_await reader.readRequest(head, limits, std::chrono::seconds(1));
      if (!got || !*got) co_return;
      http::PathNormalizerOptions options;
      (void)http::normalizeTarget(head.target, options);
      size_t total = 0;
      while (true) {
        auto piece = co_await reader.readBody();
        if (!piece) co_return;
        if (piece->empty()) break;
        total += piece->size();
      }
      (void)total;
    }
  }, asio::detached);
  io.run();
  return 0;
}

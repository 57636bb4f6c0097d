#pragma once

// An in-memory net::Stream for unit tests and fuzz targets: reads come from
// scripted chunks, writes are recorded. Not for anything but tests.

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "net/stream.h"

namespace gatehouse::testing {

class FakeStream final : public net::Stream {
 public:
  explicit FakeStream(std::deque<std::string> chunks = {}) : chunks_(std::move(chunks)) {}

  void push(std::string chunk) { chunks_.push_back(std::move(chunk)); }
  const std::string& written() const { return written_; }

  // writeNow takes at most this many bytes a call; 0 (the default) makes it
  // take none, as a stream that cannot write without waiting does.
  size_t write_now_limit = 0;
  // Where writes are also recorded, for a test whose stream is owned (and
  // destroyed) by the code under test.
  std::string* copy_to = nullptr;

  Task<Result<size_t>> readSome(asio::mutable_buffer buffer) override {
    if (closed_) co_return Error{ErrorCode::kClosed, ErrorSource::kDownstream, "closed", false};
    while (!chunks_.empty() && chunks_.front().empty()) chunks_.pop_front();
    if (chunks_.empty()) co_return size_t{0};
    std::string& front = chunks_.front();
    size_t n = std::min(buffer.size(), front.size());
    std::memcpy(buffer.data(), front.data(), n);
    front.erase(0, n);
    co_return n;
  }
  Task<Result<void>> write(std::span<const asio::const_buffer> buffers) override {
    if (closed_) co_return Error{ErrorCode::kClosed, ErrorSource::kDownstream, "closed", false};
    for (const auto& b : buffers) record(static_cast<const char*>(b.data()), b.size());
    co_return Result<void>();
  }
  Result<size_t> writeNow(std::span<const asio::const_buffer> buffers) override {
    if (closed_) return Error{ErrorCode::kClosed, ErrorSource::kDownstream, "closed", false};
    size_t n = 0;
    for (const auto& b : buffers) {
      size_t take = std::min(b.size(), write_now_limit - n);
      record(static_cast<const char*>(b.data()), take);
      n += take;
      if (n == write_now_limit) break;
    }
    return n;
  }
  using net::Stream::write;
  Task<void> shutdownSend() override { co_return; }
  void close() override { closed_ = true; }
  bool isOpen() const override { return !closed_; }
  void setDeadline(net::Clock::time_point) override {}
  bool peerClosedOrDirty() override { return false; }
  tcp::endpoint remoteEndpoint() const override {
    return tcp::endpoint(asio::ip::make_address_v4("192.0.2.1"), 40000);
  }
  tcp::endpoint localEndpoint() const override {
    return tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 443);
  }

 private:
  void record(const char* data, size_t size) {
    written_.append(data, size);
    if (copy_to != nullptr) copy_to->append(data, size);
  }

  std::deque<std::string> chunks_;
  std::string written_;
  bool closed_ = false;
};

}  // namespace gatehouse::testing

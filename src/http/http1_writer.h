#pragma once

#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "net/asio.h"

namespace gatehouse::http {

// Writes a message head at the end of `out` (a buffer that keeps its
// storage from one message to the next) with one size change: the caller
// gives an upper bound of what it writes, the pieces are copied in, and
// done() cuts `out` to what was written.
class HeadWriter {
 public:
  HeadWriter(std::string& out, size_t upper_bound) : out_(out) {
    size_t at = out.size();
    out.resize(at + upper_bound);
    next_ = out.data() + at;
    end_ = out.data() + out.size();
  }
  HeadWriter(const HeadWriter&) = delete;
  HeadWriter& operator=(const HeadWriter&) = delete;

  HeadWriter& put(std::string_view text) {
    assert(text.size() <= static_cast<size_t>(end_ - next_));
    std::memcpy(next_, text.data(), text.size());
    next_ += text.size();
    return *this;
  }
  HeadWriter& put(uint64_t number) {
    assert(end_ - next_ >= 20);
    next_ = std::to_chars(next_, next_ + 20, number).ptr;
    return *this;
  }
  // "name: value" CRLF: what field() adds to an upper bound.
  static constexpr size_t kFieldExtra = 4;
  HeadWriter& field(std::string_view name, std::string_view value) {
    return put(name).put(": ").put(value).put("\r\n");
  }
  void done() { out_.resize(static_cast<size_t>(next_ - out_.data())); }

 private:
  std::string& out_;
  char* next_;
  char* end_;
};

// The buffers of one write that sends what is buffered in `pending` (a
// message head not yet sent, or nothing) and one piece of body, framed as a
// chunk when `chunked`; with `last`, the end of a chunked body too.
// `scratch` holds the chunk-size line so that its storage is reused across
// pieces. A plain value rather than a coroutine that writes, so that a
// body piece costs one coroutine (the stream's write) instead of two; it
// must outlive that write. Shared by the HTTP/1 server (responses) and
// upstream client (requests).
class BodyPieceBuffers {
 public:
  BodyPieceBuffers(const std::string& pending, std::string& scratch, std::string_view data,
                   bool chunked, bool last = false);
  std::span<const asio::const_buffer> buffers() const { return {items_, count_}; }

 private:
  asio::const_buffer items_[4];
  size_t count_ = 0;
};

}  // namespace gatehouse::http

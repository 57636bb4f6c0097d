#pragma once

#include <span>
#include <string>
#include <string_view>

#include "net/asio.h"

namespace gatehouse::http {

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

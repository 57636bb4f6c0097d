#include "http/http1_writer.h"

#include <charconv>

namespace gatehouse::http {

BodyPieceBuffers::BodyPieceBuffers(const std::string& pending, std::string& scratch,
                                   std::string_view data, bool chunked, bool last) {
  items_[count_++] = asio::buffer(pending);
  if (!chunked) {
    items_[count_++] = asio::buffer(data);
    return;
  }
  if (data.empty()) {
    // An empty chunk would end the body: only the end itself is written.
    if (last) items_[count_++] = asio::buffer("0\r\n\r\n", 5);
    return;
  }
  char hex[20];
  auto [end, ec] = std::to_chars(hex, hex + sizeof(hex), data.size(), 16);
  (void)ec;
  scratch.assign(hex, end);
  scratch += "\r\n";
  items_[count_++] = asio::buffer(scratch);
  items_[count_++] = asio::buffer(data);
  items_[count_++] = last ? asio::buffer("\r\n0\r\n\r\n", 7) : asio::buffer("\r\n", 2);
}

}  // namespace gatehouse::http

#include "http/http1_writer.h"

#include <charconv>

namespace gatehouse::http {

Task<Result<void>> writeBodyPiece(net::Stream& stream, std::string& pending, std::string& scratch,
                                  std::string_view data, bool chunked) {
  if (!chunked) {
    asio::const_buffer buffers[] = {asio::buffer(pending), asio::buffer(data)};
    auto r = co_await stream.write(std::span<const asio::const_buffer>(buffers));
    pending.clear();
    co_return r;
  }
  char hex[20];
  auto [end, ec] = std::to_chars(hex, hex + sizeof(hex), data.size(), 16);
  (void)ec;
  scratch.assign(hex, end);
  scratch += "\r\n";
  asio::const_buffer buffers[] = {asio::buffer(pending), asio::buffer(scratch), asio::buffer(data),
                                  asio::buffer("\r\n", 2)};
  auto r = co_await stream.write(std::span<const asio::const_buffer>(buffers));
  pending.clear();
  co_return r;
}

}  // namespace gatehouse::http

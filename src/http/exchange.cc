#include "http/exchange.h"

namespace gatehouse::http {

Task<Result<void>> respond(ServerExchange& exchange, ResponseHead head, std::string_view body) {
  bool no_body = exchange.request().method == "HEAD";
  // A HEAD answer carries the length the GET answer would have
  // (RFC 9110 section 9.3.2); the body itself is not sent.
  bool bodyless_status = head.status < 200 || head.status == 204 || head.status == 304;
  if (no_body && !bodyless_status && !head.headers.has("content-length")) {
    head.headers.set("content-length", std::to_string(body.size()));
  }
  if (auto r = exchange.sendHead(head, body.size(), no_body); !r) co_return r;
  std::string_view last = no_body ? std::string_view() : body;
  if (auto now = exchange.sendLastNow(last)) co_return std::move(*now);
  co_return co_await exchange.sendLast(last);
}

}  // namespace gatehouse::http

#include "http/exchange.h"

namespace gatehouse::http {

Task<Result<void>> respond(ServerExchange& exchange, ResponseHead head, std::string_view body) {
  bool no_body = exchange.request().method == "HEAD";
  if (auto r = co_await exchange.sendHead(head, body.size(), no_body); !r) co_return r;
  if (!no_body && !body.empty()) {
    if (auto r = co_await exchange.sendBody(body); !r) co_return r;
  }
  co_return co_await exchange.finish();
}

}  // namespace gatehouse::http

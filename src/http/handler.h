#pragma once

#include "http/exchange.h"

namespace gatehouse::http {

// Serves requests. One instance per worker; handle() runs on that worker
// and must send exactly one response (or leave the exchange unanswered on
// a broken connection, in which case the server closes it).
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Task<void> handle(ServerExchange& exchange) = 0;
  // A response for a request the codec itself refused (malformed, too
  // large) before any handler could run: status plus the request id and
  // headers every Gatehouse response carries.
  virtual Task<void> handleMalformed(ServerExchange& exchange, int status,
                                     std::string_view reason) = 0;
};

}  // namespace gatehouse::http

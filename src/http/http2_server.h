#pragma once

#include <memory>

#include "http/connection_settings.h"
#include "http/handler.h"
#include "net/stream.h"

namespace gatehouse::http {

// Serves one HTTP/2 connection (after ALPN "h2", or prior knowledge): each
// request stream becomes a ServerExchange handled concurrently on the
// connection's worker. Returns when the connection is finished.
Task<void> serveHttp2(std::unique_ptr<net::Stream> stream, Handler& handler,
                      const ConnectionSettings& settings);

}  // namespace gatehouse::http

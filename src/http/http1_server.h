#pragma once

#include <memory>

#include "http/connection_settings.h"
#include "http/handler.h"
#include "net/stream.h"

namespace gatehouse::http {

// Serves one HTTP/1.x connection: reads requests one after another
// (pipelined requests wait in the buffer, answered in order), hands each to
// the handler, and keeps the connection alive when both sides allow it.
// Returns when the connection is finished; the stream is closed then.
Task<void> serveHttp1(std::unique_ptr<net::Stream> stream, Handler& handler,
                      const ConnectionSettings& settings);

}  // namespace gatehouse::http

#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "net/stream.h"

namespace gatehouse::http {

// Writes what is buffered in `pending` (a message head not yet sent, or
// nothing) and one piece of body in a single write, framing the piece as
// a chunk when `chunked`. `pending` is cleared either way; `scratch` holds
// the chunk-size line so that its storage is reused across pieces. Shared
// by the HTTP/1 server (responses) and upstream client (requests).
Task<Result<void>> writeBodyPiece(net::Stream& stream, std::string& pending, std::string& scratch,
                                  std::string_view data, bool chunked);

}  // namespace gatehouse::http

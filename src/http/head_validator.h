#pragma once

#include <cstddef>
#include <string_view>

namespace gatehouse::http {

enum class HeadVerdict {
  kOk,
  kBadRequest,      // ambiguous or malformed framing: 400 and close
  kHeadersTooLarge  // over the byte or count limit: 431 and close
};

struct HeadLimits {
  size_t max_bytes = size_t{64} * 1024;
  size_t max_headers = 100;
};

struct HeadCheck {
  HeadVerdict verdict = HeadVerdict::kOk;
  const char* reason = "";  // static string for logs
};

// Strict checks on a raw HTTP/1.x request head, from the request line up to
// and including the blank line, before it reaches the Beast parser, which is
// more lenient than a proxy can afford to be. Refuses: bare LF line endings,
// obs-fold continuation lines, NUL and other control bytes, whitespace
// before the colon, empty or non-token header names, more than `max_headers`
// fields. The Content-Length / Transfer-Encoding rules are checked on the
// parsed fields by the HTTP/1 server.
HeadCheck validateRequestHead(std::string_view head, const HeadLimits& limits);

}  // namespace gatehouse::http

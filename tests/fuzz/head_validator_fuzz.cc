// Fuzzes validateRequestHead. Beyond not crashing, a head it accepts must
// have the properties the HTTP/1 parser behind it relies on: CRLF line
// endings only, no NUL, no obs-fold, and no more fields than the limit.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http/head_validator.h"

namespace {

using gatehouse::http::HeadCheck;
using gatehouse::http::HeadLimits;
using gatehouse::http::HeadVerdict;
using gatehouse::http::validateRequestHead;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void checkAccepted(std::string_view head, const HeadLimits& limits) {
  // Empty lines before the request line are allowed and are not fields.
  size_t start = 0;
  while (head.substr(start, 2) == "\r\n") start += 2;
  const size_t end = head.find("\r\n\r\n", start);
  if (end == std::string_view::npos) fail("accepted a head without an empty line");
  if (end + 4 > limits.max_bytes) fail("accepted a head over the byte limit");
  const std::string_view lines = head.substr(start, end + 2 - start);
  size_t line_count = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const char c = lines[i];
    if (c == '\0') fail("accepted a NUL");
    if (c == '\n' && (i == 0 || lines[i - 1] != '\r')) fail("accepted a bare LF");
    if (c == '\r' && (i + 1 >= lines.size() || lines[i + 1] != '\n')) fail("accepted a bare CR");
    if (c == '\n') {
      ++line_count;
      if (i + 1 < lines.size() && (lines[i + 1] == ' ' || lines[i + 1] == '\t')) {
        fail("accepted obs-fold");
      }
    }
  }
  // One request line, then the fields.
  if (line_count == 0) fail("accepted a head without a request line");
  if (line_count - 1 > limits.max_headers) fail("accepted more fields than the limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first two bytes pick small limits, so that the limit paths are hit.
  HeadLimits limits;
  limits.max_headers = data[0] % 16;
  limits.max_bytes = 16 + static_cast<size_t>(data[1]) * 8;
  const std::string_view head(reinterpret_cast<const char*>(data + 2), size - 2);
  const HeadCheck result = validateRequestHead(head, limits);
  if (result.reason == nullptr) fail("null reason");
  if (result.verdict == HeadVerdict::kOk) checkAccepted(head, limits);
  // The default limits too, on the same bytes.
  const HeadCheck defaults = validateRequestHead(head, HeadLimits{});
  if (defaults.verdict == HeadVerdict::kOk) checkAccepted(head, HeadLimits{});
  return 0;
}

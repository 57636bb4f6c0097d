#include "http/head_validator.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "http/byte_scan.h"

namespace gatehouse::http {
namespace {

// A field value's accepted prefix, and a request target's (byte_scan.h).
size_t fieldValuePrefix(std::string_view text) {
  const char* end = text.data() + text.size();
  return static_cast<size_t>(skipFieldValueBytes(text.data(), end) - text.data());
}

size_t targetPrefix(std::string_view text) {
  const char* end = text.data() + text.size();
  return static_cast<size_t>(skipTargetBytes(text.data(), end) - text.data());
}

constexpr HeadCheck bad(const char* reason) { return {HeadVerdict::kBadRequest, reason}; }
constexpr HeadCheck tooLarge(const char* reason) { return {HeadVerdict::kHeadersTooLarge, reason}; }

// One CRLF-terminated line of the head: [begin, end) without the CRLF.
struct Line {
  size_t begin = 0;
  size_t end = 0;
  const char* error = nullptr;  // set when the line is not CRLF-terminated
  bool incomplete = false;      // the input ended before the line did
};

// Finds the line starting at `pos`. A lone LF or CR is an error: a parser
// that accepts bare LF and one that does not see different header sets in
// the same bytes, which is the root of request smuggling.
Line nextLine(std::string_view head, size_t pos) {
  Line line;
  line.begin = pos;
  const char* base = head.data();
  const auto* cr = static_cast<const char*>(std::memchr(base + pos, '\r', head.size() - pos));
  const size_t cr_at = cr ? static_cast<size_t>(cr - base) : head.size();
  if (std::memchr(base + pos, '\n', cr_at - pos) != nullptr) {
    line.error = "bare LF line ending";
    return line;
  }
  if (cr && cr_at + 1 < head.size()) {
    if (head[cr_at + 1] != '\n') {
      line.error = "bare CR in request head";
      return line;
    }
    line.end = cr_at;
    return line;
  }
  line.error = "request head is not terminated by an empty line";
  line.incomplete = true;
  return line;
}

// method SP request-target SP HTTP-version, with exactly one space between
// the parts (RFC 9112 section 3; the lenient "any whitespace" parsing it
// allows is what this pre-scan exists to refuse).
HeadCheck checkRequestLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && isTokenByte(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0) return bad("request method is not a token");
  if (i >= line.size() || line[i] != ' ') return bad("malformed request line");
  ++i;
  const size_t target_begin = i;
  i += targetPrefix(line.substr(i));
  if (i == target_begin) return bad("empty request target");
  if (i >= line.size() || line[i] != ' ') return bad("malformed request line");
  ++i;
  const std::string_view version = line.substr(i);
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9') {
    return bad("unsupported HTTP version in request line");
  }
  return {};
}

HeadCheck checkFieldLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    // obs-fold (RFC 9112 section 5.2): a server must reject it or replace
    // it; rejecting leaves no doubt about where a field value ends.
    return bad("obs-fold or leading whitespace in header line");
  }
  size_t i = 0;
  while (i < line.size() && line[i] != ':') {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == ' ' || c == '\t') return bad("whitespace before colon in header line");
    if (!isTokenByte(c)) return bad("invalid character in header name");
    ++i;
  }
  if (i >= line.size()) return bad("header line without colon");
  if (i == 0) return bad("empty header name");
  ++i;
  if (i + fieldValuePrefix(line.substr(i)) != line.size()) {
    return bad("control character in header value");
  }
  return {};
}

}  // namespace

HeadCheck validateRequestHead(std::string_view head, const HeadLimits& limits) {
  size_t pos = 0;
  // RFC 9112 section 2.2: a server should ignore empty lines received before
  // the request line (some clients send a CRLF after a POST body).
  while (head.substr(pos, 2) == "\r\n") pos += 2;

  bool request_line = true;
  size_t field_count = 0;
  while (true) {
    if (pos > limits.max_bytes) return tooLarge("request head exceeds the byte limit");
    const Line line = nextLine(head, pos);
    if (line.error != nullptr) {
      // A head that is cut off beyond the limit is too large, not malformed.
      if (line.incomplete && head.size() > limits.max_bytes) {
        return tooLarge("request head exceeds the byte limit");
      }
      return bad(line.error);
    }
    pos = line.end + 2;
    if (pos > limits.max_bytes) return tooLarge("request head exceeds the byte limit");
    const std::string_view text = head.substr(line.begin, line.end - line.begin);
    if (request_line) {
      if (text.empty()) return bad("empty request line");
      const HeadCheck check = checkRequestLine(text);
      if (check.verdict != HeadVerdict::kOk) return check;
      request_line = false;
      continue;
    }
    if (text.empty()) break;  // the blank line that ends the head
    if (++field_count > limits.max_headers) return tooLarge("too many header fields");
    const HeadCheck check = checkFieldLine(text);
    if (check.verdict != HeadVerdict::kOk) return check;
  }
  // Bytes after the blank line belong to the body or the next request and
  // are not examined here.
  return {};
}

}  // namespace gatehouse::http

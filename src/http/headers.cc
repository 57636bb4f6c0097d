#include "http/headers.h"

#include <algorithm>

#include "common/strings.h"

namespace gatehouse::http {

void Headers::addFirst(std::string_view name, std::string_view value) {
  add(name, value);
  std::rotate(fields_.begin(), fields_.begin() + static_cast<ptrdiff_t>(size_ - 1),
              fields_.begin() + static_cast<ptrdiff_t>(size_));
}

size_t Headers::retainedBytes() const {
  size_t bytes = fields_.capacity() * sizeof(Field);
  for (const auto& f : fields_) bytes += heapBytes(f.name) + heapBytes(f.value);
  return bytes;
}

void Headers::set(std::string_view name, std::string_view value) {
  // Usually the field is not there yet (a security header on a response,
  // an identity header on an upstream request): one scan, then an add.
  if (has(name)) remove(name);
  add(name, value);
}

size_t Headers::remove(std::string_view name) {
  return removeIf([&](const Field& f) { return iequals(f.name, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& f : fields()) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

size_t Headers::count(std::string_view name) const {
  auto live = fields();
  return static_cast<size_t>(std::count_if(live.begin(), live.end(),
                                           [&](const Field& f) { return iequals(f.name, name); }));
}

bool Headers::hasToken(std::string_view name, std::string_view token) const {
  for (const auto& f : fields()) {
    if (!iequals(f.name, name)) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (iequals(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

const char* statusReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 421: return "Misdirected Request";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 495: return "SSL Certificate Error";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace gatehouse::http

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::authenticate::oidc {

// An absolute http(s) URL split the way a client needs it to send a
// request: where to connect and what to put in the request line.
struct HttpUrl {
  std::string scheme;     // "http" or "https"
  std::string host;       // lower-case; an IPv6 literal without brackets
  uint16_t port = 0;      // explicit or the scheme's default
  std::string authority;  // the Host header: host[:port], brackets for IPv6
  std::string target;     // origin-form path and query, "/" when empty
};

// Refuses anything but http/https, user information in the authority
// (credentials never travel in identity provider URLs), and control
// characters or spaces anywhere. The fragment is dropped.
Result<HttpUrl> parseHttpUrl(std::string_view text);

// `url` without its query and fragment, for messages: a query may carry
// codes or tokens that must not reach a log.
std::string_view urlForMessages(std::string_view url);

}  // namespace gatehouse::authenticate::oidc

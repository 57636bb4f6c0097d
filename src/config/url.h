#pragma once

// The small URL grammar route `from` and `to` values use: scheme://authority
// followed by an optional path, query and fragment. Deliberately strict: a
// config URL that a browser would "fix up" is more likely a typo.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::config {

struct Url {
  std::string scheme;  // lower-case
  std::string host;    // lower-case; IPv6 literals without brackets
  bool ipv6 = false;
  std::optional<uint16_t> port;
  std::string path;  // "" when the URL has none
  bool has_userinfo = false;
  bool has_query = false;
  bool has_fragment = false;
};

// The error message names what is wrong, without the key path.
Result<Url> parseUrl(std::string_view text);

}  // namespace gatehouse::config

#include "config/url.h"

#include <algorithm>

#include "common/strings.h"
#include "config/parse_context.h"

namespace gatehouse::config {
namespace {

bool isSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// Host names, IPv4 literals and the `*` of a wildcard; underscores appear in
// container and Kubernetes service names, so they are allowed too.
bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '*';
}

bool isIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

}  // namespace

Result<Url> parseUrl(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return Error::invalid(quote(text) + " is not an absolute URL (scheme://host)");
  }
  std::string_view scheme = text.substr(0, sep);
  if (!std::all_of(scheme.begin(), scheme.end(), isSchemeChar)) {
    return Error::invalid(quote(text) + " has an invalid scheme");
  }
  url.scheme = toLower(scheme);

  std::string_view rest = text.substr(sep + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    url.has_userinfo = true;
    authority.remove_prefix(at + 1);
  }

  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error::invalid(quote(text) + " has an unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error::invalid(quote(text) + " has an invalid host");
      has_port = true;
      port = after.substr(1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), isIpv6Char) ||
        host.find(':') == std::string_view::npos) {
      return Error::invalid(quote(text) + " has an invalid IPv6 address");
    }
    url.ipv6 = true;
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return Error::invalid(quote(text) + " has no host");
    if (!std::all_of(host.begin(), host.end(), isHostChar)) {
      return Error::invalid(quote(text) + " has an invalid host");
    }
  }
  url.host = toLower(host);

  if (has_port) {
    auto number = parseUint(port);
    if (!number || *number == 0 || *number > 65535) {
      return Error::invalid(quote(text) + " has an invalid port");
    }
    url.port = static_cast<uint16_t>(*number);
  }

  size_t query = tail.find_first_of("?#");
  url.path = std::string(tail.substr(0, query));
  if (query != std::string_view::npos) {
    std::string_view suffix = tail.substr(query);
    url.has_query = suffix.front() == '?';
    url.has_fragment = suffix.find('#') != std::string_view::npos;
  }
  for (char c : url.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Error::invalid(quote(text) + " has a space or control character in its path");
    }
  }
  return url;
}

}  // namespace gatehouse::config

#include "authenticate/oidc/http_url.h"

#include "config/url.h"

namespace gatehouse::authenticate::oidc {

Result<HttpUrl> parseHttpUrl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Error::invalid("URL has a space or control character");
    }
  }
  auto parsed = config::parseUrl(text);
  if (!parsed) return parsed.error();
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return Error::invalid("URL scheme must be http or https");
  }
  if (parsed->has_userinfo) return Error::invalid("URL must not contain user information");
  if (parsed->host.find('*') != std::string::npos) return Error::invalid("URL host is a wildcard");

  HttpUrl url;
  url.scheme = parsed->scheme;
  url.host = parsed->host;
  const uint16_t default_port = url.scheme == "https" ? 443 : 80;
  url.port = parsed->port.value_or(default_port);
  url.authority = parsed->ipv6 ? "[" + url.host + "]" : url.host;
  if (parsed->port) url.authority += ":" + std::to_string(*parsed->port);

  // The request target is everything after the authority, up to the
  // fragment (which never goes on the wire).
  const size_t authority_start = text.find("://") + 3;
  const size_t tail_start = text.find_first_of("/?#", authority_start);
  std::string_view tail =
      tail_start == std::string_view::npos ? std::string_view() : text.substr(tail_start);
  tail = tail.substr(0, tail.find('#'));
  url.target = std::string(tail);
  if (url.target.empty() || url.target.front() == '?') url.target.insert(0, "/");
  return url;
}

std::string_view urlForMessages(std::string_view url) {
  return url.substr(0, url.find_first_of("?#"));
}

}  // namespace gatehouse::authenticate::oidc

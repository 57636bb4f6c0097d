#pragma once
// Reading and writing cookies: the Cookie request header (RFC 6265 section
// 5.4, as browsers send it) and Set-Cookie values with Pomerium's
// attributes.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::session {

struct CookieAttributes {
  std::string domain;  // "" = host-only
  std::string path = "/";
  std::chrono::seconds max_age{0};  // 0 = a browser-session cookie; < 0 = delete
  bool secure = true;
  bool http_only = true;
  std::string same_site;  // "", "strict", "lax", "none"
};

// Every value of cookie `name` in a Cookie header value, in order (a
// browser may send two cookies of one name with different paths/domains).
std::vector<std::string_view> findCookies(std::string_view header, std::string_view name);
// The same, appended to `out`.
void findCookies(std::string_view header, std::string_view name,
                 std::vector<std::string_view>& out);

// A Set-Cookie header value. `now` gives the Expires date that goes with
// Max-Age, for old clients.
std::string setCookie(std::string_view name, std::string_view value,
                      const CookieAttributes& attributes,
                      std::chrono::system_clock::time_point now);

// A Set-Cookie value that deletes the cookie (same name, path and domain).
std::string clearCookie(std::string_view name, const CookieAttributes& attributes);

// A cookie value is what RFC 6265 allows unquoted: no spaces, quotes,
// commas, semicolons or backslashes, no controls.
bool isCookieValue(std::string_view value);

}  // namespace gatehouse::session

#include "session/cookie.h"

#include <ctime>

namespace gatehouse::session {
namespace {

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string httpDate(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

void appendAttributes(std::string& out, const CookieAttributes& a) {
  out += "; Path=";
  out += a.path;
  if (!a.domain.empty()) {
    out += "; Domain=";
    out += a.domain;
  }
  if (a.secure) out += "; Secure";
  if (a.http_only) out += "; HttpOnly";
  if (a.same_site == "strict") out += "; SameSite=Strict";
  if (a.same_site == "lax") out += "; SameSite=Lax";
  if (a.same_site == "none") out += "; SameSite=None";
}

}  // namespace

std::vector<std::string_view> findCookies(std::string_view header, std::string_view name) {
  std::vector<std::string_view> out;
  findCookies(header, name, out);
  return out;
}

void findCookies(std::string_view header, std::string_view name,
                 std::vector<std::string_view>& out) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = trimSpaces(header.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trimSpaces(pair.substr(0, eq)) == name) {
      std::string_view value = trimSpaces(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      out.push_back(value);
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
}

std::string setCookie(std::string_view name, std::string_view value,
                      const CookieAttributes& attributes,
                      std::chrono::system_clock::time_point now) {
  std::string out;
  out.reserve(name.size() + value.size() + 128);
  out += name;
  out += '=';
  out += value;
  if (attributes.max_age.count() > 0) {
    out += "; Expires=";
    out += httpDate(now + attributes.max_age);
    out += "; Max-Age=";
    out += std::to_string(attributes.max_age.count());
  } else if (attributes.max_age.count() < 0) {
    out += "; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0";
  }
  appendAttributes(out, attributes);
  return out;
}

std::string clearCookie(std::string_view name, const CookieAttributes& attributes) {
  CookieAttributes a = attributes;
  a.max_age = std::chrono::seconds(-1);
  return setCookie(name, "", a, {});
}

bool isCookieValue(std::string_view value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  }
  return true;
}

}  // namespace gatehouse::session

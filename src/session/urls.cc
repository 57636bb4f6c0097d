#include "session/urls.h"

#include <openssl/sha.h>

#include "common/strings.h"

namespace gatehouse::session {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Params parseQuery(std::string_view query, size_t max_params) {
  Params out;
  while (!query.empty() && out.size() < max_params) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      out.emplace_back(unescape(name), unescape(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> findParam(const Params& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string escape(std::string_view text) { return percentEncode(text, false); }

std::string encodeQuery(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += escape(name);
    out += '=';
    out += escape(value);
  }
  return out;
}

std::optional<AbsoluteUrl> parseAbsoluteUrl(std::string_view url) {
  if (url.size() > 8192) return std::nullopt;
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\\') return std::nullopt;
  }
  AbsoluteUrl out;
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  for (char c : url.substr(0, colon)) out.scheme += static_cast<char>(std::tolower(c));
  if (out.scheme != "https" && out.scheme != "http") return std::nullopt;
  std::string_view rest = url.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  out.authority = std::string(authority);
  std::string_view host = authority;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    host = host.substr(1, close - 1);
  } else if (size_t port = host.rfind(':'); port != std::string_view::npos) {
    host = host.substr(0, port);
  }
  if (host.empty()) return std::nullopt;
  for (char c : host) out.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  size_t hash = tail.find('#');
  tail = tail.substr(0, hash);
  out.path_and_query =
      tail.empty() || tail.front() != '/' ? "/" + std::string(tail) : std::string(tail);
  return out;
}

std::string idpId(std::string_view provider, std::string_view provider_url,
                  std::string_view client_id) {
  std::string input;
  input.append(provider).append("\n").append(provider_url).append("\n").append(client_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace gatehouse::session

#include "authenticate/oidc/form_encoding.h"

#include "common/base64.h"

namespace gatehouse::authenticate::oidc {

std::string formEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~') {
      out += c;
    } else if (byte == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::string formEncode(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += formEscape(name);
    out += '=';
    out += formEscape(value);
  }
  return out;
}

std::string appendQuery(std::string_view url, const Params& params) {
  const size_t hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  const std::string_view fragment = hash == std::string_view::npos ? "" : url.substr(hash);
  std::string out(base);
  const std::string query = formEncode(params);
  if (!query.empty()) {
    if (base.find('?') == std::string_view::npos) {
      out += '?';
    } else if (base.back() != '?' && base.back() != '&') {
      out += '&';
    }
    out += query;
  }
  out += fragment;
  return out;
}

std::string basicAuthorization(std::string_view client_id, std::string_view client_secret) {
  return "Basic " + base64Encode(formEscape(client_id) + ":" + formEscape(client_secret));
}

}  // namespace gatehouse::authenticate::oidc

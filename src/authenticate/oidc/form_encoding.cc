#include "authenticate/oidc/form_encoding.h"

#include "common/base64.h"
#include "common/strings.h"

namespace gatehouse::authenticate::oidc {

std::string formEscape(std::string_view text) { return percentEncode(text, true); }

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

#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::authenticate::oidc {

using Params = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded escaping of one name or value (RFC 6749
// appendix B): letters, digits and "-._~" stay, a space becomes "+", every
// other byte is %XX.
std::string formEscape(std::string_view text);

// name=value pairs joined with "&", each side escaped.
std::string formEncode(const Params& params);

// `url` with `params` appended to its query (after "&" when it already has
// one). A fragment, which authorization endpoints must not have, is kept
// last.
std::string appendQuery(std::string_view url, const Params& params);

// "Basic base64(escape(id):escape(secret))": RFC 6749 section 2.3.1 asks
// that both be form-encoded first, so a secret with ":" or "%" survives.
std::string basicAuthorization(std::string_view client_id, std::string_view client_secret);

}  // namespace gatehouse::authenticate::oidc

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

std::string base64Encode(std::string_view data);
std::string base64UrlEncode(std::string_view data);  // no padding
// Accepts the standard and URL-safe alphabets, with or without padding.
// Whitespace is not allowed (Pomerium refuses it in secrets too).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace gatehouse

#pragma once

// Strict JSON parsing for untrusted JOSE input: JOSE headers, JWT claims,
// JWKs. Not part of the component's public interface.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto::detail {

// Parses `text` as one JSON value and refuses what RFC 7515 and RFC 8725 ask
// a careful implementation to refuse: invalid UTF-8, duplicate member names
// in any object (two parsers could otherwise pick different values for
// "alg" or "aud"), nesting deeper than `max_depth`, and trailing bytes.
Result<nlohmann::json> parseStrictJson(std::string_view text, int max_depth);

// `text` as a JSON string literal, quotes included; invalid UTF-8 becomes
// U+FFFD instead of an exception.
std::string jsonQuote(std::string_view text);

}  // namespace gatehouse::crypto::detail

#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace gatehouse::authenticate::oidc {

// Parses an identity provider's JSON answer: one JSON object, at most
// `max_bytes` long and `max_depth` deep, with no member name twice in any
// object (two readers could otherwise disagree on which value counts).
// Never throws; malformed input is kProtocol, source kUpstream.
Result<nlohmann::json> parseJsonObject(std::string_view text, std::string_view what,
                                       size_t max_bytes = size_t{1} << 20, int max_depth = 32);

// A protocol error from the identity provider: it answered, but not what
// the protocol allows. Not retryable.
Error protocolError(std::string message);

}  // namespace gatehouse::authenticate::oidc

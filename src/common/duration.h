#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

using Duration = std::chrono::nanoseconds;

// Parses a Go duration string ("300ms", "1h30m", "-1.5s", "0"), the syntax
// Pomerium configs use. Returns nullopt on anything Go would refuse.
std::optional<Duration> parseGoDuration(std::string_view text);
std::string formatDuration(Duration d);

}  // namespace gatehouse

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

// The heap bytes a string holds: its capacity beyond the small-string
// buffer, and the terminator, or nothing when it fits in that buffer.
inline size_t heapBytes(const std::string& s) {
  return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}

inline char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string toLower(std::string_view s);
// ASCII case-insensitive equality; inline because header lookups call it
// for every field of every request.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}
bool startsWith(std::string_view s, std::string_view prefix);
bool endsWith(std::string_view s, std::string_view suffix);
std::string_view trim(std::string_view s);
// Splits on `sep`, trimming each part and dropping empty ones.
std::vector<std::string> splitList(std::string_view s, char sep = ',');
std::optional<uint64_t> parseUint(std::string_view s);
// Escapes a string for inclusion in a JSON string literal (without quotes).
void appendJsonEscaped(std::string& out, std::string_view s);
std::string jsonQuote(std::string_view s);
// Escapes text for HTML element content and attribute values.
std::string htmlEscape(std::string_view s);
// Percent-encodes every byte but RFC 3986's unreserved ones (letters,
// digits, "-", ".", "_", "~"), with upper-case hex. `space_as_plus` writes a
// space as "+", as application/x-www-form-urlencoded and Go's
// url.QueryEscape do; otherwise it is "%20".
std::string percentEncode(std::string_view s, bool space_as_plus);

}  // namespace gatehouse

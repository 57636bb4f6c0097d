#pragma once

#include <cstdint>
#include <cstring>
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

// Overwrites a string that is kept for reuse with `v`, which must not point
// into it: within its capacity (nearly always, when the same values come
// message after message) a copy that allocates nothing, rather than the
// general assign (which allows for `v` inside the string). A value no
// longer than the last one sets the length and copies; a longer one is
// appended to the emptied string (a resize would fill it first).
inline void assignKept(std::string& s, std::string_view v) {
  if (v.size() > s.size()) {
    s.clear();
    s.append(v);
    return;
  }
  s.resize(v.size());
  if (!v.empty()) std::memmove(s.data(), v.data(), v.size());
}

inline char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string toLower(std::string_view s);

namespace detail {
// Each byte of `w` in 'A'..'Z' lowered, the others as they are. A byte's
// low seven bits plus a constant set its high bit without a carry into the
// next byte: one constant marks bytes from 'A' up, the other bytes past
// 'Z'; bytes of 0x80 and above are left out.
template <typename Word>
constexpr Word asciiLowerWord(Word w) {
  constexpr Word kOnes = static_cast<Word>(0x0101010101010101ULL);
  const Word low7 = w & (kOnes * 0x7f);
  const Word from_a = low7 + kOnes * (0x80 - 'A');
  const Word past_z = low7 + kOnes * (0x80 - 'Z' - 1);
  const Word upper = (from_a ^ past_z) & ~w & (kOnes * 0x80);
  return w | (upper >> 2);
}

template <typename Word>
bool hasUpperWord(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof(Word));
  return asciiLowerWord(w) != w;
}

template <typename Word>
bool iequalWords(const char* a, const char* b) {
  Word x;
  Word y;
  std::memcpy(&x, a, sizeof(Word));
  std::memcpy(&y, b, sizeof(Word));
  return asciiLowerWord(x) == asciiLowerWord(y);
}
}  // namespace detail

// The n bytes at `a` and at `b` are equal but for ASCII case. Eight bytes
// at a time, the last eight (or the first and last four) overlapping what
// was compared before.
inline bool iequalBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (!detail::iequalWords<uint64_t>(a + i, b + i)) return false;
    }
    return detail::iequalWords<uint64_t>(a + n - 8, b + n - 8);
  }
  if (n >= 4) {
    return detail::iequalWords<uint32_t>(a, b) &&
           detail::iequalWords<uint32_t>(a + n - 4, b + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

// True if a byte of `s` is in 'A'..'Z'. Eight bytes at a time, as
// iequalBytes.
inline bool hasAsciiUpper(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (detail::hasUpperWord<uint64_t>(p + i)) return true;
    }
    return detail::hasUpperWord<uint64_t>(p + n - 8);
  }
  if (n >= 4) return detail::hasUpperWord<uint32_t>(p) || detail::hasUpperWord<uint32_t>(p + n - 4);
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// ASCII case-insensitive equality. Header lookups call it for every field
// of every request, mostly on names of another length: that check stays
// inline in the caller.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequalBytes(a.data(), b.data(), a.size());
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

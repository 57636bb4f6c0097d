#include "http/byte_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace gatehouse::http {
namespace {

// The first byte that `ok` refuses, one byte at a time.
template <typename Ok>
size_t bytewise(const std::string& s, Ok ok) {
  size_t i = 0;
  while (i < s.size() && ok(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

TEST(ByteScan, StopsWhereTheBytewiseCheckStopsForEveryByteAtEveryPlace) {
  // Lengths across one, two and three sixteen-byte blocks and their tails;
  // each byte value at each place, with a second one (HTAB, which a value
  // allows) before it in some strings.
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t at = 0; at < n; ++at) {
      for (int c = 0; c < 256; ++c) {
        for (bool tab_before : {false, true}) {
          std::string s(n, 'v');
          if (tab_before && at > 0) s[at - 1] = '\t';
          s[at] = static_cast<char>(c);
          const char* begin = s.data();
          const char* end = begin + s.size();
          ASSERT_EQ(static_cast<size_t>(skipFieldValueBytes(begin, end) - begin),
                    bytewise(s, isFieldValueByte))
              << n << " " << at << " " << c;
          ASSERT_EQ(static_cast<size_t>(skipTargetBytes(begin, end) - begin),
                    bytewise(s, isTargetByte))
              << n << " " << at << " " << c;
        }
      }
    }
  }
}

TEST(ByteScan, TokenBytesAreRfc9110Tchar) {
  const std::string_view specials = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool special = c != 0 && specials.find(static_cast<char>(c)) != std::string_view::npos;
    EXPECT_EQ(isTokenByte(static_cast<unsigned char>(c)), alnum || special) << c;
  }
}

TEST(ByteScan, ValuesAndTargets) {
  const std::string cookie = "_pomerium=" + std::string(400, 'a') + "\xc3\xa9\t;x\r\n";
  const char* end = cookie.data() + cookie.size();
  EXPECT_EQ(skipFieldValueBytes(cookie.data(), end), end - 2);          // at the CR
  EXPECT_EQ(skipTargetBytes(cookie.data(), end), cookie.data() + 412);  // at the HTAB
  const std::string del = std::string(20, 'x') + "\x7f";
  EXPECT_EQ(skipFieldValueBytes(del.data(), del.data() + del.size()), del.data() + 20);
}

// The end of a head as found one byte at a time.
size_t headEndBytewise(const std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
  }
  return 0;
}

TEST(ByteScan, FindsTheEndOfAHeadWhereTheBytewiseSearchDoes) {
  // Every string of up to nine bytes of CR, LF and another byte, from every
  // place; then the same tails after a run that fills sixteen-byte blocks.
  const char alphabet[] = {'\r', '\n', 'a'};
  for (size_t n = 0; n <= 9; ++n) {
    size_t count = 1;
    for (size_t k = 0; k < n; ++k) count *= 3;
    for (size_t code = 0; code < count; ++code) {
      std::string tail;
      for (size_t k = 0, c = code; k < n; ++k, c /= 3) tail += alphabet[c % 3];
      for (size_t lead : {0, 7, 13, 16, 29}) {
        std::string s = std::string(lead, 'x') + tail;
        for (size_t from = 0; from <= s.size(); ++from) {
          ASSERT_EQ(findHeadEnd(s.data(), s.size(), from), headEndBytewise(s, from))
              << lead << " " << code << " " << from;
        }
      }
    }
  }
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  EXPECT_EQ(findHeadEnd(head.data(), head.size(), 0), 27u);
}

}  // namespace
}  // namespace gatehouse::http

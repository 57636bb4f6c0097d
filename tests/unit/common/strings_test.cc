#include "common/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse {
namespace {

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percentEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(percentEncode("a/b?c=d&e#f%", false), "a%2Fb%3Fc%3Dd%26e%23f%25");
  EXPECT_EQ(percentEncode(std::string_view("\x00\x7f\xff", 3), false), "%00%7F%FF");
  EXPECT_EQ(percentEncode("", true), "");
}

TEST(PercentEncode, SpaceAsPlusOnlyWhenAsked) {
  // application/x-www-form-urlencoded (Go's url.QueryEscape) against a
  // URL component.
  EXPECT_EQ(percentEncode("a b+c", true), "a+b%2Bc");
  EXPECT_EQ(percentEncode("a b+c", false), "a%20b%2Bc");
}

// One byte at a time, as RFC 9110 compares field names: only A-Z and a-z
// match across case.
bool referenceIequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

TEST(Iequals, MatchesTheBytewiseComparisonForEveryByteAtEveryPlace) {
  // Every pair of bytes at every position of strings of 0 to 20 bytes,
  // which covers the word, the half-word and the byte paths and their
  // overlapping tails.
  for (size_t n = 1; n <= 20; ++n) {
    for (size_t at = 0; at < n; ++at) {
      std::string a(n, 'k');
      std::string b(n, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; y += 7) {
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          ASSERT_EQ(iequals(a, b), referenceIequals(a, b))
              << n << " " << at << " " << x << " " << y;
        }
      }
    }
  }
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengtH "));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b and 0x7b differ by case's bit only
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("\xc1", "\xe1"));  // not ASCII letters
}

TEST(HasAsciiUpper, MatchesTheBytewiseCheckForEveryByteAtEveryPlace) {
  for (size_t n = 0; n <= 20; ++n) {
    for (size_t at = 0; at < n; ++at) {
      for (int x = 0; x < 256; ++x) {
        std::string s(n, 'z');
        s[at] = static_cast<char>(x);
        ASSERT_EQ(hasAsciiUpper(s), x >= 'A' && x <= 'Z') << n << " " << at << " " << x;
      }
    }
  }
  EXPECT_FALSE(hasAsciiUpper(""));
  EXPECT_FALSE(hasAsciiUpper("app.example.com:8443"));
  EXPECT_TRUE(hasAsciiUpper("app.example.coM"));
  EXPECT_FALSE(hasAsciiUpper("@[`{\xc1\xda"));  // the neighbours of A-Z, and bytes past 0x80
}

TEST(AssignKept, TakesEveryValueWhateverTheLastOnesLength) {
  // One kept string through values longer, shorter, equal and empty, past
  // its capacity and back, as a reused header field sees them.
  const std::vector<std::string> values = {"abc",
                                           "a much longer value than the small-string buffer holds",
                                           "short",
                                           "",
                                           std::string(300, 'x'),
                                           "x-forwarded-for",
                                           "x-forwarded-for",
                                           "y",
                                           std::string(40, 'z')};
  std::string kept;
  for (const std::string& v : values) {
    size_t capacity = kept.capacity();
    assignKept(kept, v);
    EXPECT_EQ(kept, v);
    EXPECT_EQ(kept.size(), v.size());
    EXPECT_EQ(kept.c_str()[kept.size()], '\0');
    if (v.size() <= capacity) EXPECT_EQ(kept.capacity(), capacity) << "reallocated: " << v;
  }
}

}  // namespace
}  // namespace gatehouse

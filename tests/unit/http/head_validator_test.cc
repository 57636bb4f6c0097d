#include "http/head_validator.h"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::http {
namespace {

HeadVerdict check(std::string_view head, HeadLimits limits = {}) {
  return validateRequestHead(head, limits).verdict;
}

std::string withHeaders(std::string_view fields) {
  return "GET /a HTTP/1.1\r\n" + std::string(fields) + "\r\n";
}

TEST(HeadValidatorTest, AcceptsWellFormedHeads) {
  EXPECT_EQ(check("GET / HTTP/1.1\r\n\r\n"), HeadVerdict::kOk);
  EXPECT_EQ(check("GET /a?b=c HTTP/1.0\r\nHost: example.com\r\n\r\n"), HeadVerdict::kOk);
  EXPECT_EQ(check("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  "X-Empty:\r\nX-Tab:\tvalue\twith tabs\t\r\nX-Obs-Text: caf\xc3\xa9\r\n\r\n"),
            HeadVerdict::kOk);
  EXPECT_EQ(check("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HeadVerdict::kOk);
  EXPECT_EQ(check("GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            HeadVerdict::kOk);
  EXPECT_EQ(check("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
            HeadVerdict::kOk);
}

TEST(HeadValidatorTest, UnderscoresInNamesAreLeftToTheUnderscoreAction) {
  EXPECT_EQ(check(withHeaders("X_Pomerium_Jwt_Assertion: x\r\n")), HeadVerdict::kOk);
}

TEST(HeadValidatorTest, AllTokenCharactersAreValidNames) {
  EXPECT_EQ(check(withHeaders("!#$%&'*+-.^_`|~09azAZ: v\r\n")), HeadVerdict::kOk);
}

TEST(HeadValidatorTest, IgnoresEmptyLinesBeforeTheRequestLine) {
  EXPECT_EQ(check("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), HeadVerdict::kOk);
}

TEST(HeadValidatorTest, DoesNotLookPastTheBlankLine) {
  using namespace std::string_literals;
  EXPECT_EQ(check("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n\0\n\r ab"s), HeadVerdict::kOk);
}

TEST(HeadValidatorTest, RejectsBareLineFeeds) {
  EXPECT_EQ(check("GET / HTTP/1.1\nHost: a\r\n\r\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\n\r\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\r\n\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\n\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-A: 1\nTransfer-Encoding: chunked\r\n")), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, RejectsBareCarriageReturns) {
  EXPECT_EQ(check("GET / HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\rHost: a\r\n\r\n"), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, RejectsObsFold) {
  EXPECT_EQ(check(withHeaders("X-A: 1\r\n continued\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-A: 1\r\n\tcontinued\r\n")), HeadVerdict::kBadRequest);
  // Whitespace before the first field line is the same attack.
  EXPECT_EQ(check(withHeaders(" Host: a\r\n")), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, RejectsNulAndControlBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(check(withHeaders("X-A: a\0b\r\n"s)), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-\0A: b\r\n"s)), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-A: a\x01\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-A: a\x7f\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-A: a\x1b[0m\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET /a\0b HTTP/1.1\r\n\r\n"s), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET /a\x01 HTTP/1.1\r\n\r\n"), HeadVerdict::kBadRequest);
}

// Long values and targets are checked eight bytes at a time: every bad byte
// is found wherever it sits in a word, and every good one passes.
TEST(HeadValidatorTest, LongValuesAndTargetsAreCheckedAtEveryOffset) {
  const std::string value(70, 'v');
  EXPECT_EQ(check(withHeaders("Cookie: " + value + "\t\x80\xff~ " + value + "\r\n")),
            HeadVerdict::kOk);
  for (size_t at = 0; at < 20; ++at) {
    for (char bad : {'\0', '\x01', '\x1f', '\x7f', '\r', '\n'}) {
      std::string dirty = value;
      dirty[at] = bad;
      EXPECT_EQ(check(withHeaders("Cookie: " + dirty + "\r\n")), HeadVerdict::kBadRequest)
          << "byte " << static_cast<int>(bad) << " at " << at;
      std::string target = "/" + value;
      target[at + 1] = bad == '\r' || bad == '\n' ? ' ' : bad;
      EXPECT_EQ(check("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n"), HeadVerdict::kBadRequest)
          << "byte " << static_cast<int>(bad) << " at " << at;
    }
  }
  EXPECT_EQ(check("GET /" + value + "\x80\xff" + value + " HTTP/1.1\r\nHost: a\r\n\r\n"),
            HeadVerdict::kOk);
  EXPECT_STREQ(validateRequestHead(withHeaders("X-A: " + value + "\nX-B: 1\r\n"), {}).reason,
               "bare LF line ending");
  EXPECT_STREQ(validateRequestHead(withHeaders("X-A: " + value + "\rX-B: 1\r\n"), {}).reason,
               "bare CR in request head");
}

TEST(HeadValidatorTest, RejectsWhitespaceBeforeColon) {
  EXPECT_EQ(check(withHeaders("Transfer-Encoding : chunked\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("Content-Length\t: 5\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("Host : a\r\n")), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, RejectsEmptyAndNonTokenNames) {
  EXPECT_EQ(check(withHeaders(": value\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X(A): value\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X/A: value\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X\"A: value\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("X-\xc3\xa9: value\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("no colon here\r\n")), HeadVerdict::kBadRequest);
  EXPECT_EQ(check(withHeaders("NoColon\r\n")), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, RejectsMalformedRequestLines) {
  for (const char* head : {
           "GET  / HTTP/1.1\r\n\r\n",    // double space
           "GET /  HTTP/1.1\r\n\r\n",    // double space
           "GET / HTTP/1.1 \r\n\r\n",    // trailing space
           " GET / HTTP/1.1\r\n\r\n",    // leading space
           "GET\t/ HTTP/1.1\r\n\r\n",    // tab separator
           "GET / HTTP/1.1\t\r\n\r\n",   // tab after version
           "GET /\tx HTTP/1.1\r\n\r\n",  // tab in target
           "GET / HTTP/2.0\r\n\r\n",     // not HTTP/1.x
           "GET / HTTP/1.10\r\n\r\n",    // not one digit
           "GET / http/1.1\r\n\r\n",     // case matters
           "GET / HTTP/1.\r\n\r\n",      // no minor version
           "GET /\r\n\r\n",              // HTTP/0.9
           "GET\r\n\r\n",                // method only
           "G(T / HTTP/1.1\r\n\r\n",     // method not a token
           "/ HTTP/1.1\r\n\r\n",         // no method
           "GET  HTTP/1.1\r\n\r\n",      // empty target
           "\r\n",                       // nothing but an empty line
       }) {
    EXPECT_EQ(check(head), HeadVerdict::kBadRequest) << head;
  }
}

TEST(HeadValidatorTest, RejectsIncompleteHeads) {
  EXPECT_EQ(check(""), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\r\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\r\n"), HeadVerdict::kBadRequest);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\r\n\r"), HeadVerdict::kBadRequest);
}

TEST(HeadValidatorTest, HeaderCountLimit) {
  HeadLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(check(withHeaders("A: 1\r\nB: 2\r\nC: 3\r\n"), limits), HeadVerdict::kOk);
  EXPECT_EQ(check(withHeaders("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), limits),
            HeadVerdict::kHeadersTooLarge);
}

TEST(HeadValidatorTest, ByteLimit) {
  const std::string head = withHeaders("X-Long: " + std::string(100, 'a') + "\r\n");
  HeadLimits limits;
  limits.max_bytes = head.size();
  EXPECT_EQ(check(head, limits), HeadVerdict::kOk);
  limits.max_bytes = head.size() - 1;
  EXPECT_EQ(check(head, limits), HeadVerdict::kHeadersTooLarge);
  // A head cut off past the limit is too large, not malformed.
  limits.max_bytes = 50;
  EXPECT_EQ(check(head.substr(0, 80), limits), HeadVerdict::kHeadersTooLarge);
}

TEST(HeadValidatorTest, DefaultLimitsAreGenerousButEnforced) {
  std::string fields;
  for (int i = 0; i < 100; ++i) fields += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(check(withHeaders(fields)), HeadVerdict::kOk);
  EXPECT_EQ(check(withHeaders(fields + "X-One-More: v\r\n")), HeadVerdict::kHeadersTooLarge);

  const std::string big = withHeaders("X-Big: " + std::string(64 * 1024, 'a') + "\r\n");
  EXPECT_EQ(check(big), HeadVerdict::kHeadersTooLarge);
}

TEST(HeadValidatorTest, ReasonsAreGivenForRejections) {
  const HeadCheck result = validateRequestHead("GET / HTTP/1.1\nHost: a\n\n", {});
  EXPECT_EQ(result.verdict, HeadVerdict::kBadRequest);
  EXPECT_STRNE(result.reason, "");
}

}  // namespace
}  // namespace gatehouse::http

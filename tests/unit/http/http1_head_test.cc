#include "http/http1_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/head_validator.h"

namespace gatehouse::http {
namespace {

using detail::parseHeadWithGeneralParser;

// Whatever the direct split accepts, the general parser reads the same way.
void expectSameAsGeneralParser(std::string_view head, bool request) {
  SCOPED_TRACE(std::string(head));
  HeadFacts fast;
  Headers fast_fields;
  bool split = request ? splitRequestHead(head, HeadLimits{}, fast, fast_fields)
                       : splitResponseHead(head, fast, fast_fields);
  ASSERT_TRUE(split);
  HeadFacts general;
  Headers general_fields;
  ASSERT_TRUE(parseHeadWithGeneralParser(head, request, general, general_fields));
  EXPECT_EQ(fast.method, general.method);
  EXPECT_EQ(fast.target, general.target);
  EXPECT_EQ(fast.status, general.status);
  EXPECT_EQ(fast.version, general.version);
  EXPECT_EQ(fast.content_length, general.content_length);
  EXPECT_FALSE(general.chunked);
  EXPECT_EQ(fast.saw_underscore, general.saw_underscore);
  if (request || fast.content_length) EXPECT_EQ(fast.keep_alive, general.keep_alive);
  ASSERT_EQ(fast_fields.size(), general_fields.size());
  for (size_t i = 0; i < fast_fields.size(); ++i) {
    EXPECT_EQ(fast_fields.fields()[i].name, general_fields.fields()[i].name);
    EXPECT_EQ(fast_fields.fields()[i].value, general_fields.fields()[i].value);
  }
}

bool splits(std::string_view head, bool request) {
  HeadFacts facts;
  Headers fields;
  return request ? splitRequestHead(head, HeadLimits{}, facts, fields)
                 : splitResponseHead(head, facts, fields);
}

TEST(Http1Head, PlainRequestsSplitLikeTheGeneralParser) {
  for (const char* head : {
           "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /x?y=1 HTTP/1.0\r\nHost: a\r\n\r\n",
           "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
           "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nConnection: close\r\n\r\n",
           "PUT /u HTTP/1.1\r\nHost: a\r\ncontent-length:0\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Trim: \t v a l \t\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nx_under: 1\r\nCookie: a=b; c=d\r\nCookie: e=f\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: "
           "h2c\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: close\r\n\r\n",
           "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
           "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX-Obs: \xff\xfe\r\n\r\n",
       }) {
    ASSERT_EQ(validateRequestHead(head, {}).verdict, HeadVerdict::kOk) << head;
    expectSameAsGeneralParser(head, true);
  }
}

TEST(Http1Head, PlainResponsesSplitLikeTheGeneralParser) {
  for (const char* head : {
           "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\n\r\n",
           "HTTP/1.1 204 No Content\r\n\r\n",
           "HTTP/1.0 200 \r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 404 Not\tFound \xe2\x9c\x93\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
           "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 1\r\n\r\n",
       }) {
    expectSameAsGeneralParser(head, false);
  }
}

TEST(Http1Head, AForwardingSplitLeavesOutWhatAProxyRemoves) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nServer: up\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
      "Content-Length: 3\r\nTE: x\r\nUpgrade: y\r\nDate: d\r\n\r\n";
  for (FieldSet set : {FieldSet::kForwarded, FieldSet::kForwardedWithLength}) {
    HeadFacts facts;
    Headers fields;
    ASSERT_TRUE(splitResponseHead(head, facts, fields, set));
    EXPECT_EQ(facts.content_length, 3u);
    EXPECT_TRUE(facts.keep_alive);
    EXPECT_FALSE(facts.connection_names_fields);
    std::vector<std::string> names;
    for (const auto& f : fields.fields()) names.push_back(f.name);
    if (set == FieldSet::kForwarded) {
      EXPECT_EQ(names, (std::vector<std::string>{"Server", "Date"}));
    } else {
      EXPECT_EQ(names, (std::vector<std::string>{"Server", "Content-Length", "Date"}));
    }
  }
  // A 304 keeps the length of the body it describes.
  {
    HeadFacts facts;
    Headers fields;
    ASSERT_TRUE(
        splitResponseHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n"
                          "Connection: keep-alive\r\n\r\n",
                          facts, fields, FieldSet::kForwarded));
    ASSERT_EQ(fields.size(), 1u);
    EXPECT_EQ(fields.fields()[0].name, "Content-Length");
  }
  // A token that names a field is reported: the caller removes that field.
  HeadFacts facts;
  Headers fields;
  ASSERT_TRUE(splitResponseHead("HTTP/1.1 200 OK\r\nConnection: upgrade, X-A\r\n\r\n", facts,
                                fields, FieldSet::kForwarded));
  EXPECT_TRUE(facts.connection_names_fields);
  facts = {};
  ASSERT_TRUE(splitResponseHead("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\n\r\n", facts,
                                fields, FieldSet::kForwarded));
  EXPECT_FALSE(facts.connection_names_fields);
  // A head without its empty line is not split, whatever the set.
  EXPECT_FALSE(splitResponseHead("HTTP/1.1 200 OK\r\nA: b\r\n", facts, fields));
}

TEST(Http1Head, ARequestSplitForForwardingReadsHostUpgradeAndExpect) {
  const std::string head =
      "GET / HTTP/1.1\r\nHost: a:1\r\nConnection: keep-alive, upgrade\r\nUpgrade: websocket\r\n"
      "Expect: 100-continue\r\nX: 1\r\nContent-Length: 0\r\nTE: trailers\r\nHost: b\r\n"
      "Expect: other\r\nUpgrade: h2c\r\n\r\n";
  HeadFacts facts;
  Headers fields;
  ASSERT_TRUE(splitRequestHead(head, HeadLimits{}, facts, fields, FieldSet::kForwardedRequest));
  EXPECT_EQ(facts.host, "a:1");
  EXPECT_EQ(facts.host_count, 2u);
  EXPECT_TRUE(facts.connection_upgrade);
  EXPECT_EQ(facts.upgrade, "websocket");
  EXPECT_EQ(facts.expect, "100-continue");
  EXPECT_EQ(facts.content_length, 0u);
  EXPECT_FALSE(facts.connection_names_fields);
  std::vector<std::string> names;
  for (const auto& f : fields.fields()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Host", "X", "Host"}));
  // Proxy-Connection's tokens end the connection like Connection's, but an
  // upgrade is asked for by Connection alone.
  facts = {};
  fields.clear();
  ASSERT_TRUE(splitRequestHead("GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: upgrade\r\n\r\n",
                               HeadLimits{}, facts, fields, FieldSet::kForwardedRequest));
  EXPECT_FALSE(facts.connection_upgrade);
  EXPECT_FALSE(facts.upgrade.has_value());
  EXPECT_FALSE(facts.expect.has_value());
  // The sets are for one kind of message each.
  EXPECT_FALSE(splitRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r\n", HeadLimits{}, facts, fields,
                                FieldSet::kForwarded));
  EXPECT_FALSE(
      splitResponseHead("HTTP/1.1 200 OK\r\n\r\n", facts, fields, FieldSet::kForwardedRequest));
}

TEST(Http1Head, AnythingBeyondThePlainCaseIsLeftToTheGeneralParser) {
  // Requests (validated heads).
  for (const char* head : {
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nConnection: close;x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nConnection: close,,\r\n\r\n",
           "get / HTTP/1.1\r\nHost: a\r\n\r\n",
           "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
       }) {
    EXPECT_FALSE(splits(head, true)) << head;
  }
  // Responses (checked here).
  for (const char* head : {
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n",
           "HTTP/1.1 200 OK\nContent-Length: 1\n\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\n",
           "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\n\r\n",
           "HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n",
           "HTTP/1.1 200 OK\r\n: a\r\n\r\n",
           "HTTP/1.1 099 Low\r\n\r\n",
           "HTTP/2.0 200 OK\r\n\r\n",
           "HTTP/1.1 200 OK\r\n\r\nextra",
       }) {
    EXPECT_FALSE(splits(head, false)) << head;
  }
}

TEST(Http1Head, ARequestHeadTheCheckRefusesIsNotSplit) {
  // The reader skips validateRequestHead for a head that splits, so the
  // split refuses everything the check does.
  for (const char* head : {
           "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\n X: b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\n\tX: b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
           "GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n",
           "GET / HTTP/1.1\r\n: a\r\n\r\n",
           "GET / HTTP/1.1\r\nHost a\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
           "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET / x HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /\ta HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET /\na HTTP/1.1\r\nHost: a\r\n\r\n",
           "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
           "GET / HTTP/1.1\n\r\nHost: a\r\n\r\n",
           "GET \r\n\r\n",
       }) {
    EXPECT_NE(validateRequestHead(head, {}).verdict, HeadVerdict::kOk) << head;
    EXPECT_FALSE(splits(head, true)) << head;
  }
  // The limits: bytes (the whole head) and field lines.
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
  HeadFacts facts;
  Headers fields;
  EXPECT_TRUE(splitRequestHead(head, HeadLimits{head.size(), 3}, facts, fields));
  fields.clear();
  EXPECT_FALSE(splitRequestHead(head, HeadLimits{head.size() - 1, 3}, facts, fields));
  EXPECT_EQ(validateRequestHead(head, HeadLimits{head.size() - 1, 3}).verdict,
            HeadVerdict::kHeadersTooLarge);
  fields.clear();
  EXPECT_FALSE(splitRequestHead(head, HeadLimits{head.size(), 2}, facts, fields));
  EXPECT_EQ(validateRequestHead(head, HeadLimits{head.size(), 2}).verdict,
            HeadVerdict::kHeadersTooLarge);
}

TEST(Http1Head, EveryByteOfALongRequestValueAndTargetIsChecked) {
  // Sixteen bytes at a time, then an overlapping tail: a byte the check
  // refuses at any place fails the split.
  const std::string text = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  for (size_t at = 0; at < text.size(); ++at) {
    for (char bad : {'\x00', '\x01', '\n', '\r', '\x1f', '\x7f'}) {
      std::string v = text;
      v[at] = bad;
      std::string value_head = "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + v + "\r\n\r\n";
      EXPECT_NE(validateRequestHead(value_head, {}).verdict, HeadVerdict::kOk);
      EXPECT_FALSE(splits(value_head, true)) << at << " " << static_cast<int>(bad);
      std::string target_head = "GET /" + v + " HTTP/1.1\r\nHost: a\r\n\r\n";
      EXPECT_NE(validateRequestHead(target_head, {}).verdict, HeadVerdict::kOk);
      EXPECT_FALSE(splits(target_head, true)) << at << " " << static_cast<int>(bad);
    }
    for (char good : {'\x80', '\xff', '~', ':', '%'}) {
      std::string v = text;
      v[at] = good;
      expectSameAsGeneralParser("GET / HTTP/1.1\r\nHost: a\r\nCookie: " + v + "\r\n\r\n", true);
      expectSameAsGeneralParser("GET /" + v + " HTTP/1.1\r\nHost: a\r\n\r\n", true);
    }
  }
}

TEST(Http1Head, EveryByteOfALongResponseValueIsChecked) {
  // Values are checked sixteen bytes at a time, the last bytes with one
  // overlapping load: a control byte or DEL at any place of a long value
  // fails the split; HTAB and obs-text anywhere pass it.
  const std::string value = "abcdefghijklmnopqrstuvwxyz0123";
  for (size_t at = 0; at < value.size(); ++at) {
    for (char bad : {'\x00', '\x01', '\n', '\r', '\x1f', '\x7f'}) {
      std::string v = value;
      v[at] = bad;
      std::string head = "HTTP/1.1 200 OK\r\nX-Long: " + v + "\r\nContent-Length: 0\r\n\r\n";
      EXPECT_FALSE(splits(head, false)) << at << " " << static_cast<int>(bad);
    }
    for (char good : {'\t', ' ', '\x80', '\xff', '~', ':'}) {
      std::string v = value;
      v[at] = good;
      expectSameAsGeneralParser("HTTP/1.1 200 OK\r\nX-Long: " + v + "\r\nContent-Length: 0\r\n\r\n",
                                false);
    }
  }
}

TEST(Http1Head, KeepAliveFollowsTheVersionAndConnection) {
  struct Case {
    const char* head;
    bool keep_alive;
  };
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", false},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n", false},
           Case{"GET / HTTP/1.0\r\nHost: a\r\n\r\n", false},
           Case{"GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n", true},
           Case{"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", false},
           Case{"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nProxy-Connection: "
                "close\r\n\r\n",
                false},
       }) {
    HeadFacts facts;
    Headers fields;
    ASSERT_TRUE(splitRequestHead(c.head, HeadLimits{}, facts, fields)) << c.head;
    EXPECT_EQ(facts.keep_alive, c.keep_alive) << c.head;
  }
}

}  // namespace
}  // namespace gatehouse::http

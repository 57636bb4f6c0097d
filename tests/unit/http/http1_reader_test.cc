#include "http/http1_reader.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <tuple>
#include <vector>

#include "support/fake_stream.h"
#include "support/run_task.h"

namespace gatehouse::http {
namespace {

using testing::FakeStream;
using testing::run;

// Reads a message body to its end into `body`; false when reading fails.
Task<bool> readBodyInto(Http1Reader& reader, std::string& body) {
  while (true) {
    auto piece = co_await reader.readBody();
    if (!piece) co_return false;
    if (piece->empty()) co_return true;
    body += *piece;
  }
}

struct Parsed {
  Result<bool> status = false;
  RequestHead head;
  std::string body;
  bool body_ok = true;
};

Parsed parse(std::deque<std::string> chunks, Http1Limits limits = {}) {
  FakeStream stream(std::move(chunks));
  Http1Reader reader(stream, 1024);
  Parsed p;
  p.status = run([&]() -> Task<Result<bool>> {
    auto r = co_await reader.readRequest(p.head, limits, std::chrono::seconds(1));
    if (!r || !*r) co_return r;
    p.body_ok = co_await readBodyInto(reader, p.body);
    co_return r;
  }());
  return p;
}

TEST(Http1Reader, ParsesSimpleRequest) {
  auto p = parse({"GET /a?b=1 HTTP/1.1\r\nHost: Example.com\r\nX-A: 1\r\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_TRUE(*p.status);
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.target, "/a?b=1");
  EXPECT_EQ(p.head.authority, "Example.com");
  EXPECT_EQ(p.head.headers.get("x-a"), "1");
  EXPECT_FALSE(p.head.has_body);
}

TEST(Http1Reader, ReassemblesHeadSplitAcrossReads) {
  auto p = parse({"GET / HT", "TP/1.1\r\nHo", "st: a\r", "\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.head.authority, "a");
}

TEST(Http1Reader, ReadsContentLengthBody) {
  auto p = parse({"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello", " world"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.head.content_length, 11u);
  EXPECT_EQ(p.body, "hello world");
  EXPECT_FALSE(p.head.headers.has("content-length"));
}

TEST(Http1Reader, DecodesChunkedBody) {
  auto p = parse({"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                  "lo\r\n6\r\n world\r\n0\r\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_TRUE(p.head.has_body);
  EXPECT_FALSE(p.head.content_length);
  EXPECT_EQ(p.body, "hello world");
}

TEST(Http1Reader, RefusesContentLengthWithTransferEncoding) {
  auto p =
      parse({"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"});
  ASSERT_FALSE(p.status.ok());
  EXPECT_EQ(p.status.error().code, ErrorCode::kProtocol);
}

TEST(Http1Reader, RefusesTransferEncodingOtherThanChunked) {
  auto p = parse({"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"});
  ASSERT_FALSE(p.status.ok());
  p = parse({"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"});
  ASSERT_FALSE(p.status.ok());
}

TEST(Http1Reader, RefusesConflictingContentLengths) {
  auto p =
      parse({"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"});
  ASSERT_FALSE(p.status.ok());
}

TEST(Http1Reader, RefusesBadChunkSize) {
  auto p = parse(
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_FALSE(p.body_ok);
}

TEST(Http1Reader, RefusesBareLineFeedAndObsFold) {
  EXPECT_FALSE(parse({"GET / HTTP/1.1\nHost: a\n\n"}).status.ok());
  EXPECT_FALSE(parse({"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"}).status.ok());
  EXPECT_FALSE(parse({"GET / HTTP/1.1\r\nHost : a\r\n\r\n"}).status.ok());
  EXPECT_FALSE(parse({std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 27)}).status.ok());
}

TEST(Http1Reader, RequiresExactlyOneHostOnHttp11) {
  EXPECT_FALSE(parse({"GET / HTTP/1.1\r\n\r\n"}).status.ok());
  EXPECT_FALSE(parse({"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}).status.ok());
  EXPECT_TRUE(parse({"GET / HTTP/1.0\r\n\r\n"}).status.ok());
}

TEST(Http1Reader, HostHoldsOnlyTokenBytesAPortAndBrackets) {
  for (const char* host : {"my_app.example", "app.example:8443", "[2001:db8::1]:443", "a-b.c~d"}) {
    auto p = parse({std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"});
    EXPECT_TRUE(p.status.ok()) << host;
    EXPECT_EQ(p.head.authority, host);
  }
  for (const char* host : {"user@app.example", "app.example/x", "a{b", "a\"b", "a,b", "a;b"}) {
    EXPECT_FALSE(parse({std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"}).status.ok())
        << host;
  }
}

TEST(Http1Reader, AbsoluteFormTargetDecidesTheAuthority) {
  auto p = parse({"GET http://real.example/x?y HTTP/1.1\r\nHost: other.example\r\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.head.authority, "real.example");
  EXPECT_EQ(p.head.target, "/x?y");
  EXPECT_EQ(p.head.headers.get("host"), "real.example");
}

TEST(Http1Reader, UnderscoreHeadersRejectedOrDropped) {
  EXPECT_FALSE(
      parse({"GET / HTTP/1.1\r\nHost: a\r\nX_Pomerium_Jwt_Assertion: x\r\n\r\n"}).status.ok());
  Http1Limits drop;
  drop.reject_underscore_headers = false;
  auto p = parse({"GET / HTTP/1.1\r\nHost: a\r\nX_A: x\r\n\r\n"}, drop);
  ASSERT_TRUE(p.status.ok());
  EXPECT_FALSE(p.head.headers.has("x_a"));
}

TEST(Http1Reader, HeadersOverLimitAreTooLarge) {
  Http1Limits limits;
  limits.max_head_bytes = 2048;
  auto p =
      parse({"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(4000, 'a') + "\r\n\r\n"}, limits);
  ASSERT_FALSE(p.status.ok());
  EXPECT_EQ(p.status.error().code, ErrorCode::kTooLarge);
}

TEST(Http1Reader, CleanCloseBeforeRequestIsNotAnError) {
  auto p = parse({});
  ASSERT_TRUE(p.status.ok());
  EXPECT_FALSE(*p.status);
}

TEST(Http1Reader, ConnectionHeadersAndUpgrade) {
  auto p =
      parse({"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Secret\r\nUpgrade: websocket\r\n"
             "X-Secret: 1\r\nKeep-Alive: 5\r\n\r\n"});
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.head.upgrade, "websocket");
  EXPECT_FALSE(p.head.headers.has("connection"));
  EXPECT_FALSE(p.head.headers.has("x-secret"));
  EXPECT_FALSE(p.head.headers.has("keep-alive"));
  EXPECT_FALSE(p.head.headers.has("upgrade"));
}

TEST(Http1Reader, RequestFieldsReadTheSameWhicheverWayTheHeadIsParsed) {
  // The plain head is split for forwarding; Connection naming a field
  // splits it again in full; a chunked body sends it to the general parser.
  // Each way the same fields are left, with the same Host, Upgrade and
  // Expect read from them.
  const std::string fields =
      "Host: app.example\r\nX-A: 1\r\nConnection: keep-alive, Upgrade\r\nUpgrade:  WebSocket \r\n"
      "Keep-Alive: 5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nExpect: 100-continue\r\n"
      "Expect: 100-continue\r\nProxy-Authorization: Basic x\r\nUpgrade: h2c\r\nX-B: 2\r\n";
  for (const std::string& extra :
       {std::string("Content-Length: 2\r\n"),
        std::string("Content-Length: 2\r\nConnection: X-Gone\r\nX-Gone: 1\r\n"),
        std::string("Transfer-Encoding: chunked\r\n")}) {
    const bool chunked = extra.find("chunked") != std::string::npos;
    auto p = parse({"POST /u HTTP/1.1\r\n" + fields + extra + "\r\n" +
                    (chunked ? "2\r\nok\r\n0\r\n\r\n" : "ok")});
    ASSERT_TRUE(p.status.ok()) << extra << p.status.error().message;
    std::vector<std::string> names;
    for (const auto& f : p.head.headers.fields()) names.push_back(f.name + ": " + f.value);
    EXPECT_EQ(names, (std::vector<std::string>{"Host: app.example", "X-A: 1", "X-B: 2"})) << extra;
    EXPECT_EQ(p.head.authority, "app.example");
    EXPECT_EQ(p.head.upgrade, "websocket");
    EXPECT_TRUE(p.head.expect_continue);
    EXPECT_EQ(p.body, "ok");
  }
  // Upgrade is read only when Connection lists it (Proxy-Connection does
  // not count); Expect other than 100-continue is refused; so is a second
  // Host, each way.
  for (const std::string& framing :
       {std::string("Content-Length: 0\r\n"), std::string("Transfer-Encoding: chunked\r\n")}) {
    auto p =
        parse({"GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: upgrade\r\nUpgrade: "
               "websocket\r\n" +
               framing + "\r\n0\r\n\r\n"});
    ASSERT_TRUE(p.status.ok()) << framing;
    EXPECT_EQ(p.head.upgrade, "") << framing;
    EXPECT_FALSE(
        parse({"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n" + framing + "\r\n0\r\n\r\n"})
            .status.ok())
        << framing;
    EXPECT_FALSE(
        parse({"GET / HTTP/1.1\r\nHost: a\r\n" + framing + "Host: a\r\n\r\n0\r\n\r\n"}).status.ok())
        << framing;
    // HTTP/1.0 has no 100-continue to give.
    auto old = parse({"GET / HTTP/1.0\r\nExpect: 100-continue\r\n" + framing + "\r\n"});
    if (framing.find("chunked") == std::string::npos) {
      ASSERT_TRUE(old.status.ok());
      EXPECT_FALSE(old.head.expect_continue);
      EXPECT_FALSE(old.head.headers.has("expect"));
    }
  }
}

TEST(Http1Reader, ReadsResponseFramings) {
  FakeStream stream(
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n"});
  Http1Reader reader(stream, 256);
  auto [status, body] = run([&]() -> Task<std::pair<int, std::string>> {
    auto head = co_await reader.readResponse("GET");
    if (!head) co_return std::pair<int, std::string>{0, ""};
    std::string body;
    while (true) {
      auto piece = co_await reader.readBody();
      if (!piece || piece->empty()) break;
      body += *piece;
    }
    co_return std::pair<int, std::string>{head->status, body};
  }());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "abc");
}

// Reads a response and its body; status 0 when the head fails, and
// body_ok false when the body does.
struct ReadResponse {
  int status = 0;
  std::string body;
  bool body_ok = true;
  bool done = false;
  bool keep_alive = false;
  bool buffered = false;
};

ReadResponse readResponse(std::deque<std::string> chunks, std::string_view method = "GET") {
  FakeStream stream(std::move(chunks));
  Http1Reader reader(stream, 256);
  return run([&]() -> Task<ReadResponse> {
    ReadResponse out;
    auto head = co_await reader.readResponse(method);
    if (!head) co_return out;
    out.status = head->status;
    out.body_ok = co_await readBodyInto(reader, out.body);
    out.done = reader.bodyDone();
    out.keep_alive = reader.keepAlive();
    out.buffered = reader.hasBuffered();
    co_return out;
  }());
}

// The fields of a response as the reader hands them on, "name: value" in
// order; empty when the head fails.
std::vector<std::string> responseFields(std::string head, std::string_view method = "GET") {
  FakeStream stream({std::move(head)});
  Http1Reader reader(stream, 1024);
  return run([&]() -> Task<std::vector<std::string>> {
    std::vector<std::string> out;
    auto response = co_await reader.readResponse(method);
    if (!response) co_return out;
    for (const auto& f : response->headers.fields()) out.push_back(f.name + ": " + f.value);
    co_return out;
  }());
}

TEST(Http1Reader, ResponseFieldsLeaveOutHopByHopAndFraming) {
  using Fields = std::vector<std::string>;
  const std::string fields =
      "Server: up\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n"
      "TE: trailers\r\nTrailer: x\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\n"
      "Proxy-Authenticate: Basic\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
  const Fields end_to_end = {"Server: up", "Set-Cookie: a=1", "Set-Cookie: b=2"};
  EXPECT_EQ(responseFields("HTTP/1.1 200 OK\r\n" + fields), end_to_end);
  // HEAD and 304 answers keep the length of the body they describe.
  const Fields with_length = {"Server: up", "Content-Length: 0", "Set-Cookie: a=1",
                              "Set-Cookie: b=2"};
  EXPECT_EQ(responseFields("HTTP/1.1 200 OK\r\n" + fields, "HEAD"), with_length);
  EXPECT_EQ(responseFields("HTTP/1.1 304 Not Modified\r\n" + fields), with_length);
  EXPECT_EQ(responseFields("HTTP/1.1 304 Not Modified\r\n" + fields, "HEAD"), with_length);
  // Fields that Connection names go too, in either way of reading a head
  // (a repeated Content-Length sends it to the general parser).
  EXPECT_EQ(responseFields("HTTP/1.1 200 OK\r\nX-Secret: 1\r\nServer: up\r\n"
                           "Connection: X-Secret, close\r\nContent-Length: 0\r\n\r\n"),
            Fields{"Server: up"});
  EXPECT_EQ(
      responseFields("HTTP/1.1 200 OK\r\nX-Secret: 1\r\nServer: up\r\n"
                     "Connection: X-Secret\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"),
      Fields{"Server: up"});
}

TEST(Http1Reader, ResponseBodyByLengthStopsAtTheLength) {
  auto r = readResponse({"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel", "lo wor", "ldEXTRA"});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body_ok);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.keep_alive);
  // What follows the body is not part of it, and makes the connection unfit for reuse.
  EXPECT_TRUE(r.buffered);
}

TEST(Http1Reader, ResponseBodyCutShortIsAnError) {
  auto r = readResponse({"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello"});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body_ok);
  EXPECT_FALSE(r.done);
}

TEST(Http1Reader, ResponseBodyWithoutLengthEndsWithTheClose) {
  auto r = readResponse({"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of ", "this"});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body_ok);
  EXPECT_EQ(r.body, "all of this");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.keep_alive);
}

TEST(Http1Reader, ResponseToHeadHasNoBodyWhateverItsLength) {
  auto r = readResponse({"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"}, "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.keep_alive);
}

TEST(Http1Reader, ResponseHeadsBeyondThePlainCaseKeepTheirMeaning) {
  // Both ways of reading a head give the same answers: identical repeated
  // lengths (read by the general parser), conflicting ones refused.
  auto r = readResponse({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(readResponse({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"})
                .status,
            0);
  EXPECT_EQ(readResponse({"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\na"}).status, 0);
  // HTTP/1.0 without keep-alive: the connection is not reused.
  EXPECT_FALSE(readResponse({"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na"}).keep_alive);
  EXPECT_TRUE(
      readResponse({"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na"})
          .keep_alive);
}

TEST(Http1Reader, CloseWinsOverKeepAliveOnHttp10) {
  // Both ways of reading a head: the plain split and the general parser
  // (here because of the repeated length).
  EXPECT_FALSE(readResponse({"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
                             "Content-Length: 1\r\n\r\na"})
                   .keep_alive);
  EXPECT_FALSE(readResponse({"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
                             "Content-Length: 1\r\nContent-Length: 1\r\n\r\na"})
                   .keep_alive);
  EXPECT_TRUE(readResponse({"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                            "Content-Length: 1\r\nContent-Length: 1\r\n\r\na"})
                  .keep_alive);
}

TEST(Http1Reader, ResponseWithACodingOtherThanChunkedIsRefused) {
  // Beast alone would frame this by its Content-Length and let the
  // connection be reused with "XYZ" waiting on it.
  EXPECT_EQ(readResponse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n"
                          "\r\nabcXYZ"})
                .status,
            0);
  EXPECT_EQ(readResponse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"}).status, 0);
  auto chunked = readResponse(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"});
  EXPECT_EQ(chunked.status, 200);
  EXPECT_EQ(chunked.body, "abc");
}

TEST(Http1Reader, PipelinedRequestsAfterALengthBody) {
  FakeStream stream(
      {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n",
       "Host: a\r\n\r\n"});
  Http1Reader reader(stream, 1024);
  auto [first, body, second] =
      run([&]() -> Task<std::tuple<std::string, std::string, std::string>> {
        RequestHead head;
        auto r = co_await reader.readRequest(head, {}, std::chrono::seconds(1));
        std::string first = r && *r ? head.target : "";
        std::string body;
        while (true) {
          auto piece = co_await reader.readBody();
          if (!piece || piece->empty()) break;
          body += *piece;
        }
        r = co_await reader.readRequest(head, {}, std::chrono::seconds(1));
        co_return std::tuple<std::string, std::string, std::string>{first, body,
                                                                    r && *r ? head.target : ""};
      }());
  EXPECT_EQ(first, "/a");
  EXPECT_EQ(body, "abc");
  EXPECT_EQ(second, "/b");
}

}  // namespace
}  // namespace gatehouse::http

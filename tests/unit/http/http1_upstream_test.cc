#include "http/http1_upstream.h"

#include <gtest/gtest.h>

#include "support/fake_stream.h"
#include "support/run_task.h"

namespace gatehouse::http {
namespace {

using testing::FakeStream;
using testing::run;

// Keeps what comes back, so that a test can send the next request on it.
class Home final : public ConnectionHome {
 public:
  void takeBack(std::unique_ptr<Http1UpstreamConnection> connection) override {
    back = std::move(connection);
  }
  std::unique_ptr<Http1UpstreamConnection> back;
};

struct Answer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
};

// One GET on `connection` through an exchange, whose response head is given
// back when `recycle` is set.
Answer exchange(std::unique_ptr<Http1UpstreamConnection> connection,
                const std::shared_ptr<Home>& home, bool recycle) {
  return run([&]() -> Task<Answer> {
    Answer answer;
    auto upstream = makeHttp1UpstreamExchange(std::move(connection), home);
    RequestHead request;
    request.method = "GET";
    request.target = "/";
    request.authority = "up.test";
    if (!upstream->sendHead(request, std::nullopt)) co_return answer;
    if (!co_await upstream->finishRequest()) co_return answer;
    auto head = co_await upstream->readResponse();
    if (!head) co_return answer;
    answer.status = head->status;
    for (const auto& f : head->headers.fields()) answer.fields.emplace_back(f.name, f.value);
    while (true) {
      auto piece = co_await upstream->readBody();
      if (!piece || piece->empty()) break;
      answer.body += *piece;
    }
    if (recycle) upstream->recycleResponse(std::move(*head));
    co_return answer;
  }());
}

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(Http1UpstreamExchange, AResponseReadIntoAGivenBackHeadHasOnlyItsOwnFields) {
  const std::string long_value(40, 'v');
  auto home = std::make_shared<Home>();
  auto connection = std::make_unique<Http1UpstreamConnection>(
      std::make_unique<FakeStream>(std::deque<std::string>{
          "HTTP/1.1 200 OK\r\nServer: up\r\nX-Long: " + long_value +
              "\r\nX-Third: 3\r\nContent-Length: 3\r\n\r\nabc",
          "HTTP/1.1 404 Not Found\r\nX-Second: 2\r\nContent-Length: 2\r\n\r\nno"}));

  Answer first = exchange(std::move(connection), home, /*recycle=*/true);
  EXPECT_EQ(first.status, 200);
  // The framing fields are the reader's: Content-Length is not among them.
  EXPECT_EQ(first.fields, (Fields{{"Server", "up"}, {"X-Long", long_value}, {"X-Third", "3"}}));
  EXPECT_EQ(first.body, "abc");
  ASSERT_NE(home->back, nullptr);
  EXPECT_EQ(home->back->spare_response.headers.size(), 3u);

  Answer second = exchange(std::move(home->back), home, /*recycle=*/false);
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.fields, (Fields{{"X-Second", "2"}}));
  EXPECT_EQ(second.body, "no");
}

TEST(Http1UpstreamExchange, AHeadHoldingLargeStringsIsNotKept) {
  auto home = std::make_shared<Home>();
  const std::string big(20 * 1024, 'b');
  auto connection = std::make_unique<Http1UpstreamConnection>(
      std::make_unique<FakeStream>(std::deque<std::string>{"HTTP/1.1 200 OK\r\nX-Big: " + big +
                                                           "\r\nContent-Length: 1\r\n\r\nx"}));
  Answer first = exchange(std::move(connection), home, /*recycle=*/true);
  EXPECT_EQ(first.status, 200);
  ASSERT_NE(home->back, nullptr);
  EXPECT_EQ(home->back->spare_response.headers.size(), 0u);
  EXPECT_EQ(home->back->spare_response.headers.retainedBytes(), 0u);
}

// Sends `request` (with `body`, chunked, when it has one) through an
// exchange whose stream's writeNow takes `limit` bytes a call; returns what
// the stream received and whether finishRequestNow finished the request
// by itself.
struct Sent {
  std::string written;
  bool finished_now = false;
  int status = 0;
};

Sent sendThrough(RequestHead request, std::string_view body, size_t limit) {
  auto owned =
      std::make_unique<FakeStream>(std::deque<std::string>{"HTTP/1.1 204 No Content\r\n\r\n"});
  FakeStream* stream = owned.get();
  stream->write_now_limit = limit;
  auto home = std::make_shared<Home>();
  auto upstream =
      makeHttp1UpstreamExchange(std::make_unique<Http1UpstreamConnection>(std::move(owned)), home);
  Sent sent;
  sent.status = run([&]() -> Task<int> {
    if (!upstream->sendHead(request, std::nullopt)) co_return 0;
    if (!body.empty() && !co_await upstream->sendBody(body)) co_return 0;
    auto now = upstream->finishRequestNow();
    sent.finished_now = now.has_value();
    Result<void> finished = now ? std::move(*now) : co_await upstream->finishRequest();
    if (!finished) co_return 0;
    auto head = co_await upstream->readResponse();
    co_return head ? head->status : 0;
  }());
  sent.written = stream->written();
  return sent;
}

TEST(Http1UpstreamExchange, TheRequestGoesOutOnceWhateverTheSocketTakesAtOnce) {
  RequestHead get;
  get.method = "GET";
  get.target = "/x";
  get.authority = "up.test";
  const std::string get_bytes = "GET /x HTTP/1.1\r\nHost: up.test\r\n\r\n";

  Sent all = sendThrough(get, "", SIZE_MAX);
  EXPECT_TRUE(all.finished_now);
  EXPECT_EQ(all.written, get_bytes);
  EXPECT_EQ(all.status, 204);

  Sent part = sendThrough(get, "", 7);  // the rest is awaited
  EXPECT_FALSE(part.finished_now);
  EXPECT_EQ(part.written, get_bytes);
  EXPECT_EQ(part.status, 204);

  Sent none = sendThrough(get, "", 0);
  EXPECT_FALSE(none.finished_now);
  EXPECT_EQ(none.written, get_bytes);

  // A chunked body's terminator is queued once, whichever path sends it.
  RequestHead post = get;
  post.method = "POST";
  post.has_body = true;
  const std::string post_bytes =
      "POST /x HTTP/1.1\r\nHost: up.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  for (size_t limit : {size_t{0}, size_t{2}, SIZE_MAX}) {
    Sent chunked = sendThrough(post, "abc", limit);
    EXPECT_EQ(chunked.finished_now, limit == SIZE_MAX) << limit;
    EXPECT_EQ(chunked.written, post_bytes) << limit;
    EXPECT_EQ(chunked.status, 204) << limit;
  }
}

}  // namespace
}  // namespace gatehouse::http

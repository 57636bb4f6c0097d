// A worker keeps the decisions of policies that read only the session, by
// session view: a change to the session record reaches the next request,
// and a policy that reads the request is decided request by request.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "authorize/service.h"
#include "common/base64.h"
#include "common/strings.h"
#include "config/loader.h"
#include "databroker/local_client.h"
#include "databroker/memory_backend.h"
#include "session/records.h"
#include "unit/authorize_grpc/list_headers.h"

namespace gatehouse::authorize {
namespace {

using namespace std::chrono_literals;
using Kind = CheckResponse::Kind;
using Headers = ::gatehouse::testing::ListHeaders;

CheckResponse run(Client& client, const CheckRequest& request) {
  asio::io_context io;
  auto future = asio::co_spawn(io, client.check(request), asio::use_future);
  io.run();
  return future.get();
}

std::optional<std::string> header(const CheckResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

class KeptDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string secret = base64Encode(std::string(32, 'k'));
    auto loaded = config::loadText("shared_secret: " + secret +
                                       "\n"
                                       "pass_identity_headers: true\n"
                                       "jwt_claims_headers: {x-dept: department}\n"
                                       "routes:\n"
                                       "  - from: https://app.example.com\n"
                                       "    to: http://upstream.example.com\n"
                                       "    policy:\n"
                                       "      allow:\n"
                                       "        and:\n"
                                       "          - email: {is: alice@example.com}\n"
                                       "          - claim/department: eng\n"
                                       "  - from: https://path.example.com\n"
                                       "    to: http://upstream.example.com\n"
                                       "    policy:\n"
                                       "      allow:\n"
                                       "        and:\n"
                                       "          - email: {is: alice@example.com}\n"
                                       "          - http_path: {starts_with: /ok}\n",
                                   "/tmp", {});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    auto state = State::create(std::make_shared<const config::Options>(*loaded.options), nullptr);
    ASSERT_TRUE(state.ok()) << state.error().message;
    state_ = *state;
    cache_ = std::make_unique<session::Cache>(*databroker_);
    ASSERT_TRUE(cache_->waitReady(5s));
    cookie_ = put("eng");
    auto state_copy = state_;
    service_ = std::make_shared<Service>([state_copy] { return state_copy; }, cache_.get());
  }

  // Writes alice's session (with `department` among its claims) as sign-in
  // does; the cookie naming its first version.
  std::string put(const std::string& department) {
    session::Session s;
    s.id = "s-1";
    s.user_id = "alice";
    s.issued_at = issued_at_;
    s.expires_at = s.issued_at + 1h;
    s.claims = session::flattenClaims({{"email", "alice@example.com"}, {"department", department}});
    session::User u;
    u.id = "alice";
    u.email = "alice@example.com";
    auto result = backend_->put({session::toRecord(s), session::toRecord(u)});
    EXPECT_TRUE(result.ok());
    session::Handle h;
    h.session_id = s.id;
    h.user_id = s.user_id;
    h.server_version = result->server_version;
    h.record_version = result->records[0].version;
    return "_pomerium=" + state_->handles()->sign(h);
  }

  CheckResponse check(size_t route, std::string_view path) {
    Headers headers({{"cookie", cookie_}});
    CheckRequest r;
    r.route_index = static_cast<int>(route);
    r.route_id = state_->options().routes[route].id;
    r.method = "GET";
    r.scheme = "https";
    r.authority = route == 0 ? "app.example.com" : "path.example.com";
    r.host = r.authority;
    r.path = path;
    r.headers = &headers;
    r.client_ip = "10.0.0.1";
    return run(*service_, r);
  }

  // The answer on route 0 once it is `kind` (the copy applies a change a
  // moment after it is written).
  CheckResponse awaitKind(Kind kind) {
    CheckResponse answer = check(0, "/");
    for (int i = 0; i < 500 && answer.kind != kind; ++i) {
      std::this_thread::sleep_for(10ms);
      answer = check(0, "/");
    }
    return answer;
  }

  std::chrono::system_clock::time_point issued_at_ = std::chrono::system_clock::now();
  std::shared_ptr<databroker::Backend> backend_ = databroker::makeMemoryBackend();
  std::unique_ptr<databroker::Client> databroker_ = databroker::makeLocalClient(backend_);
  std::shared_ptr<const State> state_;
  std::unique_ptr<session::Cache> cache_;
  std::shared_ptr<Service> service_;
  std::string cookie_;
};

TEST_F(KeptDecision, AChangedSessionIsDecidedAgain) {
  ASSERT_TRUE(state_->engine().decidesBySessionOnly(0));
  CheckResponse allowed = awaitKind(Kind::kAllow);
  ASSERT_EQ(allowed.kind, Kind::kAllow) << allowed.details;
  EXPECT_EQ(header(allowed, "x-dept"), "eng");
  EXPECT_EQ(check(0, "/").kind, Kind::kAllow);

  // The claim changes under the same cookie: the next decisions deny.
  put("sales");
  CheckResponse denied = awaitKind(Kind::kError);
  ASSERT_EQ(denied.kind, Kind::kError) << "a kept decision outlived its session";
  EXPECT_EQ(denied.status, 403) << denied.details;
  EXPECT_EQ(check(0, "/").status, 403);

  // And back: allowed again, with the claim header of the new record.
  put("eng");
  allowed = awaitKind(Kind::kAllow);
  ASSERT_EQ(allowed.kind, Kind::kAllow) << allowed.details;
  EXPECT_EQ(header(allowed, "x-dept"), "eng");
}

TEST_F(KeptDecision, APolicyThatReadsTheRequestIsDecidedEveryTime) {
  ASSERT_FALSE(state_->engine().decidesBySessionOnly(1));
  ASSERT_EQ(awaitKind(Kind::kAllow).kind, Kind::kAllow);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(check(1, "/ok").kind, Kind::kAllow);
    CheckResponse denied = check(1, "/no");
    EXPECT_EQ(denied.kind, Kind::kError);
    EXPECT_EQ(denied.status, 403) << denied.details;
  }
}

}  // namespace
}  // namespace gatehouse::authorize

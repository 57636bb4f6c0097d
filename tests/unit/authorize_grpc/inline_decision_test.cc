// A decision made on gRPC's thread (the session is in the local copy) and
// one handed to the server's threads (the session is only in the
// databroker, read through) give the answer the in-process decision gives.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "authorize/grpc/authorize_grpc_client.h"
#include "authorize/grpc/authorize_grpc_server.h"
#include "authorize/service.h"
#include "common/base64.h"
#include "common/strings.h"
#include "config/loader.h"
#include "databroker/local_client.h"
#include "databroker/memory_backend.h"
#include "session/records.h"
#include "unit/authorize_grpc/list_headers.h"
#include "unit/databroker/forwarding_client.h"

namespace gatehouse::authorize {
namespace {

using namespace std::chrono_literals;
using Kind = CheckResponse::Kind;

const std::string kGrpcSecret = "0123456789abcdef0123456789abcdef";

// The databroker as seen by authorize, with its change streams stalled: a
// session written after the local copy's snapshot is only in the databroker
// and is found by reading through (counted).
class StalledDatabroker final : public databroker::testing::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  int gets() const { return gets_.load(); }

  void get(std::string type, std::string id,
           databroker::Callback<databroker::Record> done) override {
    ++gets_;
    inner_.get(std::move(type), std::move(id), std::move(done));
  }
  std::unique_ptr<databroker::SyncStream> sync(databroker::SyncPosition from, std::string type,
                                               databroker::SyncHandler handler) override {
    handler.on_records = [](std::vector<databroker::Record>) {};
    return inner_.sync(from, std::move(type), std::move(handler));
  }

 private:
  std::atomic<int> gets_{0};
};

// Counts the decisions made at once and those made by check().
class Counting final : public Client {
 public:
  explicit Counting(std::shared_ptr<Client> inner) : inner_(std::move(inner)) {}
  Task<CheckResponse> check(const CheckRequest& request) override {
    ++checked;
    return inner_->check(request);
  }
  std::optional<CheckResponse> checkNow(const CheckRequest& request) override {
    auto decided = inner_->checkNow(request);
    if (decided) ++answered_now;
    return decided;
  }
  std::atomic<int> checked{0};
  std::atomic<int> answered_now{0};

 private:
  std::shared_ptr<Client> inner_;
};

using Headers = ::gatehouse::testing::ListHeaders;

CheckResponse run(Client& client, const CheckRequest& request) {
  asio::io_context io;
  auto future = asio::co_spawn(io, client.check(request), asio::use_future);
  io.run();
  return future.get();
}

// The identity JWT's claims but for those that differ from one token to
// the next (jti) or with the second it was made in (iat, exp).
nlohmann::json stableClaims(const std::string& jwt) {
  size_t first = jwt.find('.');
  size_t second = jwt.find('.', first + 1);
  auto payload = base64Decode(jwt.substr(first + 1, second - first - 1));
  EXPECT_TRUE(payload.has_value());
  auto claims = nlohmann::json::parse(payload.value_or("{}"));
  for (const char* key : {"jti", "iat", "exp", "nbf"}) claims.erase(key);
  return claims;
}

// Same kind, status, body and headers; identity JWTs with the same claims.
void expectSameDecision(const CheckResponse& a, const CheckResponse& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.details, b.details);
  ASSERT_EQ(a.headers.size(), b.headers.size());
  for (size_t i = 0; i < a.headers.size(); ++i) {
    EXPECT_EQ(a.headers[i].first, b.headers[i].first);
    if (iequals(a.headers[i].first, "x-pomerium-jwt-assertion")) {
      EXPECT_EQ(stableClaims(a.headers[i].second), stableClaims(b.headers[i].second));
    } else {
      EXPECT_EQ(a.headers[i].second, b.headers[i].second);
    }
  }
}

class InlineDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string secret = base64Encode(std::string(32, 'k'));
    auto loaded = config::loadText("shared_secret: " + secret +
                                       "\n"
                                       "pass_identity_headers: true\n"
                                       "jwt_claims_headers: {x-email: email}\n"
                                       "routes:\n"
                                       "  - from: https://app.example.com\n"
                                       "    to: http://upstream.example.com\n"
                                       "    allowed_users: [alice@example.com, bob@example.com]\n",
                                   "/tmp", {});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    auto state = State::create(std::make_shared<const config::Options>(*loaded.options), nullptr);
    ASSERT_TRUE(state.ok()) << state.error().message;
    state_ = *state;

    local_cookie_ = put("s-local", "alice");
    cache_ = std::make_unique<session::Cache>(stalled_);
    ASSERT_TRUE(cache_->waitReady(5s));
    // The copy indexes the session from the snapshot and parses it on first
    // use, reading it through once: the decisions below find it parsed.
    // Both snapshots first: the user snapshot starts the copy's users over,
    // which would supersede a view read through before it.
    auto applied = [&] { return cache_->contains("s-local") && cache_->userVersion("alice") > 0; };
    for (int i = 0; i < 500 && !applied(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(applied());
    asio::io_context io;
    session::Lookup warmed;
    session::Handle local = last_handle_;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          warmed = co_await cache_->lookup(local, std::chrono::system_clock::now());
        },
        asio::detached);
    io.run();
    ASSERT_EQ(warmed.status, session::LookupStatus::kFound) << warmed.reason;
    ASSERT_EQ(warmed.session->name, "alice");
    warm_gets_ = stalled_.gets();
    // Written after the snapshot, never streamed: only in the databroker.
    remote_cookie_ = put("s-remote", "bob");
  }

  // Writes a session and its user as sign-in does; the cookie naming it.
  std::string put(const std::string& id, const std::string& user) {
    session::Session s;
    s.id = id;
    s.user_id = user;
    s.issued_at = std::chrono::system_clock::now();
    s.expires_at = s.issued_at + 1h;
    s.claims = session::flattenClaims({{"email", user + "@example.com"}, {"groups", {"staff"}}});
    session::User u;
    u.id = user;
    u.name = user;
    u.email = user + "@example.com";
    auto result = backend_->put({session::toRecord(s), session::toRecord(u)});
    EXPECT_TRUE(result.ok());
    session::Handle h;
    h.session_id = id;
    h.user_id = user;
    h.server_version = result->server_version;
    h.record_version = result->records[0].version;
    last_handle_ = h;
    return "_pomerium=" + state_->handles()->sign(h);
  }

  std::shared_ptr<Service> newService() {
    auto state = state_;
    return std::make_shared<Service>([state] { return state; }, cache_.get());
  }

  CheckRequest request(const Headers& headers) const {
    CheckRequest r;
    r.route_index = 0;
    r.route_id = state_->options().routes[0].id;
    r.method = "GET";
    r.scheme = "https";
    r.authority = "app.example.com";
    r.host = "app.example.com";
    r.path = "/";
    r.headers = &headers;
    r.client_ip = "10.0.0.1";
    return r;
  }

  std::shared_ptr<databroker::Backend> backend_ = databroker::makeMemoryBackend();
  std::unique_ptr<databroker::Client> databroker_ = databroker::makeLocalClient(backend_);
  StalledDatabroker stalled_{*databroker_};
  std::shared_ptr<const State> state_;
  std::unique_ptr<session::Cache> cache_;
  std::string local_cookie_, remote_cookie_;
  int warm_gets_ = 0;
  session::Handle last_handle_;
};

TEST_F(InlineDecision, ALocalSessionIsDecidedAtOnceAndANewerOneOnlyByCheck) {
  Headers local({{"cookie", local_cookie_}});
  Headers remote({{"cookie", remote_cookie_}});
  auto at_once = newService();
  auto awaited = newService();

  std::optional<CheckResponse> now = at_once->checkNow(request(local));
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->kind, Kind::kAllow);
  bool has_jwt = false;
  for (const auto& [name, value] : now->headers)
    has_jwt |= iequals(name, "x-pomerium-jwt-assertion");
  EXPECT_TRUE(has_jwt);
  expectSameDecision(*now, run(*awaited, request(local)));
  EXPECT_EQ(stalled_.gets(), warm_gets_);

  // Only the databroker has it: nothing is decided at once, and check()
  // reads it through.
  EXPECT_FALSE(at_once->checkNow(request(remote)).has_value());
  EXPECT_EQ(stalled_.gets(), warm_gets_);
  CheckResponse read_through = run(*awaited, request(remote));
  EXPECT_EQ(read_through.kind, Kind::kAllow) << read_through.details;
  EXPECT_GT(stalled_.gets(), warm_gets_);
  expectSameDecision(read_through, run(*newService(), request(remote)));
}

TEST_F(InlineDecision, AHandleWithAVerifiedHandlesSignatureButOtherClaimsIsRefused) {
  auto service = newService();
  Headers local({{"cookie", local_cookie_}});
  ASSERT_EQ(run(*service, request(local)).kind, Kind::kAllow);
  // Same length and the same signature (verified handles are looked up by
  // the hash of their last bytes): one byte of the claims changed.
  std::string forged = local_cookie_;
  size_t claims = forged.find('.') + 5;
  forged[claims] = forged[claims] == 'A' ? 'B' : 'A';
  Headers tampered({{"cookie", forged}});
  CheckResponse answer = run(*service, request(tampered));
  EXPECT_NE(answer.kind, Kind::kAllow);
  EXPECT_NE(answer.status, 200);
  // The genuine handle is still found.
  EXPECT_EQ(run(*service, request(local)).kind, Kind::kAllow);
}

TEST_F(InlineDecision, OverGrpcBothPathsAnswerAsTheInProcessDecision) {
  auto local = std::make_shared<Counting>(newService());
  auto inline_side = std::make_shared<Counting>(newService());
  AuthorizeGrpcServer::Options options;
  options.address = "127.0.0.1:0";
  options.shared_secret = kGrpcSecret;
  options.make_inline = [inline_side] { return inline_side; };
  auto server = AuthorizeGrpcServer::start(local, options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  AuthorizeGrpcClientOptions client_options;
  client_options.urls = {"http://127.0.0.1:" + std::to_string((*server)->port())};
  client_options.shared_secret = kGrpcSecret;
  auto client = makeAuthorizeGrpcClient(client_options);
  ASSERT_TRUE(client.ok()) << client.error().message;

  Headers signed_out({{"accept", "text/html"}});
  Headers local_session({{"cookie", local_cookie_}});
  Headers remote_session({{"cookie", remote_cookie_}});
  auto in_process = newService();

  // Answered on gRPC's thread.
  CheckResponse answer = run(**client, request(local_session));
  EXPECT_EQ(answer.kind, Kind::kAllow) << answer.details;
  expectSameDecision(answer, run(*in_process, request(local_session)));
  answer = run(**client, request(signed_out));
  EXPECT_EQ(answer.status, 401) << answer.details;
  expectSameDecision(answer, run(*in_process, request(signed_out)));
  EXPECT_EQ(inline_side->answered_now.load(), 2);
  EXPECT_EQ(local->checked.load(), 0);
  EXPECT_EQ(stalled_.gets(), warm_gets_);

  // Handed to the server's threads, which read the session through.
  answer = run(**client, request(remote_session));
  EXPECT_EQ(answer.kind, Kind::kAllow) << answer.details;
  EXPECT_EQ(inline_side->answered_now.load(), 2);
  EXPECT_EQ(local->checked.load(), 1);
  EXPECT_GT(stalled_.gets(), warm_gets_);
  expectSameDecision(answer, run(*in_process, request(remote_session)));
  (*server)->shutdown(0ms);
}

}  // namespace
}  // namespace gatehouse::authorize

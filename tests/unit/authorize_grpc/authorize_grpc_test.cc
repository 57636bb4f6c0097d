// The authorize gRPC service through the real gRPC client, with a fake
// decision behind the server.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "authorize/grpc/authorize_grpc_client.h"
#include "authorize/grpc/authorize_grpc_server.h"
#include "common/strings.h"
#include "databroker/grpc_client.h"
#include "support/test_pki.h"
#include "unit/authorize_grpc/list_headers.h"

// Under LeakSanitizer: looking a name up through gRPC's c-ares resolver
// leaves a few bytes inside libcares that nothing here owns.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcares.so"; }

namespace gatehouse::authorize {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Kind = CheckResponse::Kind;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

// gRPC stays initialised for the whole program and is shut down on the main
// thread at the end, as main() of a real process does.
class GrpcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { scope_ = std::make_unique<databroker::GrpcLibraryScope>(); }
  void TearDown() override { scope_.reset(); }

 private:
  std::unique_ptr<databroker::GrpcLibraryScope> scope_;
};
const auto* const kGrpcEnvironment = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

using Headers = ::gatehouse::testing::ListHeaders;

// What the decision saw, copied out of the borrowed request.
struct SeenRequest {
  uint32_t route_index = 0;
  std::string route_id;
  bool internal = false;
  std::string method, scheme, authority, host, path, query, client_ip;
  HeaderList headers;
  std::optional<std::string> first_cookie;
  bool cert_presented = false, cert_valid = false;
  std::string fingerprint, spki;
  std::vector<std::string> san_dns, san_email, san_uri;
};

// The decision: answers `answer` (with the replica's name in an
// x-replica header), or never, when `hang` is set.
class FakeDecision final : public Client {
 public:
  explicit FakeDecision(std::string name = "a") : name_(std::move(name)) {}

  Task<CheckResponse> check(const CheckRequest& request) override {
    SeenRequest seen;
    seen.route_index = request.route_index;
    seen.route_id = request.route_id;
    seen.internal = request.internal;
    seen.method = request.method;
    seen.scheme = request.scheme;
    seen.authority = request.authority;
    seen.host = request.host;
    seen.path = request.path;
    seen.query = request.query;
    seen.client_ip = request.client_ip;
    if (request.headers != nullptr) {
      request.headers->forEach([&](std::string_view n, std::string_view v) {
        seen.headers.emplace_back(std::string(n), std::string(v));
      });
      if (auto cookie = request.headers->get("COOKIE")) seen.first_cookie = std::string(*cookie);
    }
    const auto& cert = request.client_certificate;
    seen.cert_presented = cert.presented;
    seen.cert_valid = cert.valid;
    seen.fingerprint = cert.fingerprint_sha256;
    seen.spki = cert.spki_sha256_base64;
    seen.san_dns.assign(cert.san_dns.begin(), cert.san_dns.end());
    seen.san_email.assign(cert.san_email.begin(), cert.san_email.end());
    seen.san_uri.assign(cert.san_uri.begin(), cert.san_uri.end());
    CheckResponse answer;
    bool hang = false;
    {
      std::lock_guard lock(mutex_);
      seen_ = std::move(seen);
      ++calls_;
      answer = answer_;
      hang = hang_;
    }
    if (hang) {
      asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
      co_await forever.async_wait(asio::use_awaitable);
    }
    answer.headers.emplace_back("x-replica", name_);
    co_return answer;
  }

  void answer(CheckResponse response) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(response);
  }
  void hang() {
    std::lock_guard lock(mutex_);
    hang_ = true;
  }
  std::optional<SeenRequest> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::string name_;
  std::mutex mutex_;
  CheckResponse answer_{Kind::kAllow, 200, {}, {}, {}, false};
  bool hang_ = false;
  std::optional<SeenRequest> seen_;
  int calls_ = 0;
};

std::unique_ptr<AuthorizeGrpcServer> startServer(std::shared_ptr<Client> decision,
                                                 uint16_t port = 0) {
  AuthorizeGrpcServer::Options options;
  options.address = "127.0.0.1:" + std::to_string(port);
  options.shared_secret = kSecret;
  auto server = AuthorizeGrpcServer::start(std::move(decision), options);
  EXPECT_TRUE(server.ok()) << server.error().message;
  return server.ok() ? std::move(*server) : nullptr;
}

std::string url(uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

std::unique_ptr<Client> newClient(std::vector<std::string> urls, std::string secret = kSecret,
                                  Duration timeout = 5s) {
  AuthorizeGrpcClientOptions options;
  options.urls = std::move(urls);
  options.shared_secret = std::move(secret);
  options.timeout = timeout;
  auto client = makeAuthorizeGrpcClient(options);
  EXPECT_TRUE(client.ok()) << client.error().message;
  return client.ok() ? std::move(*client) : nullptr;
}

// Awaits one check from a coroutine on an io_context run by this thread, as
// a proxy worker would; `resumed_here` says whether the coroutine went on on
// this thread.
CheckResponse check(Client& client, const CheckRequest& request, bool* resumed_here = nullptr) {
  asio::io_context io;
  auto worker = std::this_thread::get_id();
  auto future = asio::co_spawn(
      io,
      [&]() -> Task<CheckResponse> {
        CheckResponse response = co_await client.check(request);
        if (resumed_here != nullptr) *resumed_here = std::this_thread::get_id() == worker;
        co_return response;
      },
      asio::use_future);
  io.run();
  return future.get();
}

CheckRequest plainRequest() {
  CheckRequest request;
  request.method = "GET";
  request.scheme = "https";
  request.authority = "app.example.com";
  request.host = "app.example.com";
  request.path = "/";
  return request;
}

std::string replica(const CheckResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == "x-replica") return value;
  }
  return "";
}

TEST(AuthorizeGrpc, TheRequestArrivesWholeAndTheAnswersComeBackIntact) {
  auto decision = std::make_shared<FakeDecision>();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto client = newClient({url(server->port())});
  ASSERT_TRUE(client);

  const std::string binary("v\0\xff\x80 x", 6);
  Headers headers({{"Cookie", "a=1"},
                   {"x-multi", "first"},
                   {"Accept", "text/html"},
                   {"x-multi", "second"},
                   {"cookie", "b=2"},
                   {"x-bin", binary}});
  std::vector<std::string> dns = {"client.example.com", "alt.example.com"};
  std::vector<std::string> email = {"user@example.com"};
  std::vector<std::string> uri = {"spiffe://example.com/client"};
  const std::string fingerprint(64, 'a');
  CheckRequest request;
  request.route_index = 7;
  request.route_id = "route-7";
  request.internal = true;
  request.method = "PATCH";
  request.scheme = "http";
  request.authority = "App.Example.com:8443";
  request.host = "app.example.com";
  request.path = std::string_view("/a\xff/b", 5);
  request.query = "x=1&y=%20";
  request.headers = &headers;
  request.client_ip = "2001:db8::1";
  request.client_certificate.presented = true;
  request.client_certificate.valid = true;
  request.client_certificate.fingerprint_sha256 = fingerprint;
  request.client_certificate.spki_sha256_base64 = "c3BraQ==";
  request.client_certificate.san_dns = dns;
  request.client_certificate.san_email = email;
  request.client_certificate.san_uri = uri;

  CheckResponse allow{Kind::kAllow,
                      200,
                      {{"x-pomerium-jwt-assertion", "e.y.j"},
                       {"x-claim", "one"},
                       {"x-claim", "two"},
                       {"x-bin", binary}},
                      "",
                      "",
                      false};
  decision->answer(allow);
  bool resumed_here = false;
  CheckResponse got = check(*client, request, &resumed_here);
  EXPECT_TRUE(resumed_here) << "the caller's coroutine must go on on the caller's executor";
  EXPECT_EQ(got.kind, Kind::kAllow);
  EXPECT_THAT(got.headers,
              ElementsAre(std::pair<std::string, std::string>("x-pomerium-jwt-assertion", "e.y.j"),
                          std::pair<std::string, std::string>("x-claim", "one"),
                          std::pair<std::string, std::string>("x-claim", "two"),
                          std::pair<std::string, std::string>("x-bin", binary),
                          std::pair<std::string, std::string>("x-replica", "a")));

  auto seen = decision->seen();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->route_index, 7u);
  EXPECT_EQ(seen->route_id, "route-7");
  EXPECT_TRUE(seen->internal);
  EXPECT_EQ(seen->method, "PATCH");
  EXPECT_EQ(seen->scheme, "http");
  EXPECT_EQ(seen->authority, "App.Example.com:8443");
  EXPECT_EQ(seen->host, "app.example.com");
  EXPECT_EQ(seen->path, std::string("/a\xff/b", 5));
  EXPECT_EQ(seen->query, "x=1&y=%20");
  EXPECT_EQ(seen->client_ip, "2001:db8::1");
  EXPECT_THAT(seen->headers, ElementsAre(std::pair<std::string, std::string>("Cookie", "a=1"),
                                         std::pair<std::string, std::string>("x-multi", "first"),
                                         std::pair<std::string, std::string>("Accept", "text/html"),
                                         std::pair<std::string, std::string>("x-multi", "second"),
                                         std::pair<std::string, std::string>("cookie", "b=2"),
                                         std::pair<std::string, std::string>("x-bin", binary)));
  EXPECT_EQ(seen->first_cookie, "a=1");  // looked up case-insensitively, first value
  EXPECT_TRUE(seen->cert_presented);
  EXPECT_TRUE(seen->cert_valid);
  EXPECT_EQ(seen->fingerprint, fingerprint);
  EXPECT_EQ(seen->spki, "c3BraQ==");
  EXPECT_EQ(seen->san_dns, dns);
  EXPECT_EQ(seen->san_email, email);
  EXPECT_EQ(seen->san_uri, uri);

  decision->answer(
      {Kind::kRespond,
       302,
       {{"Location", "https://auth.example.com/"}, {"Set-Cookie", "a"}, {"Set-Cookie", "b"}},
       binary,
       "",
       false});
  got = check(*client, request);
  EXPECT_EQ(got.kind, Kind::kRespond);
  EXPECT_EQ(got.status, 302);
  EXPECT_EQ(got.body, binary);
  EXPECT_THAT(got.headers, ElementsAre(std::pair<std::string, std::string>(
                                           "Location", "https://auth.example.com/"),
                                       std::pair<std::string, std::string>("Set-Cookie", "a"),
                                       std::pair<std::string, std::string>("Set-Cookie", "b"),
                                       std::pair<std::string, std::string>("x-replica", "a")));

  decision->answer({Kind::kError, 403, {}, "", "email-unauthorized", true});
  got = check(*client, request);
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 403);
  EXPECT_EQ(got.details, "email-unauthorized");
  EXPECT_TRUE(got.grpc);

  // No headers and no certificate at all.
  CheckRequest bare = plainRequest();
  decision->answer(allow);
  EXPECT_EQ(check(*client, bare).kind, Kind::kAllow);
  EXPECT_TRUE(decision->seen()->headers.empty());
  EXPECT_FALSE(decision->seen()->cert_presented);
  EXPECT_TRUE(decision->seen()->san_dns.empty());
}

TEST(AuthorizeGrpc, AnAnswerTheClientCannotReadRefuses) {
  auto decision = std::make_shared<FakeDecision>();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto client = newClient({url(server->port())});
  ASSERT_TRUE(client);
  decision->answer({Kind::kRespond, 0, {}, "", "", false});
  CheckResponse got = check(*client, plainRequest());
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 503);
  EXPECT_THAT(got.details, HasSubstr("invalid status"));
}

TEST(AuthorizeGrpc, AWrongSharedSecretFailsClosed) {
  auto decision = std::make_shared<FakeDecision>();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto client = newClient({url(server->port())}, "another secret of 32 bytes......");
  ASSERT_TRUE(client);
  CheckResponse got = check(*client, plainRequest());
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 503);
  EXPECT_THAT(got.details, StartsWith("authorize service unavailable: unauthenticated"));
  EXPECT_FALSE(got.grpc);
  EXPECT_EQ(decision->calls(), 0);

  // A gRPC request is refused in gRPC's form.
  Headers grpc_headers({{"content-type", "application/grpc+proto"}});
  CheckRequest grpc_request = plainRequest();
  grpc_request.headers = &grpc_headers;
  got = check(*client, grpc_request);
  EXPECT_EQ(got.status, 503);
  EXPECT_TRUE(got.grpc);
  EXPECT_EQ(decision->calls(), 0);
}

// The server remembers the tokens it verified; a token it remembers does
// not admit a client signing with another secret, nor the other way round.
TEST(AuthorizeGrpc, ARememberedTokenAdmitsOnlyItsOwnClient) {
  auto decision = std::make_shared<FakeDecision>();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto good = newClient({url(server->port())});
  auto bad = newClient({url(server->port())}, "another secret of 32 bytes......");
  ASSERT_TRUE(good && bad);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(check(*good, plainRequest()).kind, Kind::kAllow);
  for (int i = 0; i < 2; ++i) {
    CheckResponse refused = check(*bad, plainRequest());
    EXPECT_EQ(refused.kind, Kind::kError);
    EXPECT_THAT(refused.details, StartsWith("authorize service unavailable: unauthenticated"));
  }
  EXPECT_EQ(check(*good, plainRequest()).kind, Kind::kAllow);
  EXPECT_EQ(decision->calls(), 4);
}

TEST(AuthorizeGrpc, CallsMoveToTheOtherReplicaWhenOneStops) {
  auto decision_a = std::make_shared<FakeDecision>("a");
  auto decision_b = std::make_shared<FakeDecision>("b");
  auto a = startServer(decision_a);
  auto b = startServer(decision_b);
  ASSERT_TRUE(a && b);
  auto client = newClient({url(a->port()), url(b->port())});
  ASSERT_TRUE(client);
  // Round robin spreads calls over the replicas that are connected; the
  // second connection may come up a little after the first calls (a busy
  // machine), so call until both have answered, within a deadline.
  std::set<std::string> replicas;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (replicas.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    CheckResponse got = check(*client, plainRequest());
    ASSERT_EQ(got.kind, Kind::kAllow) << got.details;
    replicas.insert(replica(got));
  }
  EXPECT_THAT(replicas, ElementsAre("a", "b"));  // round-robin: both take calls

  a->shutdown(0ms);
  int failures = 0;
  int from_b = 0;
  for (int i = 0; i < 50; ++i) {
    CheckResponse got = check(*client, plainRequest());
    if (got.kind == Kind::kAllow) {
      EXPECT_EQ(replica(got), "b");
      ++from_b;
    } else {
      EXPECT_EQ(got.status, 503);
      ++failures;
    }
  }
  EXPECT_LE(failures, 2);
  EXPECT_GE(from_b, 48);
}

TEST(AuthorizeGrpc, WithEveryReplicaDownItRefusesAtOnce) {
  auto decision = std::make_shared<FakeDecision>();
  auto a = startServer(decision);
  auto b = startServer(decision);
  ASSERT_TRUE(a && b);
  auto client = newClient({url(a->port()), url(b->port())}, kSecret, 10s);
  ASSERT_TRUE(client);
  ASSERT_EQ(check(*client, plainRequest()).kind, Kind::kAllow);
  a->shutdown(0ms);
  b->shutdown(0ms);
  for (int i = 0; i < 5; ++i) {
    auto started = std::chrono::steady_clock::now();
    CheckResponse got = check(*client, plainRequest());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(got.kind, Kind::kError);
    EXPECT_EQ(got.status, 503);
    EXPECT_THAT(got.details, StartsWith("authorize service unavailable: "));
  }

  // A client that never reached any replica refuses at once too.
  auto fresh = newClient({url(a->port())}, kSecret, 10s);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(check(*fresh, plainRequest()).status, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(AuthorizeGrpc, ItRecoversWhenAReplicaComesBack) {
  auto decision = std::make_shared<FakeDecision>();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  uint16_t port = server->port();
  // A name, looked up again when the connection drops.
  auto client = newClient({"http://localhost:" + std::to_string(port)});
  ASSERT_TRUE(client);
  ASSERT_EQ(check(*client, plainRequest()).kind, Kind::kAllow);
  server->shutdown(0ms);
  server.reset();
  EXPECT_EQ(check(*client, plainRequest()).status, 503);

  server = startServer(decision, port);
  ASSERT_TRUE(server);
  // The channel reconnects on its own backoff (at most 2 s); there is no
  // event to await, so ask until it answers.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    recovered = check(*client, plainRequest()).kind == Kind::kAllow;
    if (!recovered) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(recovered);
}

TEST(AuthorizeGrpc, AShutdownAnswersDecisionsStillRunning) {
  auto decision = std::make_shared<FakeDecision>();
  decision->hang();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto client = newClient({url(server->port())});
  ASSERT_TRUE(client);
  std::thread stopper([&] {
    while (decision->calls() == 0) std::this_thread::sleep_for(5ms);
    server->shutdown(50ms);
  });
  auto started = std::chrono::steady_clock::now();
  CheckResponse got = check(*client, plainRequest());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 503);
  // Answered by the server's sweep or by gRPC cancelling the call, which
  // race at the end of the grace.
  EXPECT_THAT(got.details, StartsWith("authorize service unavailable: unavailable"));
}

TEST(AuthorizeGrpc, ADeadlineFailsClosed) {
  auto decision = std::make_shared<FakeDecision>();
  decision->hang();
  auto server = startServer(decision);
  ASSERT_TRUE(server);
  auto client = newClient({url(server->port())}, kSecret, 200ms);
  ASSERT_TRUE(client);
  CheckResponse got = check(*client, plainRequest());
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 503);
  EXPECT_THAT(got.details, StartsWith("authorize service unavailable: deadline exceeded"));
}

// Clients balance only over replicas whose grpc.health.v1 check says
// SERVING; the check needs no JWT.
TEST(AuthorizeGrpc, ServesGrpcHealthChecks) {
  auto server = startServer(std::make_shared<FakeDecision>());
  ASSERT_TRUE(server);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

// TLS between the proxy and authorize: a test CA and server certificates
// from it.
using ::gatehouse::testing::TestCertificate;
using ::gatehouse::testing::TestPki;

TestCertificate serverCertificate(const TestCertificate& ca, const std::string& san) {
  return TestPki::issue(
      ca, "authorize",
      {"basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth", "subjectAltName=" + san});
}

std::unique_ptr<AuthorizeGrpcServer> startTlsServer(std::shared_ptr<Client> decision,
                                                    const TestCertificate& certificate) {
  AuthorizeGrpcServer::Options options;
  options.address = "127.0.0.1:0";
  options.shared_secret = kSecret;
  options.tls.cert_pem = certificate.certPem();
  options.tls.key_pem = certificate.keyPem();
  options.tls.origin = "certificates[0]";
  auto server = AuthorizeGrpcServer::start(std::move(decision), options);
  EXPECT_TRUE(server.ok()) << server.error().message;
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<Client> newTlsClient(uint16_t port, const std::string& ca_pem,
                                     const std::string& override_name = "",
                                     const std::string& scheme = "https",
                                     const std::string& secret = kSecret) {
  AuthorizeGrpcClientOptions options;
  options.urls = {scheme + "://127.0.0.1:" + std::to_string(port)};
  options.shared_secret = secret;
  options.timeout = 5s;
  options.tls.ca_pem = ca_pem;
  options.tls.override_certificate_name = override_name;
  auto client = makeAuthorizeGrpcClient(options);
  EXPECT_TRUE(client.ok()) << client.error().message;
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(AuthorizeGrpcTls, ATlsClientTrustingTheCaGetsDecisionsAndStillNeedsTheSharedSecret) {
  auto ca = TestPki::makeCa("Gatehouse Test CA");
  auto decision = std::make_shared<FakeDecision>();
  auto server = startTlsServer(decision, serverCertificate(ca, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  auto client = newTlsClient(server->port(), ca.certPem());
  CheckResponse got = check(*client, plainRequest());
  EXPECT_EQ(got.kind, Kind::kAllow) << got.details;
  EXPECT_EQ(decision->calls(), 1);

  auto intruder =
      newTlsClient(server->port(), ca.certPem(), "", "https", "another secret of 32 bytes......");
  got = check(*intruder, plainRequest());
  EXPECT_EQ(got.status, 503);
  EXPECT_THAT(got.details, StartsWith("authorize service unavailable: unauthenticated"));
  EXPECT_EQ(decision->calls(), 1);
}

TEST(AuthorizeGrpcTls, AClientThatDoesNotTrustTheCaFailsClosed) {
  auto ca = TestPki::makeCa("Gatehouse Test CA");
  auto decision = std::make_shared<FakeDecision>();
  auto server = startTlsServer(decision, serverCertificate(ca, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  for (const std::string& roots : {std::string(), TestPki::makeCa("Another CA").certPem()}) {
    auto client = newTlsClient(server->port(), roots);
    CheckResponse got = check(*client, plainRequest());
    EXPECT_EQ(got.kind, Kind::kError);
    EXPECT_EQ(got.status, 503);
    EXPECT_THAT(got.details, StartsWith("authorize service unavailable: unavailable"));
  }
  EXPECT_EQ(decision->calls(), 0);
}

TEST(AuthorizeGrpcTls, OverrideCertificateNameIsTheNameChecked) {
  auto ca = TestPki::makeCa("Gatehouse Test CA");
  auto decision = std::make_shared<FakeDecision>();
  auto server = startTlsServer(decision, serverCertificate(ca, "DNS:authorize.internal"));
  ASSERT_TRUE(server);
  EXPECT_EQ(check(*newTlsClient(server->port(), ca.certPem()), plainRequest()).status, 503);
  EXPECT_EQ(
      check(*newTlsClient(server->port(), ca.certPem(), "other.internal"), plainRequest()).status,
      503);
  CheckResponse got =
      check(*newTlsClient(server->port(), ca.certPem(), "authorize.internal"), plainRequest());
  EXPECT_EQ(got.kind, Kind::kAllow) << got.details;
  EXPECT_EQ(decision->calls(), 1);
}

TEST(AuthorizeGrpcTls, APlaintextClientAgainstATlsServerFailsClosedAtOnce) {
  auto ca = TestPki::makeCa("Gatehouse Test CA");
  auto decision = std::make_shared<FakeDecision>();
  auto server = startTlsServer(decision, serverCertificate(ca, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  auto client = newTlsClient(server->port(), "", "", "http");
  auto started = std::chrono::steady_clock::now();
  CheckResponse got = check(*client, plainRequest());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);  // refused, not timed out
  EXPECT_EQ(got.kind, Kind::kError);
  EXPECT_EQ(got.status, 503);
  EXPECT_THAT(got.details, StartsWith("authorize service unavailable: unavailable"));
  EXPECT_EQ(decision->calls(), 0);
}

TEST(AuthorizeGrpcTls, AnUnusableCertificateIsAnErrorNamingIt) {
  AuthorizeGrpcServer::Options options;
  options.address = "127.0.0.1:0";
  options.shared_secret = kSecret;
  options.tls.cert_pem = "not a certificate";
  options.tls.key_pem = "not a key";
  options.tls.origin = "certificates[0]";
  auto server = AuthorizeGrpcServer::start(std::make_shared<FakeDecision>(), options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.error().message, StartsWith("certificates[0]: "));
}

TEST(AuthorizeGrpcClientOptions, RefusesUrlsItCannotBalance) {
  AuthorizeGrpcClientOptions options;
  options.shared_secret = kSecret;
  EXPECT_THAT(makeAuthorizeGrpcClient(options).error().message,
              HasSubstr("authorize_service_urls: required"));
  options.urls = {"grpc://x"};
  EXPECT_THAT(makeAuthorizeGrpcClient(options).error().message,
              HasSubstr("authorize_service_urls[0]"));
  options.urls = {"http://a.example:5443", "http://b.example:5443"};
  EXPECT_FALSE(makeAuthorizeGrpcClient(options).ok());
  options.urls = {"http://authorize.internal:5443"};
  EXPECT_TRUE(makeAuthorizeGrpcClient(options).ok());
  options.urls = {"http://10.0.0.1:5443", "https://10.0.0.2:5443"};
  EXPECT_THAT(makeAuthorizeGrpcClient(options).error().message,
              StartsWith("authorize_service_urls: mixes http:// and https://"));
  options.urls = {"http://authorize.internal:5443"};
  options.shared_secret.clear();
  EXPECT_FALSE(makeAuthorizeGrpcClient(options).ok());
}

}  // namespace
}  // namespace gatehouse::authorize

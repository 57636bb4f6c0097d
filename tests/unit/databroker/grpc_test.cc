// The gRPC service through the real gRPC client (and a raw stub where the
// client would not send what is being tested).

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "databroker/grpc_client.h"
#include "databroker/grpc_server.h"
#include "databroker/memory_backend.h"
#include "databroker/service_token.h"
#include "databroker/syncer.h"
#include "proto/databroker.grpc.pb.h"
#include "support/test_pki.h"
#include "unit/databroker/test_util.h"

namespace gatehouse::databroker::testing {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

// gRPC stays initialised for the whole program and is shut down on the main
// thread at the end, as main() of a real process does.
class GrpcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { scope_ = std::make_unique<GrpcLibraryScope>(); }
  void TearDown() override { scope_.reset(); }

 private:
  std::unique_ptr<GrpcLibraryScope> scope_;
};
const auto* const kGrpcEnvironment = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

nlohmann::json json(const std::string& text) { return nlohmann::json::parse(text); }

std::vector<std::string> ids(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

class GrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    startServer(0);
    client_ = newClient(kSecret);
  }

  void startServer(uint16_t port) {
    GrpcServerOptions options;
    options.address = "127.0.0.1:" + std::to_string(port);
    options.shared_secret = kSecret;
    auto server = GrpcServer::start(backend_, options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  std::unique_ptr<Client> newClient(const std::string& secret) {
    GrpcClientOptions options;
    options.urls = {"http://127.0.0.1:" + std::to_string(server_->port())};
    options.shared_secret = secret;
    options.timeout = 5s;
    auto client = makeGrpcClient(options);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::shared_ptr<Backend> backend_ = makeMemoryBackend();
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(GrpcTest, EveryUnaryOperationWorksThroughTheClient) {
  Client& c = *client_;
  auto put = call<PutResult>([&](auto done) {
    c.put({rec("session", "s1", R"({"user_id":"u1","n":3,"ok":true,"nested":{"a":[1,"x"]}})"),
           rec("session", "s2", R"({"user_id":"u2"})")},
          done);
  });
  ASSERT_TRUE(put.ok()) << put.error().message;
  ASSERT_EQ(put->records.size(), 2u);
  EXPECT_EQ(put->server_version, backend_->serverInfo()->server_version);
  EXPECT_GT(put->records[1].version, put->records[0].version);

  auto got = call<Record>([&](auto done) { c.get("session", "s1", done); });
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(json(got->data), json(R"({"user_id":"u1","n":3,"ok":true,"nested":{"a":[1,"x"]}})"));
  EXPECT_EQ(*got, *backend_->get("session", "s1"));
  auto missing = call<Record>([&](auto done) { c.get("session", "nope", done); });
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto patched = call<PutResult>([&](auto done) {
    c.patch({rec("session", "s2", R"({"user_id":"u9"})")}, {"user_id"}, done);
  });
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(json(backend_->get("session", "s2")->data), json(R"({"user_id":"u9"})"));

  TypeOptions options;
  options.indexed_fields = {"user_id"};
  options.capacity = 100;
  options.ttl = 15min;
  ASSERT_TRUE(call<void>([&](auto done) { c.setOptions("session", options, done); }).ok());
  EXPECT_EQ(*call<TypeOptions>([&](auto done) { c.getOptions("session", done); }), options);

  Query query;
  query.type = "session";
  query.filter = {{"user_id", "u9"}};
  auto found = call<QueryResult>([&](auto done) { c.query(query, done); });
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_THAT(ids(found->records), ElementsAre("s2"));
  EXPECT_EQ(found->total_count, 1u);
  query.filter.clear();
  query.search = "S1";
  EXPECT_THAT(ids(call<QueryResult>([&](auto done) { c.query(query, done); })->records),
              ElementsAre("s1"));
  query.search = "";
  query.filter = {{"not_indexed", "x"}};
  EXPECT_EQ(call<QueryResult>([&](auto done) { c.query(query, done); }).error().code,
            ErrorCode::kInvalidArgument);

  auto types = call<std::vector<std::string>>([&](auto done) { c.listTypes(done); });
  EXPECT_THAT(*types, ElementsAre("session"));
  auto snapshot = call<Snapshot>([&](auto done) { c.syncLatest("session", done); });
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
  EXPECT_THAT(ids(snapshot->records), ElementsAre("s1", "s2"));
  EXPECT_EQ(snapshot->record_version, patched->records[0].version);
  auto info = call<ServerInfo>([&](auto done) { c.serverInfo(done); });
  EXPECT_EQ(info->latest_record_version, snapshot->record_version);

  auto lease = call<std::string>([&](auto done) { c.acquireLease("job", 1min, done); });
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_EQ(call<std::string>([&](auto done) { c.acquireLease("job", 1min, done); }).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_TRUE(call<void>([&](auto done) { c.renewLease("job", *lease, 1min, done); }).ok());
  EXPECT_EQ(call<void>([&](auto done) { c.renewLease("job", "other", 1min, done); }).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_TRUE(call<void>([&](auto done) { c.releaseLease("job", *lease, done); }).ok());
  EXPECT_TRUE(call<std::string>([&](auto done) { c.acquireLease("job", 1min, done); }).ok());

  auto bad = call<PutResult>([&](auto done) { c.put({rec("", "x")}, done); });
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  auto cleared = call<ClearResult>([&](auto done) { c.clear(done); });
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->old_server_version, info->server_version);
  EXPECT_EQ(backend_->serverInfo()->server_version, cleared->new_server_version);
}

TEST_F(GrpcTest, MessagesOfUnknownTypesRoundTripAsOpaqueBytes) {
  std::string opaque = R"({"@bytes":"CgNhYmM=","@type":"type.googleapis.com/session.Session"})";
  auto put = call<PutResult>([&](auto done) { client_->put({rec("session", "s", opaque)}, done); });
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto got = call<Record>([&](auto done) { client_->get("session", "s", done); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(json(got->data), json(opaque));
  // A known message type is stored in its JSON form, which queries can see.
  std::string timestamp =
      R"({"@type":"type.googleapis.com/google.protobuf.Timestamp","value":"2026-01-02T03:04:05Z"})";
  ASSERT_TRUE(
      call<PutResult>([&](auto done) { client_->put({rec("t", "1", timestamp)}, done); }).ok());
  EXPECT_EQ(json(backend_->get("t", "1")->data), json(timestamp));
}

// Collects what a change stream delivers.
struct Collector {
  std::mutex mutex;
  std::vector<Record> records;
  std::optional<Error> error;
  Signal signal;

  SyncHandler handler() {
    return {[this](std::vector<Record> batch) {
              {
                std::lock_guard lock(mutex);
                for (auto& r : batch) records.push_back(std::move(r));
              }
              signal.notify();
            },
            [this](Error e) {
              {
                std::lock_guard lock(mutex);
                error = std::move(e);
              }
              signal.notify();
            }};
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return records.size();
  }
  std::optional<Error> failure() {
    std::lock_guard lock(mutex);
    return error;
  }
};

TEST_F(GrpcTest, AChangeStreamSeesAnotherClientsWritesAndDeletes) {
  auto writer = newClient(kSecret);
  auto info = backend_->serverInfo();
  Collector collector;
  auto stream = client_->sync({info->server_version, info->latest_record_version}, "session",
                              collector.handler());
  ASSERT_TRUE(
      call<PutResult>([&](auto done) {
        writer->put({rec("session", "a"), rec("user", "ignored"), rec("session", "b")}, done);
      }).ok());
  Record gone = deletion("session", "a");
  ASSERT_TRUE(call<PutResult>([&](auto done) { writer->put({gone}, done); }).ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.count() == 3; }));
  std::lock_guard lock(collector.mutex);
  EXPECT_THAT(ids(collector.records), ElementsAre("a", "b", "a"));
  EXPECT_TRUE(collector.records[2].deleted());
  EXPECT_FALSE(collector.records[0].deleted());
  EXPECT_FALSE(collector.error.has_value());
}

TEST_F(GrpcTest, AStreamFromAnotherServerVersionIsAborted) {
  Collector collector;
  auto stream = client_->sync({42, 0}, "", collector.handler());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.failure().has_value(); }));
  EXPECT_EQ(collector.failure()->code, ErrorCode::kAborted);
}

TEST_F(GrpcTest, ClearingTheStoreAbortsOpenStreams) {
  auto info = backend_->serverInfo();
  Collector collector;
  auto stream = client_->sync({info->server_version, 0}, "", collector.handler());
  ASSERT_TRUE(call<PutResult>([&](auto done) { client_->put({rec("t", "1")}, done); }).ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.count() == 1; }));
  ASSERT_TRUE(backend_->clear().ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.failure().has_value(); }));
  EXPECT_EQ(collector.failure()->code, ErrorCode::kAborted);
}

TEST_F(GrpcTest, AWrongSharedSecretIsUnauthenticated) {
  auto intruder = newClient(std::string(32, 'x'));
  auto got = call<Record>([&](auto done) { intruder->get("t", "1", done); });
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnauthenticated);
  auto put = call<PutResult>([&](auto done) { intruder->put({rec("t", "1")}, done); });
  EXPECT_EQ(put.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(backend_->get("t", "1").error().code, ErrorCode::kNotFound);
  Collector collector;
  auto stream =
      intruder->sync({backend_->serverInfo()->server_version, 0}, "", collector.handler());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.failure().has_value(); }));
  EXPECT_EQ(collector.failure()->code, ErrorCode::kUnauthenticated);
  auto snapshot = call<Snapshot>([&](auto done) { intruder->syncLatest("", done); });
  EXPECT_EQ(snapshot.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(GrpcTest, CallsWithoutAValidJwtAreUnauthenticated) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = ::databroker::DataBrokerService::NewStub(channel);
  auto attempt = [&](const std::optional<std::string>& jwt) {
    grpc::ClientContext context;
    if (jwt) context.AddMetadata("jwt", *jwt);
    ::databroker::GetRequest request;
    request.set_type("t");
    request.set_id("1");
    ::databroker::GetResponse response;
    return stub->Get(&context, request, &response).error_code();
  };
  EXPECT_EQ(attempt(std::nullopt), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(attempt(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(attempt("not.a.jwt"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(attempt(mintServiceToken(kSecret, now() - 10min)), grpc::StatusCode::UNAUTHENTICATED);
  // The right token gets through to the backend (which has no such record).
  EXPECT_EQ(attempt(mintServiceToken(kSecret, now())), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTest, AnUnreachableDatabrokerIsUnavailable) {
  uint16_t port = server_->port();
  server_->shutdown();
  server_.reset();
  GrpcClientOptions options;
  options.urls = {"http://127.0.0.1:" + std::to_string(port)};
  options.shared_secret = kSecret;
  options.timeout = 2s;
  auto client = makeGrpcClient(options);
  ASSERT_TRUE(client.ok());
  auto got = call<Record>([&](auto done) { (*client)->get("t", "1", done); });
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
}

TEST_F(GrpcTest, ASyncerOverGrpcReconnectsAfterTheDatabrokerRestarts) {
  ASSERT_TRUE(backend_->put({rec("session", "before")}).ok());
  Signal changed;
  Syncer::Options options;
  options.types = {"session"};
  options.min_backoff = 20ms;
  options.max_backoff = 200ms;
  options.on_change = [&](const Record&) { changed.notify(); };
  Syncer syncer(*client_, options);
  ASSERT_TRUE(syncer.waitReady(10s));
  EXPECT_TRUE(syncer.get("session", "before").has_value());

  uint16_t port = server_->port();
  server_->shutdown(0ms);
  server_.reset();
  ASSERT_TRUE(backend_->put({rec("session", "while-down")}).ok());
  startServer(port);
  ASSERT_TRUE(backend_->put({rec("session", "after")}).ok());
  ASSERT_TRUE(changed.waitFor(
      [&] {
        return syncer.get("session", "while-down").has_value() &&
               syncer.get("session", "after").has_value();
      },
      20s));
  // It resumed from where it was: the same store needed no new snapshot.
  EXPECT_EQ(syncer.resyncs("session"), 0u);
}

TEST_F(GrpcTest, ASecondServerOnAPortInUseFailsToStart) {
  GrpcServerOptions options;
  options.address = "127.0.0.1:" + std::to_string(server_->port());
  options.shared_secret = kSecret;
  auto second = GrpcServer::start(backend_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen"), std::string::npos)
      << second.error().message;
  // The first one still has the port, and answers.
  ASSERT_TRUE(call<PutResult>([&](auto done) { client_->put({rec("t", "1")}, done); }).ok());
  auto got = call<Record>([&](auto done) { client_->get("t", "1", done); });
  ASSERT_TRUE(got.ok()) << got.error().message;
}

TEST_F(GrpcTest, WithSeveralUrlsCallsGoOnWhenOneDatabrokerStops) {
  // A second databroker process over the same store.
  GrpcServerOptions second_options;
  second_options.address = "127.0.0.1:0";
  second_options.shared_secret = kSecret;
  auto second = GrpcServer::start(backend_, second_options);
  ASSERT_TRUE(second.ok()) << second.error().message;
  GrpcClientOptions options;
  options.urls = {"http://127.0.0.1:" + std::to_string(server_->port()),
                  "http://127.0.0.1:" + std::to_string((*second)->port())};
  options.shared_secret = kSecret;
  options.timeout = 2s;
  auto client = makeGrpcClient(options);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(backend_->put({rec("t", "1")}).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(call<Record>([&](auto done) { (*client)->get("t", "1", done); }).ok());
  }

  server_->shutdown(0ms);
  // Once the channel has seen the first one go, every call goes to the other.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  int consecutive = 0;
  while (consecutive < 10 && std::chrono::steady_clock::now() < deadline) {
    bool ok = call<Record>([&](auto done) { (*client)->get("t", "1", done); }).ok();
    consecutive = ok ? consecutive + 1 : 0;
  }
  EXPECT_EQ(consecutive, 10);
}

// TLS between the services: a test CA and server certificates from it.
class GrpcTlsTest : public ::testing::Test {
 protected:
  using TestPki = ::gatehouse::testing::TestPki;
  using TestCertificate = ::gatehouse::testing::TestCertificate;

  static TestCertificate serverCertificate(const TestCertificate& ca, const std::string& san) {
    return TestPki::issue(
        ca, "databroker",
        {"basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth", "subjectAltName=" + san});
  }

  std::unique_ptr<GrpcServer> startServer(const TestCertificate& certificate) {
    GrpcServerOptions options;
    options.address = "127.0.0.1:0";
    options.shared_secret = kSecret;
    options.tls.cert_pem = certificate.certPem();
    options.tls.key_pem = certificate.keyPem();
    options.tls.origin = "certificates[0]";
    auto server = GrpcServer::start(backend_, options);
    EXPECT_TRUE(server.ok()) << server.error().message;
    return server.ok() ? std::move(*server) : nullptr;
  }

  static std::unique_ptr<Client> newClient(std::vector<uint16_t> ports, GrpcTls tls,
                                           const std::string& scheme = "https",
                                           const std::string& secret = kSecret) {
    GrpcClientOptions options;
    for (uint16_t port : ports) {
      options.urls.push_back(scheme + "://127.0.0.1:" + std::to_string(port));
    }
    options.shared_secret = secret;
    options.timeout = 5s;
    options.tls = std::move(tls);
    auto client = makeGrpcClient(options);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return client.ok() ? std::move(*client) : nullptr;
  }

  static GrpcTls trusting(const TestCertificate& ca, std::string name = "") {
    GrpcTls tls;
    tls.ca_pem = ca.certPem();
    tls.override_certificate_name = std::move(name);
    return tls;
  }

  static Result<ServerInfo> serverInfo(Client& client) {
    return call<ServerInfo>([&](auto done) { client.serverInfo(done); });
  }

  TestCertificate ca_ = TestPki::makeCa("Gatehouse Test CA");
  std::shared_ptr<Backend> backend_ = makeMemoryBackend();
};

TEST_F(GrpcTlsTest, ATlsClientTrustingTheCaWorksAndStillNeedsTheSharedSecret) {
  auto server = startServer(serverCertificate(ca_, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  auto client = newClient({server->port()}, trusting(ca_));
  auto put = call<PutResult>([&](auto done) { client->put({rec("session", "s1")}, done); });
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto got = call<Record>([&](auto done) { client->get("session", "s1", done); });
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->id, "s1");
  Collector collector;
  auto stream = client->sync({put->server_version, 0}, "session", collector.handler());
  ASSERT_TRUE(call<PutResult>([&](auto done) { client->put({rec("session", "s2")}, done); }).ok());
  EXPECT_TRUE(collector.signal.waitFor([&] { return collector.count() >= 2; }));

  auto intruder = newClient({server->port()}, trusting(ca_), "https", std::string(32, 'x'));
  EXPECT_EQ(serverInfo(*intruder).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(GrpcTlsTest, AClientThatDoesNotTrustTheCaIsUnavailable) {
  auto server = startServer(serverCertificate(ca_, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  // The system's roots, then another CA.
  auto system_roots = newClient({server->port()}, GrpcTls{});
  EXPECT_EQ(serverInfo(*system_roots).error().code, ErrorCode::kUnavailable);
  auto other_ca = newClient({server->port()}, trusting(TestPki::makeCa("Another CA")));
  EXPECT_EQ(serverInfo(*other_ca).error().code, ErrorCode::kUnavailable);
}

TEST_F(GrpcTlsTest, OverrideCertificateNameIsTheNameChecked) {
  auto server = startServer(serverCertificate(ca_, "DNS:databroker.internal"));
  ASSERT_TRUE(server);
  auto by_address = newClient({server->port()}, trusting(ca_));
  EXPECT_EQ(serverInfo(*by_address).error().code, ErrorCode::kUnavailable);
  auto wrong_name = newClient({server->port()}, trusting(ca_, "other.internal"));
  EXPECT_EQ(serverInfo(*wrong_name).error().code, ErrorCode::kUnavailable);
  auto by_name = newClient({server->port()}, trusting(ca_, "databroker.internal"));
  auto info = serverInfo(*by_name);
  EXPECT_TRUE(info.ok()) << info.error().message;
}

TEST_F(GrpcTlsTest, SeveralHttpsUrlsAreCheckedAgainstTheFirstHost) {
  auto certificate = serverCertificate(ca_, "IP:127.0.0.1");
  auto a = startServer(certificate);
  auto b = startServer(certificate);
  ASSERT_TRUE(a && b);
  auto client = newClient({a->port(), b->port()}, trusting(ca_));
  for (int i = 0; i < 4; ++i) {
    auto info = serverInfo(*client);
    EXPECT_TRUE(info.ok()) << info.error().message;
  }
}

TEST_F(GrpcTlsTest, PlaintextAndTlsDoNotMixAndFailCleanly) {
  auto server = startServer(serverCertificate(ca_, "IP:127.0.0.1"));
  ASSERT_TRUE(server);
  auto plaintext = newClient({server->port()}, GrpcTls{}, "http");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(serverInfo(*plaintext).error().code, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);  // refused, not timed out

  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.shared_secret = kSecret;
  auto plaintext_server = GrpcServer::start(backend_, options);
  ASSERT_TRUE(plaintext_server.ok());
  auto tls = newClient({(*plaintext_server)->port()}, trusting(ca_));
  EXPECT_EQ(serverInfo(*tls).error().code, ErrorCode::kUnavailable);
}

TEST_F(GrpcTlsTest, AnUnusableCertificateIsAnErrorNamingIt) {
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  options.shared_secret = kSecret;
  options.tls.cert_pem = serverCertificate(ca_, "IP:127.0.0.1").certPem();
  options.tls.key_pem = serverCertificate(ca_, "IP:127.0.0.1").keyPem();  // another key
  options.tls.origin = "certificate_file";
  auto server = GrpcServer::start(backend_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.error().message, ::testing::StartsWith("certificate_file: "));
}

TEST(GrpcClientOptions, RefusesUrlsItCannotBalance) {
  GrpcClientOptions options;
  options.shared_secret = kSecret;
  options.urls = {};
  EXPECT_FALSE(makeGrpcClient(options).ok());
  options.urls = {"ftp://x"};
  EXPECT_THAT(makeGrpcClient(options).error().message,
              ::testing::HasSubstr("databroker_service_urls[0]"));
  options.urls = {"http://a.example:5443", "http://b.example:5443"};
  EXPECT_FALSE(makeGrpcClient(options).ok());
  options.urls = {"http://10.0.0.1:5443", "http://10.0.0.2:5443"};
  EXPECT_TRUE(makeGrpcClient(options).ok());
  options.urls = {"http://databroker.internal:5443"};
  EXPECT_TRUE(makeGrpcClient(options).ok());
  options.urls = {"https://10.0.0.1:5443", "http://10.0.0.2:5443"};
  EXPECT_THAT(makeGrpcClient(options).error().message,
              ::testing::StartsWith("databroker_service_urls: mixes http:// and https://"));
}

}  // namespace
}  // namespace gatehouse::databroker::testing

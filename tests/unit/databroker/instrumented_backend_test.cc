// storage_operation_duration_ms around a real backend, and the gRPC call
// counters of a real databroker server and client.

#include "databroker/instrumented_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "databroker/grpc_client.h"
#include "databroker/grpc_server.h"
#include "databroker/memory_backend.h"
#include "metrics/grpc_metrics.h"
#include "metrics/storage_metrics.h"
#include "unit/databroker/test_util.h"

namespace gatehouse::databroker::testing {
namespace {

using ::testing::HasSubstr;
using Operation = metrics::StorageMetrics::Operation;
using namespace std::chrono_literals;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

class InstrumentedBackendTest : public ::testing::Test {
 protected:
  std::shared_ptr<metrics::StorageMetrics> metrics_ =
      std::make_shared<metrics::StorageMetrics>("memory");
  std::shared_ptr<Backend> inner_ = makeMemoryBackend();
  std::shared_ptr<Backend> backend_ = std::make_shared<InstrumentedBackend>(inner_, metrics_);
};

TEST_F(InstrumentedBackendTest, CountsEachOperationWithItsResult) {
  ASSERT_TRUE(backend_->put({rec("session", "s1"), rec("session", "s2")}).ok());
  ASSERT_TRUE(backend_->get("session", "s1").ok());
  // A missing record is an answer, not a storage failure.
  EXPECT_EQ(backend_->get("session", "nope").error().code, ErrorCode::kNotFound);
  auto info = backend_->serverInfo();
  ASSERT_TRUE(info.ok());
  // A stream from another server version fails: an error.
  EXPECT_FALSE(backend_->changes({info->server_version + 1, 0}, "", 10).ok());
  ASSERT_TRUE(backend_->changes({info->server_version, 0}, "", 10).ok());
  ASSERT_TRUE(backend_->latest("session").ok());
  ASSERT_TRUE(backend_->acquireLease("refresh", "me", 10s).ok());

  EXPECT_EQ(metrics_->count(Operation::kPut, true), 1u);
  EXPECT_EQ(metrics_->count(Operation::kGet, true), 2u);
  EXPECT_EQ(metrics_->count(Operation::kGet, false), 0u);
  EXPECT_EQ(metrics_->count(Operation::kServerInfo, true), 1u);
  EXPECT_EQ(metrics_->count(Operation::kSync, true), 1u);
  EXPECT_EQ(metrics_->count(Operation::kSync, false), 1u);
  EXPECT_EQ(metrics_->count(Operation::kSyncLatest, true), 1u);
  EXPECT_EQ(metrics_->count(Operation::kAcquireLease, true), 1u);
  EXPECT_EQ(metrics_->count(Operation::kClean, true), 0u);
  // The operations reached the wrapped backend.
  EXPECT_TRUE(inner_->get("session", "s2").ok());

  metrics::Exposition out("pomerium_");
  metrics_->collect(out);
  EXPECT_THAT(out.text(), HasSubstr("pomerium_storage_operation_duration_ms_count{operation="
                                    "\"put\",result=\"success\",backend=\"memory\",service="
                                    "\"databroker\"} 1\n"));
}

TEST_F(InstrumentedBackendTest, ChangeStreamsWaitOnTheWrappedBackendsNotifier) {
  EXPECT_EQ(&backend_->notifier(), &inner_->notifier());
  uint64_t seen = backend_->notifier().generation();
  ASSERT_TRUE(backend_->put({rec("t", "1")}).ok());
  EXPECT_TRUE(backend_->notifier().waitForChange(seen, std::chrono::steady_clock::now() + 5s));
}

// The databroker's gRPC server and client, each counting into its own
// registry, as two processes would.
class DatabrokerGrpcMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    server_options.shared_secret = kSecret;
    server_options.metrics = server_metrics_;
    auto server = GrpcServer::start(backend_, server_options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    client_ = newClient(kSecret);
  }

  std::unique_ptr<Client> newClient(const std::string& secret) {
    GrpcClientOptions options;
    options.urls = {"http://127.0.0.1:" + std::to_string(server_->port())};
    options.shared_secret = secret;
    options.timeout = 5s;
    options.metrics = client_metrics_;
    auto client = makeGrpcClient(options);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return client.ok() ? std::move(*client) : nullptr;
  }

  static std::string scrape(const metrics::GrpcMetrics& registry) {
    metrics::Exposition out("pomerium_");
    registry.collect(out);
    return out.text();
  }

  std::shared_ptr<metrics::GrpcMetrics> server_metrics_ =
      std::make_shared<metrics::GrpcMetrics>("databroker");
  std::shared_ptr<metrics::GrpcMetrics> client_metrics_ =
      std::make_shared<metrics::GrpcMetrics>("authorize");
  std::shared_ptr<Backend> backend_ = makeMemoryBackend();
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(DatabrokerGrpcMetricsTest, BothSidesCountCallsByMethodAndStatus) {
  ASSERT_TRUE(call<PutResult>([&](auto done) { client_->put({rec("t", "1")}, done); }).ok());
  ASSERT_TRUE(call<Record>([&](auto done) { client_->get("t", "1", done); }).ok());
  EXPECT_FALSE(call<Record>([&](auto done) { client_->get("t", "2", done); }).ok());
  auto intruder = newClient(std::string(32, 'x'));
  EXPECT_FALSE(call<Record>([&](auto done) { intruder->get("t", "1", done); }).ok());

  std::string server = scrape(*server_metrics_);
  EXPECT_THAT(server, HasSubstr("pomerium_grpc_server_requests_total{service=\"databroker\","
                                "grpc_method=\"Put\",grpc_service=\"databroker."
                                "DataBrokerService\",grpc_server_status=\"OK\"} 1\n"));
  EXPECT_THAT(server, HasSubstr("grpc_method=\"Get\",grpc_service=\"databroker."
                                "DataBrokerService\",grpc_server_status=\"OK\"} 1\n"));
  EXPECT_THAT(server, HasSubstr("grpc_method=\"Get\",grpc_service=\"databroker."
                                "DataBrokerService\",grpc_server_status=\"NOT_FOUND\"} 1\n"));
  // Refused before the handler ran: still counted.
  EXPECT_THAT(server, HasSubstr("grpc_method=\"Get\",grpc_service=\"databroker."
                                "DataBrokerService\",grpc_server_status=\"UNAUTHENTICATED\"} 1\n"));
  EXPECT_THAT(server, HasSubstr("pomerium_grpc_server_request_duration_ms_count{service="
                                "\"databroker\",grpc_method=\"Put\""));

  // The client's calls, by the target it dials; its channels' health
  // checks are gRPC's own and not counted as calls.
  std::string client = scrape(*client_metrics_);
  std::string host = "host=\"dns:///127.0.0.1:" + std::to_string(server_->port()) + "\"";
  EXPECT_THAT(client,
              HasSubstr("pomerium_grpc_client_requests_total{service=\"authorize\"," + host +
                        ",grpc_method=\"Put\",grpc_service=\"databroker."
                        "DataBrokerService\",grpc_client_status=\"OK\"} 1\n"));
  EXPECT_THAT(client, HasSubstr("grpc_method=\"Get\",grpc_service=\"databroker."
                                "DataBrokerService\",grpc_client_status=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(client, HasSubstr("grpc_client_status=\"UNAUTHENTICATED\"} 1\n"));
  EXPECT_THAT(client, ::testing::Not(HasSubstr("grpc_server_")));
}

TEST_F(DatabrokerGrpcMetricsTest, AStreamIsCountedWhenItEnds) {
  auto info = backend_->serverInfo();
  std::atomic<bool> failed{false};
  Signal signal;
  auto stream = client_->sync({info->server_version + 1, 0}, "",
                              {[](std::vector<Record>) {},
                               [&](Error) {
                                 failed = true;
                                 signal.notify();
                               }});
  ASSERT_TRUE(signal.waitFor([&] { return failed.load(); }));
  EXPECT_THAT(scrape(*server_metrics_),
              HasSubstr("grpc_method=\"Sync\",grpc_service=\"databroker.DataBrokerService\","
                        "grpc_server_status=\"ABORTED\"} 1\n"));
}

}  // namespace
}  // namespace gatehouse::databroker::testing

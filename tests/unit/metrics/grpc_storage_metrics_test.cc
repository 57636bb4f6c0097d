#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metrics/grpc_metrics.h"
#include "metrics/storage_metrics.h"

namespace gatehouse::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr int kOk = 0;
constexpr int kNotFound = 5;
constexpr int kUnavailable = 14;

std::string scrape(const GrpcMetrics& registry) {
  Exposition out("pomerium_");
  registry.collect(out);
  return out.text();
}

TEST(GrpcCallMetricsTest, MatchesFullMethodNamesOfItsServiceOnly) {
  GrpcCallMetrics m(GrpcSide::kServer, "databroker.DataBrokerService", {"Get", "Put"}, "");
  EXPECT_EQ(m.slotOf("/databroker.DataBrokerService/Get"), 0);
  EXPECT_EQ(m.slotOf("/databroker.DataBrokerService/Put"), 1);
  // A method of the service that the list does not name: "other".
  EXPECT_EQ(m.slotOf("/databroker.DataBrokerService/Brew"), 2);
  EXPECT_EQ(m.slotOf("/databroker.DataBrokerServiceX/Get"), -1);
  EXPECT_EQ(m.slotOf("/grpc.health.v1.Health/Check"), -1);
  EXPECT_EQ(m.slotOf("databroker.DataBrokerService/Get"), -1);
  EXPECT_EQ(m.slotOf("/databroker.DataBrokerService"), -1);
  EXPECT_EQ(m.slotOf(""), -1);
}

TEST(GrpcCallMetricsTest, ServerFamiliesCountByMethodAndStatusWithPomeriumsLabels) {
  GrpcMetrics registry("databroker");
  GrpcCallMetrics& db =
      registry.add(GrpcSide::kServer, "databroker.DataBrokerService", {"Get", "Put"});
  int get = db.slotOf("/databroker.DataBrokerService/Get");
  int put = db.slotOf("/databroker.DataBrokerService/Put");
  db.record(get, kOk, 2ms);
  db.record(get, kOk, 4ms);
  db.record(get, kNotFound, 300us);
  db.record(put, kOk, 40ms);
  db.record(put, 99, 1ms);  // out of range: UNKNOWN
  EXPECT_EQ(db.calls("Get", kOk), 2u);
  EXPECT_EQ(db.calls("Get", kNotFound), 1u);
  EXPECT_EQ(db.calls("Put", 2), 1u);

  std::string text = scrape(registry);
  EXPECT_THAT(text, HasSubstr("# TYPE pomerium_grpc_server_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE pomerium_grpc_server_request_duration_ms histogram\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_grpc_server_requests_total{service=\"databroker\","
                              "grpc_method=\"Get\",grpc_service=\"databroker.DataBrokerService\","
                              "grpc_server_status=\"OK\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("grpc_method=\"Get\",grpc_service=\"databroker.DataBrokerService\","
                              "grpc_server_status=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("grpc_method=\"Put\",grpc_service=\"databroker.DataBrokerService\","
                              "grpc_server_status=\"UNKNOWN\"} 1\n"));
  // The histogram: 2 ms and 4 ms fall under le="5" but not le="1"; the sum
  // is in ms.
  EXPECT_THAT(text, HasSubstr("pomerium_grpc_server_request_duration_ms_bucket{service="
                              "\"databroker\",grpc_method=\"Get\",grpc_service=\"databroker."
                              "DataBrokerService\",grpc_server_status=\"OK\",le=\"1\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("grpc_server_status=\"OK\",le=\"5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_grpc_server_request_duration_ms_sum{service=\"databroker\","
                              "grpc_method=\"Get\",grpc_service=\"databroker.DataBrokerService\","
                              "grpc_server_status=\"OK\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_grpc_server_request_duration_ms_count{service="
                              "\"databroker\",grpc_method=\"Put\",grpc_service=\"databroker."
                              "DataBrokerService\",grpc_server_status=\"OK\"} 1\n"));
  // Combinations without calls have no series, and no client family exists
  // in a process that calls nothing.
  EXPECT_THAT(text, Not(HasSubstr("grpc_server_status=\"UNAVAILABLE\"")));
  EXPECT_THAT(text, Not(HasSubstr("grpc_client_")));
}

TEST(GrpcCallMetricsTest, ClientFamiliesCarryTheTargetAsHost) {
  GrpcMetrics registry("proxy");
  GrpcCallMetrics& authorize = registry.add(GrpcSide::kClient, "gatehouse.authorize.v1.Authorize",
                                            {"Check"}, "ipv4:127.0.0.1:5443");
  authorize.record(0, kOk, 1ms);
  authorize.record(0, kUnavailable, 1ms);
  std::string text = scrape(registry);
  EXPECT_THAT(text, HasSubstr("pomerium_grpc_client_requests_total{service=\"proxy\",host=\"ipv4:"
                              "127.0.0.1:5443\",grpc_method=\"Check\",grpc_service=\"gatehouse."
                              "authorize.v1.Authorize\",grpc_client_status=\"UNAVAILABLE\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE pomerium_grpc_client_request_duration_ms histogram\n"));
  EXPECT_THAT(text, Not(HasSubstr("grpc_server_")));
}

TEST(GrpcCallMetricsTest, ARegistryWithNothingAddedWritesNothing) {
  GrpcMetrics registry("all");
  EXPECT_EQ(scrape(registry), "");
}

TEST(GrpcCallMetricsTest, ConcurrentCallsAreAllCounted) {
  GrpcCallMetrics m(GrpcSide::kServer, "s.S", {"M"}, "");
  constexpr int kThreads = 4;
  constexpr int kCalls = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) m.record(0, kOk, 1us);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(m.calls("M", kOk), static_cast<uint64_t>(kThreads * kCalls));
}

TEST(StorageMetricsTest, HistogramByOperationResultAndBackend) {
  StorageMetrics m("postgres");
  m.record(StorageMetrics::Operation::kPut, true, 3ms);
  m.record(StorageMetrics::Operation::kPut, true, 7ms);
  m.record(StorageMetrics::Operation::kGet, false, 20us);
  m.record(StorageMetrics::Operation::kSync, true, 500us);
  EXPECT_EQ(m.count(StorageMetrics::Operation::kPut, true), 2u);
  EXPECT_EQ(m.count(StorageMetrics::Operation::kPut, false), 0u);
  Exposition out("pomerium_");
  m.collect(out);
  const std::string& text = out.text();
  EXPECT_THAT(text, HasSubstr("# TYPE pomerium_storage_operation_duration_ms histogram\n"));
  EXPECT_THAT(text,
              HasSubstr("pomerium_storage_operation_duration_ms_count{operation=\"put\","
                        "result=\"success\",backend=\"postgres\",service=\"databroker\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("pomerium_storage_operation_duration_ms_sum{operation=\"put\","
                        "result=\"success\",backend=\"postgres\",service=\"databroker\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_storage_operation_duration_ms_bucket{operation=\"put\","
                              "result=\"success\",backend=\"postgres\",service=\"databroker\","
                              "le=\"5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_storage_operation_duration_ms_count{operation=\"get\","
                              "result=\"error\",backend=\"postgres\",service=\"databroker\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("operation=\"sync\",result=\"success\""));
  EXPECT_THAT(text, Not(HasSubstr("operation=\"get\",result=\"success\"")));
  EXPECT_THAT(text, Not(HasSubstr("operation=\"clean\"")));
}

TEST(StorageMetricsTest, EveryOperationHasASnakeCaseName) {
  EXPECT_EQ(StorageMetrics::operationName(StorageMetrics::Operation::kSyncLatest), "sync_latest");
  EXPECT_EQ(StorageMetrics::operationName(StorageMetrics::Operation::kAcquireLease),
            "acquire_lease");
  EXPECT_EQ(StorageMetrics::operationName(StorageMetrics::Operation::kClean), "clean");
}

}  // namespace
}  // namespace gatehouse::metrics

#include "metrics/request_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace gatehouse::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string scrape(std::initializer_list<const RequestMetrics*> workers) {
  Exposition out("pomerium_");
  std::vector<const RequestMetrics*> list(workers);
  RequestMetrics::collect(list, out);
  return out.text();
}

TEST(RequestMetricsTest, SumsWorkersByRouteMethodAndStatusClass) {
  auto a = std::make_unique<RequestMetrics>();
  auto b = std::make_unique<RequestMetrics>();
  a->recordRequest({"app", "GET", 200, 3ms, UpstreamFailure::kNone});
  a->recordRequest({"app", "GET", 204, 3ms, UpstreamFailure::kNone});
  b->recordRequest({"app", "GET", 201, 30ms, UpstreamFailure::kNone});
  b->recordRequest({"app", "BREW", 418, 1ms, UpstreamFailure::kNone});
  b->recordRequest({"", "GET", 404, 1ms, UpstreamFailure::kNone});
  b->recordRequest({"down", "POST", 502, 1ms, UpstreamFailure::kConnect});
  std::string text = scrape({a.get(), b.get()});
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_requests_total{route=\"app\",method=\"GET\","
                              "status=\"2xx\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_requests_total{route=\"app\",method=\"other\","
                              "status=\"4xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_requests_total{route=\"\",method=\"GET\","
                              "status=\"4xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_request_duration_ms_bucket{route=\"app\","
                              "le=\"5\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_request_duration_ms_bucket{route=\"app\","
                              "le=\"50\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_request_duration_ms_count{route=\"app\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_http_server_request_duration_ms_sum{route=\"app\"} 37\n"));
  EXPECT_THAT(text,
              HasSubstr("pomerium_upstream_errors_total{route=\"down\",kind=\"connect\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("kind=\"timeout\"")));
}

TEST(RequestMetricsTest, APrecomputedRouteKeyCountsInTheSameSeries) {
  auto a = std::make_unique<RequestMetrics>();
  const uint64_t key = RequestMetrics::routeKey("app");
  EXPECT_NE(key, 0U);
  a->recordRequest({"app", "GET", 200, 3ms, UpstreamFailure::kNone, key});
  a->recordRequest({"app", "GET", 200, 3ms, UpstreamFailure::kNone});
  EXPECT_THAT(scrape({a.get()}),
              HasSubstr("pomerium_http_server_requests_total{route=\"app\",method=\"GET\","
                        "status=\"2xx\"} 2\n"));
}

TEST(RequestMetricsTest, CountsDecisionsAndEvaluationTime) {
  auto a = std::make_unique<RequestMetrics>();
  a->recordDecision(true, 20us);
  a->recordDecision(false, 3ms);
  std::string text = scrape({a.get()});
  EXPECT_THAT(text, HasSubstr("pomerium_authorize_evaluations_total{decision=\"allow\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_authorize_evaluations_total{decision=\"deny\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("pomerium_authorize_evaluation_duration_ms_bucket{le=\"0.025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_authorize_evaluation_duration_ms_bucket{le=\"5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("pomerium_authorize_evaluation_duration_ms_sum 3.02\n"));
}

TEST(RequestMetricsTest, RoutesBeyondTheTableAreCountedAsOther) {
  auto a = std::make_unique<RequestMetrics>();
  for (size_t i = 0; i < RequestMetrics::kRouteCapacity + 50; ++i) {
    a->recordRequest({"route-" + std::to_string(i), "GET", 200, 1ms, UpstreamFailure::kNone});
  }
  std::string text = scrape({a.get()});
  size_t series = 0;
  for (size_t at = text.find("requests_total{"); at != std::string::npos;
       at = text.find("requests_total{", at + 1)) {
    ++series;
  }
  // At most one series per table entry, plus "other"; nothing is lost.
  EXPECT_LE(series, RequestMetrics::kRouteCapacity + 1);
  EXPECT_THAT(text, HasSubstr("route=\"other\""));
  uint64_t total = 0;
  for (size_t at = text.find("requests_total{"); at != std::string::npos;
       at = text.find("requests_total{", at + 1)) {
    size_t space = text.find("} ", at);
    total += std::stoull(text.substr(space + 2));
  }
  EXPECT_EQ(total, RequestMetrics::kRouteCapacity + 50);
}

TEST(RequestMetricsTest, ALabelKeepsItsSeriesOnceTheTableIsFull) {
  // Far more labels than slots: once every slot is taken, the labels
  // without one are remembered as such, and those with one must still
  // find it.
  auto a = std::make_unique<RequestMetrics>();
  constexpr size_t kLabels = 5000;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    for (size_t i = 0; i < kLabels; ++i) {
      std::string label = "route-" + std::to_string(i);
      a->recordRequest({label, "GET", 200, 1ms, UpstreamFailure::kNone,
                        i % 2 == 0 ? RequestMetrics::routeKey(label) : 0});
    }
  }
  std::string text = scrape({a.get()});
  size_t own = 0;
  uint64_t other = 0;
  for (size_t at = text.find("requests_total{"); at != std::string::npos;
       at = text.find("requests_total{", at + 1)) {
    size_t space = text.find("} ", at);
    uint64_t count = std::stoull(text.substr(space + 2));
    if (text.substr(at, space - at).find("route=\"other\"") != std::string::npos) {
      other += count;
    } else {
      ++own;
      EXPECT_EQ(count, static_cast<uint64_t>(kRounds)) << text.substr(at, space - at);
    }
  }
  EXPECT_EQ(own, RequestMetrics::kRouteCapacity);
  EXPECT_EQ(other, (kLabels - own) * kRounds);
}

}  // namespace
}  // namespace gatehouse::metrics

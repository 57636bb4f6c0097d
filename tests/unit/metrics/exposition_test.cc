#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

namespace gatehouse::metrics {
namespace {

TEST(ExpositionTest, WritesHelpTypeAndPrefixedSamples) {
  Exposition out("pomerium_");
  out.family("build_info", "Build information.", Type::kGauge);
  out.sample({{"version", "1.2.3"}}, 1);
  out.family("process_cpu_seconds_total", "CPU time.", Type::kCounter, /*prefixed=*/false);
  out.sample({}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP pomerium_build_info Build information.\n"
            "# TYPE pomerium_build_info gauge\n"
            "pomerium_build_info{version=\"1.2.3\"} 1\n"
            "# HELP process_cpu_seconds_total CPU time.\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 1.5\n");
}

TEST(ExpositionTest, EscapesLabelValuesAndHelp) {
  Exposition out("");
  out.family("x", "a \\ back\nslash", Type::kCounter);
  out.sample({{"route", "a\"b\\c\nd"}, {"method", "GET"}}, 3);
  EXPECT_EQ(out.text(),
            "# HELP x a \\\\ back\\nslash\n"
            "# TYPE x counter\n"
            "x{route=\"a\\\"b\\\\c\\nd\",method=\"GET\"} 3\n");
}

TEST(ExpositionTest, FormatsSpecialAndFractionalValues) {
  EXPECT_EQ(Exposition::formatValue(0), "0");
  EXPECT_EQ(Exposition::formatValue(1234567890123), "1234567890123");
  EXPECT_EQ(Exposition::formatValue(0.25), "0.25");
  EXPECT_EQ(Exposition::formatValue(-2.5), "-2.5");
  EXPECT_EQ(Exposition::formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Exposition::formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Exposition::formatValue(std::nan("")), "NaN");
}

TEST(ExpositionTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  Exposition out("p_");
  out.family("latency_ms", "Latency.", Type::kHistogram);
  std::array<double, 3> bounds = {1, 2.5, 10};
  std::array<uint64_t, 4> counts = {2, 0, 3, 1};  // the last is above 10
  Label labels[] = {{"route", "r"}};
  out.histogram(labels, bounds, counts, 42.5);
  EXPECT_EQ(out.text(),
            "# HELP p_latency_ms Latency.\n"
            "# TYPE p_latency_ms histogram\n"
            "p_latency_ms_bucket{route=\"r\",le=\"1\"} 2\n"
            "p_latency_ms_bucket{route=\"r\",le=\"2.5\"} 2\n"
            "p_latency_ms_bucket{route=\"r\",le=\"10\"} 5\n"
            "p_latency_ms_bucket{route=\"r\",le=\"+Inf\"} 6\n"
            "p_latency_ms_sum{route=\"r\"} 42.5\n"
            "p_latency_ms_count{route=\"r\"} 6\n");
}

TEST(ExpositionTest, HistogramWithoutLabels) {
  Exposition out("");
  out.family("h", "H.", Type::kHistogram);
  std::array<double, 1> bounds = {0.5};
  std::array<uint64_t, 2> counts = {1, 1};
  out.histogram({}, bounds, counts, 1.25);
  EXPECT_EQ(out.text(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1.25\nh_count 2\n");
}

}  // namespace
}  // namespace gatehouse::metrics

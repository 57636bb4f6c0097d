#pragma once
// Request, upstream and authorization counters of one worker. Each worker
// owns one RequestMetrics and is the only writer of it: a counter is a
// relaxed atomic load and store (a plain add on the hardware, no lock, no
// read-modify-write), and recording never allocates. A scrape reads every
// worker's block from another thread and sums them.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "metrics/exposition.h"

namespace gatehouse::metrics {

// A counter with one writer and any number of readers.
class Counter {
 public:
  void add(uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Why a request's upstream failed (none: it answered, or was never asked).
enum class UpstreamFailure : uint8_t { kNone, kConnect, kTimeout, kOther };

// What the access log knows when a request ends.
struct RequestSample {
  std::string_view route;  // the route's name, else its id; "" = no route
  std::string_view method;
  int status = 0;  // 0: no response was sent (the client went away)
  std::chrono::nanoseconds duration{0};
  UpstreamFailure upstream_failure = UpstreamFailure::kNone;
  // RequestMetrics::routeKey(route), computed once per route when the
  // configuration is loaded; 0: computed when recorded.
  uint64_t route_key = 0;
};

class RequestMetrics {
 public:
  // Route labels beyond this many (per worker) are counted as route="other",
  // so that the number of series stays bounded whatever the config holds.
  static constexpr size_t kRouteCapacity = 256;
  static constexpr size_t kMaxRouteLabel = 96;  // longer labels are cut
  static constexpr size_t kMethods = 10;        // 9 standard methods + other
  static constexpr size_t kStatusClasses = 6;   // no response, 1xx .. 5xx
  static constexpr std::array<double, 15> kDurationBoundsMs = {
      1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
  static constexpr std::array<double, 12> kEvaluationBoundsMs = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25};

  // The key a route label is found under (never 0). Callers that record
  // the same label often compute it once and pass it in the sample.
  static uint64_t routeKey(std::string_view label) noexcept;

  // Worker thread only.
  void recordRequest(const RequestSample& sample) noexcept;
  void recordDecision(bool allowed, std::chrono::nanoseconds evaluation) noexcept;

  // Any thread: writes the request, upstream and authorize families summed
  // over `workers`.
  static void collect(std::span<const RequestMetrics* const> workers, Exposition& out);

 private:
  // Slot 0 is "no route", slot 1 "other"; the rest belong to the table.
  static constexpr size_t kSlots = 2 + kRouteCapacity;
  struct RouteEntry {
    uint8_t length = 0;
    char name[kMaxRouteLabel] = {};
  };
  struct RouteCounters {
    std::array<std::array<Counter, kStatusClasses>, kMethods> requests;
    std::array<Counter, kDurationBoundsMs.size() + 1> duration_buckets;
    Counter duration_sum_us;
    std::array<Counter, 3> upstream_failures;  // connect, timeout, other
  };

  size_t slotFor(std::string_view route, uint64_t key) noexcept;

  // routeKey() of the label in routes_[i], 0 = free. Published (release)
  // after the name is written, so that a reader that sees it sees the
  // name. Kept apart from the names so that probing reads a few adjacent
  // cache lines: with more routes than slots, every request to a route
  // without one probes kMaxProbes keys.
  std::array<std::atomic<uint64_t>, kRouteCapacity> keys_{};
  std::array<RouteEntry, kRouteCapacity> routes_;
  // Once every slot is taken no label gets one any more: a label found in
  // none sets its bit (from its key) in absent_, unless a label in the
  // table has the same bit in present_, and then costs one test rather
  // than kMaxProbes loads. Worker thread only.
  static constexpr size_t kFilterBits = 4096;
  size_t used_ = 0;
  std::array<uint64_t, kFilterBits / 64> present_{};
  std::array<uint64_t, kFilterBits / 64> absent_{};
  std::array<RouteCounters, kSlots> counters_;
  std::array<Counter, 2> decisions_;  // allow, deny
  std::array<Counter, kEvaluationBoundsMs.size() + 1> evaluation_buckets_;
  Counter evaluation_sum_ns_;
};

}  // namespace gatehouse::metrics

#include "metrics/request_metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::metrics {
namespace {

constexpr std::string_view kMethodNames[RequestMetrics::kMethods] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"};
constexpr std::string_view kStatusNames[RequestMetrics::kStatusClasses] = {"0",   "1xx", "2xx",
                                                                           "3xx", "4xx", "5xx"};
constexpr std::string_view kFailureNames[3] = {"connect", "timeout", "other"};
constexpr std::string_view kOtherRoute = "other";
constexpr size_t kMaxProbes = 32;

size_t methodIndex(std::string_view method) noexcept {
  for (size_t i = 0; i + 1 < RequestMetrics::kMethods; ++i) {
    if (kMethodNames[i] == method) return i;
  }
  return RequestMetrics::kMethods - 1;
}

size_t statusIndex(int status) noexcept {
  if (status < 100 || status > 599) return 0;
  return static_cast<size_t>(status / 100);
}

template <size_t N>
size_t bucketIndex(const std::array<double, N>& bounds, double value) noexcept {
  return static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                             bounds.begin());
}

// One route label's counters summed over the workers.
struct Totals {
  uint64_t requests[RequestMetrics::kMethods][RequestMetrics::kStatusClasses] = {};
  std::vector<uint64_t> duration_buckets =
      std::vector<uint64_t>(RequestMetrics::kDurationBoundsMs.size() + 1, 0);
  uint64_t duration_sum_us = 0;
  uint64_t upstream_failures[3] = {};
};

}  // namespace

uint64_t RequestMetrics::routeKey(std::string_view label) noexcept {
  // FNV-1a of the label as stored (cut to kMaxRouteLabel).
  label = label.substr(0, kMaxRouteLabel);
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : label) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash == 0 ? 1 : hash;
}

size_t RequestMetrics::slotFor(std::string_view route, uint64_t key) noexcept {
  if (route.empty()) return 0;
  route = route.substr(0, kMaxRouteLabel);
  if (key == 0) key = routeKey(route);
  // Bits of the key that do not pick the slot.
  const size_t bit = static_cast<size_t>(key >> 32) % kFilterBits;
  const uint64_t mask = uint64_t{1} << (bit % 64);
  const bool full = used_ == kRouteCapacity;
  if (full && (absent_[bit / 64] & mask) != 0) return 1;
  size_t start = static_cast<size_t>(key % kRouteCapacity);
  for (size_t probe = 0; probe < kMaxProbes; ++probe) {
    size_t index = (start + probe) % kRouteCapacity;
    // Only this worker writes the table, so a relaxed load sees its own
    // earlier stores.
    uint64_t seen = keys_[index].load(std::memory_order_relaxed);
    RouteEntry& entry = routes_[index];
    if (seen == 0) {
      std::copy(route.begin(), route.end(), entry.name);
      entry.length = static_cast<uint8_t>(route.size());
      keys_[index].store(key, std::memory_order_release);
      ++used_;
      present_[bit / 64] |= mask;
      return 2 + index;
    }
    if (seen == key && std::string_view(entry.name, entry.length) == route) return 2 + index;
  }
  if (full && (present_[bit / 64] & mask) == 0) absent_[bit / 64] |= mask;
  return 1;
}

void RequestMetrics::recordRequest(const RequestSample& sample) noexcept {
  RouteCounters& c = counters_[slotFor(sample.route, sample.route_key)];
  c.requests[methodIndex(sample.method)][statusIndex(sample.status)].add(1);
  uint64_t micros = static_cast<uint64_t>(std::max<int64_t>(0, sample.duration.count() / 1000));
  c.duration_buckets[bucketIndex(kDurationBoundsMs, static_cast<double>(micros) / 1000.0)].add(1);
  c.duration_sum_us.add(micros);
  if (sample.upstream_failure != UpstreamFailure::kNone) {
    c.upstream_failures[static_cast<size_t>(sample.upstream_failure) - 1].add(1);
  }
}

void RequestMetrics::recordDecision(bool allowed, std::chrono::nanoseconds evaluation) noexcept {
  decisions_[allowed ? 0 : 1].add(1);
  uint64_t nanos = static_cast<uint64_t>(std::max<int64_t>(0, evaluation.count()));
  evaluation_buckets_[bucketIndex(kEvaluationBoundsMs, static_cast<double>(nanos) / 1e6)].add(1);
  evaluation_sum_ns_.add(nanos);
}

void RequestMetrics::collect(std::span<const RequestMetrics* const> workers, Exposition& out) {
  // Each worker numbers its routes in its own table: sum by label.
  std::map<std::string, Totals, std::less<>> totals;
  auto addSlot = [&](const RouteCounters& c, std::string_view label) {
    Totals& t = totals[std::string(label)];
    for (size_t m = 0; m < kMethods; ++m) {
      for (size_t s = 0; s < kStatusClasses; ++s) t.requests[m][s] += c.requests[m][s].value();
    }
    for (size_t b = 0; b < c.duration_buckets.size(); ++b) {
      t.duration_buckets[b] += c.duration_buckets[b].value();
    }
    t.duration_sum_us += c.duration_sum_us.value();
    for (size_t f = 0; f < 3; ++f) t.upstream_failures[f] += c.upstream_failures[f].value();
  };
  uint64_t decisions[2] = {};
  std::vector<uint64_t> evaluation_buckets(kEvaluationBoundsMs.size() + 1, 0);
  uint64_t evaluation_sum_ns = 0;
  for (const RequestMetrics* w : workers) {
    addSlot(w->counters_[0], "");
    addSlot(w->counters_[1], kOtherRoute);
    for (size_t i = 0; i < kRouteCapacity; ++i) {
      if (w->keys_[i].load(std::memory_order_acquire) == 0) continue;
      const RouteEntry& entry = w->routes_[i];
      addSlot(w->counters_[2 + i], std::string_view(entry.name, entry.length));
    }
    for (size_t d = 0; d < 2; ++d) decisions[d] += w->decisions_[d].value();
    for (size_t b = 0; b < evaluation_buckets.size(); ++b) {
      evaluation_buckets[b] += w->evaluation_buckets_[b].value();
    }
    evaluation_sum_ns += w->evaluation_sum_ns_.value();
  }

  out.family("http_server_requests_total",
             "Requests served, by route (name, else id; empty: none matched), method and status "
             "class.",
             Type::kCounter);
  for (const auto& [route, t] : totals) {
    for (size_t m = 0; m < kMethods; ++m) {
      for (size_t s = 0; s < kStatusClasses; ++s) {
        if (t.requests[m][s] == 0) continue;
        out.sample({{"route", route}, {"method", kMethodNames[m]}, {"status", kStatusNames[s]}},
                   static_cast<double>(t.requests[m][s]));
      }
    }
  }
  out.family("http_server_request_duration_ms",
             "Time from the request's arrival to the end of its response, by route.",
             Type::kHistogram);
  for (const auto& [route, t] : totals) {
    uint64_t count = 0;
    for (uint64_t n : t.duration_buckets) count += n;
    if (count == 0) continue;
    Label labels[] = {{"route", route}};
    out.histogram(labels, kDurationBoundsMs, t.duration_buckets,
                  static_cast<double>(t.duration_sum_us) / 1000.0);
  }
  out.family("upstream_errors_total",
             "Requests whose upstream could not be reached (connect), did not answer in time "
             "(timeout) or broke off (other), by route.",
             Type::kCounter);
  for (const auto& [route, t] : totals) {
    for (size_t f = 0; f < 3; ++f) {
      if (t.upstream_failures[f] == 0) continue;
      out.sample({{"route", route}, {"kind", kFailureNames[f]}},
                 static_cast<double>(t.upstream_failures[f]));
    }
  }
  out.family("authorize_evaluations_total", "Policy evaluations, by decision.", Type::kCounter);
  out.sample({{"decision", "allow"}}, static_cast<double>(decisions[0]));
  out.sample({{"decision", "deny"}}, static_cast<double>(decisions[1]));
  out.family("authorize_evaluation_duration_ms", "Time to evaluate a route's policy.",
             Type::kHistogram);
  out.histogram({}, kEvaluationBoundsMs, evaluation_buckets,
                static_cast<double>(evaluation_sum_ns) / 1e6);
}

}  // namespace gatehouse::metrics

#include "metrics/storage_metrics.h"

#include <algorithm>

namespace gatehouse::metrics {
namespace {

constexpr std::string_view kOperationNames[StorageMetrics::kOperations] = {
    "get",         "put",           "patch",       "query",         "sync",
    "sync_latest", "server_info",   "list_types",  "get_options",   "set_options",
    "clear",       "acquire_lease", "renew_lease", "release_lease", "clean",
};

}  // namespace

std::string_view StorageMetrics::operationName(Operation operation) noexcept {
  size_t index = static_cast<size_t>(operation);
  return index < kOperations ? kOperationNames[index] : std::string_view("other");
}

void StorageMetrics::record(Operation operation, bool success,
                            std::chrono::nanoseconds duration) noexcept {
  size_t index = static_cast<size_t>(operation);
  if (index >= kOperations) return;
  Series& series = series_[index][success ? 0 : 1];
  double ms = static_cast<double>(duration.count()) / 1e6;
  size_t bucket =
      static_cast<size_t>(std::lower_bound(kDurationBoundsMs.begin(), kDurationBoundsMs.end(), ms) -
                          kDurationBoundsMs.begin());
  series.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  series.sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(duration.count(), 0)),
                          std::memory_order_relaxed);
}

uint64_t StorageMetrics::count(Operation operation, bool success) const noexcept {
  size_t index = static_cast<size_t>(operation);
  if (index >= kOperations) return 0;
  uint64_t total = 0;
  for (const auto& bucket : series_[index][success ? 0 : 1].buckets) {
    total += bucket.load(std::memory_order_relaxed);
  }
  return total;
}

void StorageMetrics::collect(Exposition& out) const {
  out.family("storage_operation_duration_ms",
             "Databroker storage operations, by operation, result and backend, in ms; _count "
             "counts them.",
             Type::kHistogram);
  for (size_t op = 0; op < kOperations; ++op) {
    for (size_t result = 0; result < 2; ++result) {
      const Series& series = series_[op][result];
      std::array<uint64_t, kDurationBoundsMs.size() + 1> counts;
      uint64_t total = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        counts[i] = series.buckets[i].load(std::memory_order_relaxed);
        total += counts[i];
      }
      if (total == 0) continue;
      Label labels[] = {{"operation", kOperationNames[op]},
                        {"result", result == 0 ? "success" : "error"},
                        {"backend", backend_},
                        {"service", "databroker"}};
      out.histogram(labels, kDurationBoundsMs, counts,
                    static_cast<double>(series.sum_ns.load(std::memory_order_relaxed)) / 1e6);
    }
  }
}

}  // namespace gatehouse::metrics

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
  series_[index][success ? 0 : 1].record(kDurationBoundsMs, duration);
}

uint64_t StorageMetrics::count(Operation operation, bool success) const noexcept {
  size_t index = static_cast<size_t>(operation);
  if (index >= kOperations) return 0;
  return series_[index][success ? 0 : 1].count();
}

void StorageMetrics::collect(Exposition& out) const {
  out.family("storage_operation_duration_ms",
             "Databroker storage operations, by operation, result and backend, in ms; _count "
             "counts them.",
             Type::kHistogram);
  for (size_t op = 0; op < kOperations; ++op) {
    for (size_t result = 0; result < 2; ++result) {
      const Series& series = series_[op][result];
      if (series.count() == 0) continue;
      Label labels[] = {{"operation", kOperationNames[op]},
                        {"result", result == 0 ? "success" : "error"},
                        {"backend", backend_},
                        {"service", "databroker"}};
      series.write(out, labels, kDurationBoundsMs);
    }
  }
}

}  // namespace gatehouse::metrics

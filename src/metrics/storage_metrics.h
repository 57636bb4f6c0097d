#pragma once
// storage_operation_duration_ms as Pomerium names it: the databroker's
// storage operations by operation, result (success or error) and backend.
// Operations run on gRPC's threads and the databroker's own threads, many
// at once: every counter is a relaxed atomic add, no lock, no allocation.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/exposition.h"
#include "metrics/shared_histogram.h"

namespace gatehouse::metrics {

class StorageMetrics {
 public:
  // One per method of databroker::Backend.
  enum class Operation : uint8_t {
    kGet,
    kPut,
    kPatch,
    kQuery,
    kSync,        // changes(): what a Sync stream reads
    kSyncLatest,  // latest(): what SyncLatest reads
    kServerInfo,
    kListTypes,
    kGetOptions,
    kSetOptions,
    kClear,
    kAcquireLease,
    kRenewLease,
    kReleaseLease,
    kClean,
  };
  static constexpr size_t kOperations = 15;
  static constexpr std::array<double, 16> kDurationBoundsMs = {
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000, 5000};

  // `backend` labels every series: memory, file or postgres.
  explicit StorageMetrics(std::string backend) : backend_(std::move(backend)) {}
  StorageMetrics(const StorageMetrics&) = delete;
  StorageMetrics& operator=(const StorageMetrics&) = delete;

  // Any thread, concurrently.
  void record(Operation operation, bool success, std::chrono::nanoseconds duration) noexcept;

  // Operations counted so far (tests).
  uint64_t count(Operation operation, bool success) const noexcept;

  // Writes the storage_operation_duration_ms family: one series per
  // operation and result that has happened.
  void collect(Exposition& out) const;

  static std::string_view operationName(Operation operation) noexcept;

 private:
  using Series = SharedDurationHistogram<kDurationBoundsMs.size()>;

  std::string backend_;
  // [operation][0 = success, 1 = error]
  std::array<std::array<Series, 2>, kOperations> series_;
};

}  // namespace gatehouse::metrics

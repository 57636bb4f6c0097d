#pragma once
// A duration histogram that any thread may record into (gRPC's threads, the
// databroker's): relaxed atomic adds, no lock, no allocation. The request
// counters of request_metrics.h have one writer per block and need no
// read-modify-write; these do. The bounds (milliseconds, ascending) belong
// to the owner and are passed in, so that one type serves every family.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>

#include "metrics/exposition.h"

namespace gatehouse::metrics {

template <size_t Bounds>
class SharedDurationHistogram {
 public:
  void record(const std::array<double, Bounds>& bounds_ms,
              std::chrono::nanoseconds duration) noexcept {
    double ms = static_cast<double>(duration.count()) / 1e6;
    size_t bucket = static_cast<size_t>(std::lower_bound(bounds_ms.begin(), bounds_ms.end(), ms) -
                                        bounds_ms.begin());
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(duration.count(), 0)),
                      std::memory_order_relaxed);
  }

  uint64_t count() const noexcept {
    uint64_t total = 0;
    for (const auto& bucket : buckets_) total += bucket.load(std::memory_order_relaxed);
    return total;
  }

  // Writes one histogram of the current family with these labels.
  void write(Exposition& out, std::span<const Label> labels,
             const std::array<double, Bounds>& bounds_ms) const {
    std::array<uint64_t, Bounds + 1> counts;
    for (size_t i = 0; i < counts.size(); ++i) {
      counts[i] = buckets_[i].load(std::memory_order_relaxed);
    }
    out.histogram(labels, bounds_ms, counts,
                  static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e6);
  }

 private:
  std::array<std::atomic<uint64_t>, Bounds + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace gatehouse::metrics

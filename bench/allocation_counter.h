#pragma once
// Counts heap allocations in a benchmark binary: the global operator new is
// replaced by one that counts, so that a benchmark can report allocations
// per iteration next to its time.
//
// Replacement allocation functions must be defined once per program:
// include this header in exactly one translation unit of a benchmark
// binary. Counting is always on; one relaxed atomic increment per
// allocation is noise next to malloc itself.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace gatehouse::bench {

inline std::atomic<uint64_t> allocation_count{0};

inline void* countedAllocate(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}

// Allocations from construction to report(), divided by the benchmark's
// iterations: construct it just before the timed loop.
class AllocationsPerIteration {
 public:
  AllocationsPerIteration() : start_(allocation_count.load(std::memory_order_relaxed)) {}
  void report(benchmark::State& state) const {
    const uint64_t total = allocation_count.load(std::memory_order_relaxed) - start_;
    state.counters["allocs/iter"] =
        benchmark::Counter(static_cast<double>(total), benchmark::Counter::kAvgIterations);
  }

 private:
  uint64_t start_;
};

}  // namespace gatehouse::bench

void* operator new(std::size_t size) { return gatehouse::bench::countedAllocate(size); }
void* operator new[](std::size_t size) { return gatehouse::bench::countedAllocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gatehouse::bench::countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gatehouse::bench::countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

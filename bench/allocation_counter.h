#pragma once
// Allocations per iteration for a benchmark, from the counting operator new
// of support/allocation_counter.h: include this header in exactly one
// translation unit of a benchmark binary.

#include <benchmark/benchmark.h>

#include <cstdint>

#include "support/allocation_counter.h"

namespace gatehouse::bench {

// Allocations from construction to report(), divided by the benchmark's
// iterations: construct it just before the timed loop.
class AllocationsPerIteration {
 public:
  void report(benchmark::State& state) const {
    state.counters["allocs/iter"] = benchmark::Counter(static_cast<double>(window_.count()),
                                                       benchmark::Counter::kAvgIterations);
  }

 private:
  testing::AllocationWindow window_;
};

}  // namespace gatehouse::bench

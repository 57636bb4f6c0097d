#pragma once
// Counts heap allocations in a test or benchmark binary: the global
// operator new is replaced by one that counts every allocation (one relaxed
// atomic increment, noise next to malloc itself).
//
// Replacement allocation functions must be defined once per program:
// include this header in exactly one translation unit of the binary.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace gatehouse::testing {

inline std::atomic<uint64_t> allocation_count{0};

inline void* countedAllocate(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}

// The allocations made (by any thread) since construction.
class AllocationWindow {
 public:
  AllocationWindow() : start_(allocation_count.load(std::memory_order_relaxed)) {}
  uint64_t count() const { return allocation_count.load(std::memory_order_relaxed) - start_; }

 private:
  uint64_t start_;
};

}  // namespace gatehouse::testing

void* operator new(std::size_t size) { return gatehouse::testing::countedAllocate(size); }
void* operator new[](std::size_t size) { return gatehouse::testing::countedAllocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gatehouse::testing::countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return gatehouse::testing::countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

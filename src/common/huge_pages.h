#pragma once

#include <cstddef>
#include <limits>
#include <new>

namespace gatehouse {

namespace detail {
inline constexpr size_t kHugePageSize = size_t{2} << 20;
// Below this an array spans few enough pages that a 2 MiB page would only
// waste memory.
inline constexpr size_t kHugePageThreshold = size_t{256} << 10;
// Whole 2 MiB pages, aligned to one, that the kernel may back with
// transparent huge pages (MADV_HUGEPAGE). Throws std::bad_alloc.
void* mapHugePages(size_t bytes);
void unmapHugePages(void* p, size_t bytes) noexcept;
}  // namespace detail

// For arrays that every request reads at a random place: the per-route
// tables of a configuration with thousands of routes. With 4 KiB pages
// each such read is likely to miss the TLB as well as the cache, and a
// page walk in a virtual machine costs several memory accesses; from
// 256 KiB up the array goes in memory that the kernel may back with 2 MiB
// pages. Smaller arrays are ordinary (aligned) heap allocations.
template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    size_t bytes = n * sizeof(T);
    if (bytes >= detail::kHugePageThreshold) return static_cast<T*>(detail::mapHugePages(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t(alignof(T))));
  }
  void deallocate(T* p, size_t n) noexcept {
    size_t bytes = n * sizeof(T);
    if (bytes >= detail::kHugePageThreshold) {
      detail::unmapHugePages(p, bytes);
    } else {
      ::operator delete(p, std::align_val_t(alignof(T)));
    }
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace gatehouse

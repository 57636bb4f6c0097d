#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace gatehouse::detail {
namespace {

size_t roundUp(size_t bytes) { return (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1); }

}  // namespace

void* mapHugePages(size_t bytes) {
  const size_t length = roundUp(bytes);
  // One page more than needed, then the unaligned ends are given back: a
  // huge page must start on a 2 MiB boundary.
  const size_t mapped = length + kHugePageSize;
  void* raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = (base + kHugePageSize - 1) & ~(uintptr_t{kHugePageSize} - 1);
  const size_t head = start - base;
  if (head > 0) ::munmap(raw, head);
  const size_t tail = mapped - head - length;
  if (tail > 0) ::munmap(reinterpret_cast<void*>(start + length), tail);
  // Advice only: without transparent huge pages the memory is ordinary.
  ::madvise(reinterpret_cast<void*>(start), length, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(start);
}

void unmapHugePages(void* p, size_t bytes) noexcept { ::munmap(p, roundUp(bytes)); }

}  // namespace gatehouse::detail

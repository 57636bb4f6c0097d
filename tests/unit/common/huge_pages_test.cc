#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gatehouse {
namespace {

struct alignas(64) Line {
  uint64_t words[8];
};

bool aligned(const void* p, size_t to) { return reinterpret_cast<uintptr_t>(p) % to == 0; }

// The advice the kernel holds for the mapping that contains `p`, from
// /proc/self/smaps: "hg" is MADV_HUGEPAGE.
bool advisedHuge(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t from = 0;
    uintptr_t to = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= address && address < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.find(" hg") != std::string::npos;
    }
  }
  return false;
}

TEST(HugePageAllocator, SmallArraysAreOrdinaryAlignedAllocations) {
  std::vector<Line, HugePageAllocator<Line>> lines(100);
  EXPECT_TRUE(aligned(lines.data(), 64));
  EXPECT_FALSE(advisedHuge(lines.data()));
  for (size_t i = 0; i < lines.size(); ++i) lines[i].words[7] = i;
  lines.resize(200);
  EXPECT_EQ(lines[99].words[7], 99u);
}

TEST(HugePageAllocator, LargeArraysAreWholeHugePagesAdvisedToTheKernel) {
  const size_t count = detail::kHugePageThreshold / sizeof(Line) + 1;
  std::vector<Line, HugePageAllocator<Line>> lines(count);
  EXPECT_TRUE(aligned(lines.data(), detail::kHugePageSize));
  EXPECT_TRUE(advisedHuge(lines.data()));
  for (size_t i = 0; i < lines.size(); ++i) lines[i].words[0] = i;
  // Growing maps the next array before the old one is given back.
  lines.resize(count * 10);
  EXPECT_TRUE(aligned(lines.data(), detail::kHugePageSize));
  for (size_t i = 0; i < count; ++i) ASSERT_EQ(lines[i].words[0], i);
  lines.back().words[7] = 1;
  lines.clear();
  lines.shrink_to_fit();
  EXPECT_EQ(lines.capacity(), 0u);
}

TEST(HugePageAllocator, AnImpossibleSizeThrows) {
  HugePageAllocator<Line> allocator;
  EXPECT_THROW((void)allocator.allocate(SIZE_MAX / 8), std::bad_array_new_length);
}

}  // namespace
}  // namespace gatehouse

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "proxy/proxy.h"

namespace gatehouse::proxy {
namespace {

TEST(RequestId, IsTheBitsAsAVersionFourUuid) {
  EXPECT_EQ(std::string_view(requestIdFrom(0x0123456789abcdefULL, 0xfedcba9876543210ULL)),
            "01234567-89ab-4def-fedc-ba9876543210");
  EXPECT_EQ(std::string_view(requestIdFrom(0, 0)), "00000000-0000-4000-0000-000000000000");
  EXPECT_EQ(std::string_view(requestIdFrom(~0ULL, ~0ULL)), "ffffffff-ffff-4fff-ffff-ffffffffffff");
  // Each byte lands on its own two digits.
  for (int byte = 0; byte < 16; ++byte) {
    const uint64_t one = uint64_t{0xa5} << (56 - 8 * (byte % 8));
    const std::string id(requestIdFrom(byte < 8 ? one : 0, byte < 8 ? 0 : one));
    size_t digits = 0;
    for (size_t i = 0; i < id.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        EXPECT_EQ(id[i], '-');
      } else if (i != 14 && id[i] != '0') {
        ++digits;
      }
    }
    EXPECT_EQ(digits, byte == 6 ? 1u : 2u) << id;  // the version digit takes one
  }
}

}  // namespace
}  // namespace gatehouse::proxy

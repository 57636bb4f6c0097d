#include "common/duration.h"

#include <gtest/gtest.h>

namespace gatehouse {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(parseGoDuration("30s"), Duration(seconds(30)));
  EXPECT_EQ(parseGoDuration("5m"), Duration(seconds(300)));
  EXPECT_EQ(parseGoDuration("1h30m"), Duration(seconds(5400)));
  EXPECT_EQ(parseGoDuration("1.5s"), Duration(milliseconds(1500)));
  EXPECT_EQ(parseGoDuration("300ms"), Duration(milliseconds(300)));
  EXPECT_EQ(parseGoDuration("0"), Duration::zero());
  EXPECT_EQ(parseGoDuration("-2s"), Duration(seconds(-2)));
}

TEST(GoDuration, RefusesWhatGoRefuses) {
  EXPECT_FALSE(parseGoDuration(""));
  EXPECT_FALSE(parseGoDuration("30"));
  EXPECT_FALSE(parseGoDuration("s"));
  EXPECT_FALSE(parseGoDuration("1d"));
  EXPECT_FALSE(parseGoDuration("1h 30m"));
  EXPECT_FALSE(parseGoDuration("99999999999h"));
}

}  // namespace
}  // namespace gatehouse

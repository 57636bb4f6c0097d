#include "unit/policy/fake_time_zones.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision at(std::string_view matcher, std::chrono::system_clock::time_point now) {
  Policy policy =
      compileOk("allow:\n  and:\n    - time_of_day: " + std::string(matcher) + "\n", fakeZones());
  Request r;
  r.now = now;
  return policy.evaluate(r.input());
}

TEST(TimeOfDayCriterion, BoundsInUtc) {
  std::string hours = "{timezone: UTC, after: '9:00', before: '17:00'}";
  Decision open = at(hours, utc(2024, 5, 1, 9));
  EXPECT_TRUE(open.allowed());
  EXPECT_EQ(names(open.allow_reasons), Names{"time-of-day-ok"});
  EXPECT_FALSE(at(hours, utc(2024, 5, 1, 8, 59, 59)).allowed());
  EXPECT_TRUE(at(hours, utc(2024, 5, 1, 16, 59, 59)).allowed());
  Decision closed = at(hours, utc(2024, 5, 1, 17));
  EXPECT_FALSE(closed.allowed());
  EXPECT_EQ(names(closed.allow_reasons), Names{"time-of-day-unauthorized"});
}

TEST(TimeOfDayCriterion, PomeriumFormats) {
  auto t = utc(2024, 5, 1, 14, 30);  // 14:30 UTC
  EXPECT_TRUE(at("{timezone: UTC, after: '2:20:00', before: '4:30PM'}", t).allowed());
  EXPECT_TRUE(at("{timezone: UTC, after: '2 PM', before: '3PM'}", t).allowed());
  EXPECT_TRUE(at("{timezone: UTC, after: '2:30 PM'}", t).allowed());
  EXPECT_FALSE(at("{timezone: UTC, after: '2:31pm'}", t).allowed());
  EXPECT_TRUE(at("{timezone: UTC, after: '14:29:59.999999999'}", t).allowed());
  EXPECT_FALSE(at("{timezone: UTC, before: '14:30:00'}", t).allowed());
  // 12 AM is midnight, 12 PM noon.
  EXPECT_TRUE(at("{timezone: UTC, after: '12 AM', before: '12 PM'}", utc(2024, 5, 1, 0)).allowed());
  EXPECT_FALSE(
      at("{timezone: UTC, after: '12 AM', before: '12 PM'}", utc(2024, 5, 1, 12)).allowed());
}

TEST(TimeOfDayCriterion, WindowAcrossMidnight) {
  std::string night = "{timezone: UTC, after: '22:00', before: '06:00'}";
  EXPECT_TRUE(at(night, utc(2024, 5, 1, 23)).allowed());
  EXPECT_TRUE(at(night, utc(2024, 5, 1, 2)).allowed());
  EXPECT_FALSE(at(night, utc(2024, 5, 1, 6)).allowed());
  EXPECT_FALSE(at(night, utc(2024, 5, 1, 12)).allowed());
}

TEST(TimeOfDayCriterion, ZonesFollowDaylightSaving) {
  std::string office = "{timezone: America/New_York, after: '9:00 AM', before: '5:00 PM'}";
  // Winter, EST (UTC-5): 09:00 is 14:00 UTC.
  EXPECT_FALSE(at(office, utc(2024, 1, 15, 13, 59, 59)).allowed());
  EXPECT_TRUE(at(office, utc(2024, 1, 15, 14)).allowed());
  // Summer, EDT (UTC-4): 09:00 is 13:00 UTC.
  EXPECT_TRUE(at(office, utc(2024, 7, 15, 13)).allowed());
  EXPECT_FALSE(at(office, utc(2024, 7, 15, 21)).allowed());
  // Southern hemisphere: Sydney is UTC+11 in January, UTC+10 in July.
  std::string sydney = "{timezone: Australia/Sydney, after: '14:00', before: '15:00'}";
  EXPECT_TRUE(at(sydney, utc(2024, 1, 15, 3)).allowed());
  EXPECT_FALSE(at(sydney, utc(2024, 7, 15, 3)).allowed());
  EXPECT_TRUE(at(sydney, utc(2024, 7, 15, 4)).allowed());
  // Fractional offsets: Kathmandu is UTC+5:45.
  std::string kathmandu = "{timezone: Asia/Kathmandu, after: '09:00', before: '09:01'}";
  EXPECT_TRUE(at(kathmandu, utc(2024, 5, 1, 3, 15)).allowed());
  EXPECT_FALSE(at(kathmandu, utc(2024, 5, 1, 3, 14, 59)).allowed());
}

TEST(TimeOfDayCriterion, SpringForwardSkipsAnHour) {
  // New York, 2024-03-10: 01:59:59 EST (06:59:59 UTC) is followed by
  // 03:00:00 EDT (07:00:00 UTC); no instant is 02:xx local.
  std::string gap = "{timezone: America/New_York, after: '02:00', before: '03:00'}";
  EXPECT_FALSE(at(gap, utc(2024, 3, 10, 6, 59, 59)).allowed());
  EXPECT_FALSE(at(gap, utc(2024, 3, 10, 7)).allowed());
  EXPECT_FALSE(at(gap, utc(2024, 3, 10, 7, 30)).allowed());
  std::string early = "{timezone: America/New_York, before: '03:00'}";
  EXPECT_TRUE(at(early, utc(2024, 3, 10, 6, 59, 59)).allowed());
  EXPECT_FALSE(at(early, utc(2024, 3, 10, 7)).allowed());
}

TEST(TimeOfDayCriterion, FallBackRepeatsAnHour) {
  // New York, 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and again at
  // 06:30 UTC (EST).
  std::string repeated = "{timezone: America/New_York, after: '01:00', before: '02:00'}";
  EXPECT_TRUE(at(repeated, utc(2024, 11, 3, 5, 30)).allowed());
  EXPECT_TRUE(at(repeated, utc(2024, 11, 3, 6, 30)).allowed());
  EXPECT_FALSE(at(repeated, utc(2024, 11, 3, 7, 0)).allowed());       // 02:00 EST
  EXPECT_FALSE(at(repeated, utc(2024, 11, 3, 4, 59, 59)).allowed());  // 00:59:59 EDT
}

TEST(TimeOfDayCriterion, PhoenixHasNoDaylightSaving) {
  std::string office = "{timezone: America/Phoenix, after: '9:00', before: '10:00'}";
  EXPECT_TRUE(at(office, utc(2024, 1, 15, 16)).allowed());
  EXPECT_TRUE(at(office, utc(2024, 7, 15, 16)).allowed());
}

TEST(TimeOfDayCriterion, InvalidData) {
  auto error = [](std::string_view data) {
    return compileError("allow:\n  and:\n    - time_of_day: " + std::string(data) + "\n",
                        fakeZones());
  };
  EXPECT_THAT(error("{after: '9:00'}"), ::testing::HasSubstr("needs a timezone"));
  EXPECT_THAT(error("{timezone: UTC}"), ::testing::HasSubstr("needs after, before or both"));
  EXPECT_THAT(error("{timezone: UTC, after: '25:00'}"),
              ::testing::HasSubstr("\"25:00\" is not a time"));
  EXPECT_THAT(error("{timezone: UTC, after: '13 PM'}"), ::testing::HasSubstr("is not a time"));
  EXPECT_THAT(error("{timezone: UTC, after: '9'}"), ::testing::HasSubstr("is not a time"));
  EXPECT_THAT(error("{timezone: UTC, after: '9:00:00 PM'}"), ::testing::HasSubstr("is not a time"));
  EXPECT_THAT(error("{timezone: UTC, after: 9}"), ::testing::HasSubstr("got a number"));
  EXPECT_THAT(error("{timezone: Mars/Olympus, after: '9:00'}"),
              ::testing::HasSubstr("unknown time zone \"Mars/Olympus\""));
  EXPECT_THAT(error("{timezone: UTC, at: '9:00'}"),
              ::testing::HasSubstr("unknown time of day matcher operator \"at\""));
}

}  // namespace
}  // namespace gatehouse::policy::testing

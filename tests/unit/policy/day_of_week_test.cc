#include "unit/policy/fake_time_zones.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

// 2024-03-04 is a Monday.
std::chrono::system_clock::time_point day(unsigned d, int hour = 12) {
  return utc(2024, 3, d, hour);
}

Decision at(std::string_view matcher, std::chrono::system_clock::time_point now) {
  Policy policy =
      compileOk("allow:\n  and:\n    - day_of_week: " + std::string(matcher) + "\n", fakeZones());
  Request r;
  r.now = now;
  return policy.evaluate(r.input());
}

TEST(DayOfWeekCriterion, Range) {
  Decision monday = at("mon-fri", day(4));
  EXPECT_TRUE(monday.allowed());
  EXPECT_EQ(names(monday.allow_reasons), Names{"day-of-week-ok"});
  EXPECT_TRUE(at("mon-fri", day(8)).allowed());  // Friday
  Decision saturday = at("mon-fri", day(9));
  EXPECT_FALSE(saturday.allowed());
  EXPECT_EQ(names(saturday.allow_reasons), Names{"day-of-week-unauthorized"});
  EXPECT_FALSE(at("mon-fri", day(10)).allowed());  // Sunday
  EXPECT_TRUE(at("tue-fri", day(5)).allowed());    // the documentation's example
  EXPECT_FALSE(at("tue-fri", day(4)).allowed());
}

TEST(DayOfWeekCriterion, ListsWildcardNamesAndWrapping) {
  EXPECT_TRUE(at("'*'", day(9)).allowed());
  EXPECT_TRUE(at("mon,wed,fri", day(6)).allowed());
  EXPECT_FALSE(at("mon,wed,fri", day(7)).allowed());
  EXPECT_TRUE(at("Saturday, SUNDAY", day(10)).allowed());
  EXPECT_TRUE(at("fri-mon", day(10)).allowed());  // wraps over the weekend
  EXPECT_TRUE(at("fri-mon", day(4)).allowed());
  EXPECT_FALSE(at("fri-mon", day(5)).allowed());
  EXPECT_TRUE(at("'mon-tue,thu'", day(7)).allowed());
}

TEST(DayOfWeekCriterion, UtcByDefaultOrTheGivenZone) {
  // Friday 23:30 UTC is already Saturday 00:30 in Paris.
  auto late_friday = utc(2024, 3, 8, 23, 30);
  EXPECT_TRUE(at("mon-fri", late_friday).allowed());
  EXPECT_FALSE(at("{days: mon-fri, timezone: Europe/Paris}", late_friday).allowed());
  // Saturday 03:00 UTC is still Friday 22:00 in New York.
  auto early_saturday = utc(2024, 3, 9, 3);
  EXPECT_FALSE(at("mon-fri", early_saturday).allowed());
  EXPECT_TRUE(at("{days: mon-fri, timezone: America/New_York}", early_saturday).allowed());
}

TEST(DayOfWeekCriterion, InvalidData) {
  auto error = [](std::string_view data) {
    return compileError("allow:\n  and:\n    - day_of_week: " + std::string(data) + "\n",
                        fakeZones());
  };
  EXPECT_THAT(error("funday"), ::testing::HasSubstr("\"funday\" is not a day"));
  EXPECT_THAT(error("mon-"), ::testing::HasSubstr("\"mon-\" is not a day"));
  EXPECT_THAT(error("'mon,,fri'"), ::testing::HasSubstr("is not a day"));
  EXPECT_THAT(error("5"), ::testing::HasSubstr("expects a string"));
  EXPECT_THAT(error("{timezone: UTC}"), ::testing::HasSubstr("needs days"));
  EXPECT_THAT(error("{days: mon, tz: UTC}"),
              ::testing::HasSubstr("unknown day_of_week key \"tz\""));
}

}  // namespace
}  // namespace gatehouse::policy::testing

#include "unit/policy/fake_time_zones.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

Decision at(std::string_view matcher, std::chrono::system_clock::time_point now) {
  Policy policy =
      compileOk("allow:\n  and:\n    - date: " + std::string(matcher) + "\n", fakeZones());
  Request r;
  r.now = now;
  return policy.evaluate(r.input());
}

TEST(DateCriterion, AfterIsInclusiveBeforeIsExclusive) {
  std::string matcher = "{after: '2024-01-01T00:00:00', before: '2024-02-01'}";
  Decision in = at(matcher, utc(2024, 1, 15, 12));
  EXPECT_TRUE(in.allowed());
  EXPECT_EQ(names(in.allow_reasons), Names{"date-ok"});
  EXPECT_TRUE(at(matcher, utc(2024, 1, 1)).allowed());
  EXPECT_FALSE(at(matcher, utc(2023, 12, 31, 23, 59, 59)).allowed());
  EXPECT_TRUE(at(matcher, utc(2024, 1, 31, 23, 59, 59)).allowed());
  Decision out = at(matcher, utc(2024, 2, 1));
  EXPECT_FALSE(out.allowed());
  EXPECT_EQ(names(out.allow_reasons), Names{"date-unauthorized"});
}

TEST(DateCriterion, OneSidedBounds) {
  EXPECT_TRUE(at("{after: '2020-01-02T16:20:00'}", utc(2030, 1, 1)).allowed());
  EXPECT_FALSE(at("{after: '2020-01-02T16:20:00'}", utc(2020, 1, 2, 16, 19, 59)).allowed());
  EXPECT_TRUE(at("{before: '2150-01-02T16:20:00'}", utc(2030, 1, 1)).allowed());
}

TEST(DateCriterion, PomeriumDocumentationExample) {
  std::string matcher = "{after: '2020-01-02T16:20:00', before: '2150-01-02T16:20:00'}";
  EXPECT_TRUE(at(matcher, utc(2024, 6, 1)).allowed());
  EXPECT_FALSE(at(matcher, utc(2019, 6, 1)).allowed());
}

TEST(DateCriterion, OffsetsAndZones) {
  // 09:00 at +02:00 is 07:00 UTC.
  std::string offset = "{after: '2024-07-01T09:00:00+02:00'}";
  EXPECT_FALSE(at(offset, utc(2024, 7, 1, 6, 59, 59)).allowed());
  EXPECT_TRUE(at(offset, utc(2024, 7, 1, 7)).allowed());
  EXPECT_TRUE(at("{after: '2024-07-01T07:00:00Z'}", utc(2024, 7, 1, 7)).allowed());
  EXPECT_TRUE(at("{after: '2024-07-01T07:00:00.000000001Z'}", utc(2024, 7, 1, 7, 0, 1)).allowed());
  // Wall-clock time in a named zone: summer in Paris is UTC+2 ...
  std::string paris_summer = "{after: '2024-07-01T09:00', timezone: Europe/Paris}";
  EXPECT_FALSE(at(paris_summer, utc(2024, 7, 1, 6, 59, 59)).allowed());
  EXPECT_TRUE(at(paris_summer, utc(2024, 7, 1, 7)).allowed());
  // ... and winter UTC+1.
  std::string paris_winter = "{before: '2024-12-01T09:00', timezone: Europe/Paris}";
  EXPECT_TRUE(at(paris_winter, utc(2024, 12, 1, 7, 59, 59)).allowed());
  EXPECT_FALSE(at(paris_winter, utc(2024, 12, 1, 8)).allowed());
  // An explicit offset wins over the zone.
  EXPECT_TRUE(
      at("{after: '2024-07-01T09:00Z', timezone: Europe/Paris}", utc(2024, 7, 1, 9)).allowed());
}

TEST(DateCriterion, InvalidData) {
  auto error = [](std::string_view data) {
    return compileError("allow:\n  and:\n    - date: " + std::string(data) + "\n", fakeZones());
  };
  EXPECT_THAT(error("'2024-01-01'"), ::testing::HasSubstr("expected a date matcher"));
  EXPECT_THAT(error("{after: 'yesterday'}"),
              ::testing::HasSubstr("is not an ISO-8601 date or time"));
  EXPECT_THAT(error("{after: '2024-02-30'}"), ::testing::HasSubstr("is not an ISO-8601"));
  EXPECT_THAT(error("{after: '2024-01-01T25:00'}"), ::testing::HasSubstr("is not an ISO-8601"));
  EXPECT_THAT(error("{after: 2024}"),
              ::testing::HasSubstr("expects an ISO-8601 time, got a number"));
  EXPECT_THAT(error("{since: '2024-01-01'}"),
              ::testing::HasSubstr("unknown date matcher operator \"since\""));
  EXPECT_THAT(error("{timezone: UTC}"), ::testing::HasSubstr("needs after, before or both"));
  EXPECT_THAT(error("{after: '2024-01-01', timezone: Mars/Olympus}"),
              ::testing::HasSubstr("unknown time zone \"Mars/Olympus\""));
}

}  // namespace
}  // namespace gatehouse::policy::testing

#include "policy/time_zone.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "policy/time_zone_database.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::chrono::sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::floor<seconds>(utc(y, mo, d, h, mi, s));
}

std::shared_ptr<const TimeZone> rule(std::string_view text) {
  auto zone = TimeZone::fromPosixRule("test", text);
  EXPECT_TRUE(zone.ok()) << text;
  return zone.ok() ? *zone : TimeZone::utc();
}

TEST(PosixRule, UsEastern) {
  auto ny = rule("EST5EDT,M3.2.0,M11.1.0");
  EXPECT_EQ(ny->offsetAt(at(2024, 1, 1)), -hours(5));
  // Second Sunday of March 2024 is the 10th; 02:00 EST = 07:00 UTC.
  EXPECT_EQ(ny->offsetAt(at(2024, 3, 10, 6, 59, 59)), -hours(5));
  EXPECT_EQ(ny->offsetAt(at(2024, 3, 10, 7)), -hours(4));
  // First Sunday of November 2024 is the 3rd; 02:00 EDT = 06:00 UTC.
  EXPECT_EQ(ny->offsetAt(at(2024, 11, 3, 5, 59, 59)), -hours(4));
  EXPECT_EQ(ny->offsetAt(at(2024, 11, 3, 6)), -hours(5));
}

TEST(PosixRule, CentralEuropeLastSundays) {
  auto paris = rule("CET-1CEST,M3.5.0,M10.5.0/3");
  // Last Sunday of March 2024 is the 31st; 02:00 CET = 01:00 UTC.
  EXPECT_EQ(paris->offsetAt(at(2024, 3, 31, 0, 59, 59)), hours(1));
  EXPECT_EQ(paris->offsetAt(at(2024, 3, 31, 1)), hours(2));
  // Last Sunday of October 2024 is the 27th; 03:00 CEST = 01:00 UTC.
  EXPECT_EQ(paris->offsetAt(at(2024, 10, 27, 0, 59, 59)), hours(2));
  EXPECT_EQ(paris->offsetAt(at(2024, 10, 27, 1)), hours(1));
}

TEST(PosixRule, SouthernHemisphere) {
  auto sydney = rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(sydney->offsetAt(at(2024, 1, 15)), hours(11));
  EXPECT_EQ(sydney->offsetAt(at(2024, 7, 15)), hours(10));
  // First Sunday of April 2024 is the 7th; 03:00 AEDT = 16:00 UTC on the 6th.
  EXPECT_EQ(sydney->offsetAt(at(2024, 4, 6, 15, 59, 59)), hours(11));
  EXPECT_EQ(sydney->offsetAt(at(2024, 4, 6, 16)), hours(10));
  // First Sunday of October 2024 is the 6th; 02:00 AEST = 16:00 UTC on the 5th.
  EXPECT_EQ(sydney->offsetAt(at(2024, 10, 5, 15, 59, 59)), hours(10));
  EXPECT_EQ(sydney->offsetAt(at(2024, 10, 5, 16)), hours(11));
}

TEST(PosixRule, FixedQuotedAndFractionalOffsets) {
  EXPECT_EQ(rule("UTC0")->offsetAt(at(2024, 6, 1)), seconds(0));
  EXPECT_EQ(rule("<+0545>-5:45")->offsetAt(at(2024, 6, 1)), hours(5) + minutes(45));
  EXPECT_EQ(rule("<-03>3")->offsetAt(at(2024, 6, 1)), -hours(3));
  EXPECT_EQ(rule("MST7")->offsetAt(at(2024, 6, 1)), -hours(7));
}

TEST(PosixRule, AllYearDaylightSaving) {
  // RFC 8536's example for a zone on daylight time all year.
  auto always = rule("EST5EDT4,0/0,J365/25");
  EXPECT_EQ(always->offsetAt(at(2024, 1, 1, 12)), -hours(4));
  EXPECT_EQ(always->offsetAt(at(2024, 7, 1)), -hours(4));
  EXPECT_EQ(always->offsetAt(at(2023, 12, 31, 23)), -hours(4));
}

TEST(PosixRule, JulianDaysSkipFebruary29) {
  // J60 is March 1 even in a leap year; zero-based 59 is February 29 then.
  auto julian = rule("AAA0BBB-1,J60/0,J300/0");
  EXPECT_EQ(julian->offsetAt(at(2024, 2, 29, 12)), seconds(0));
  EXPECT_EQ(julian->offsetAt(at(2024, 3, 1, 0, 0, 1)), hours(1));
  auto zero_based = rule("AAA0BBB-1,59/0,300/0");
  EXPECT_EQ(zero_based->offsetAt(at(2024, 2, 29, 0, 0, 1)), hours(1));
  EXPECT_EQ(zero_based->offsetAt(at(2024, 2, 28, 12)), seconds(0));
}

TEST(PosixRule, DstWithoutDatesUsesUsRules) {
  auto zone = rule("EST5EDT");
  EXPECT_EQ(zone->offsetAt(at(2024, 7, 1)), -hours(4));
  EXPECT_EQ(zone->offsetAt(at(2024, 1, 1)), -hours(5));
}

TEST(PosixRule, Invalid) {
  for (const char* text :
       {"", "E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,J0,J100", "EST25", "<AB>5", "EST5EDT,M3.2.0,M11.1.0x"}) {
    EXPECT_FALSE(TimeZone::fromPosixRule("bad", text).ok()) << text;
  }
}

// A TZif version 2 file, built by hand: two transitions and a footer.
std::string tzifV2() {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  auto be64 = [&](int64_t v) {
    return be32(static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32)) +
           be32(static_cast<uint32_t>(v));
  };
  auto header = [&](uint32_t timecnt, uint32_t typecnt, uint32_t charcnt) {
    return std::string("TZif2") + std::string(15, '\0') + be32(0) + be32(0) + be32(0) +
           be32(timecnt) + be32(typecnt) + be32(charcnt);
  };
  auto ttinfo = [&](int32_t offset, bool dst, uint8_t index) {
    return be32(static_cast<uint32_t>(offset)) +
           std::string{static_cast<char>(dst), static_cast<char>(index)};
  };
  std::string chars = std::string("LMT\0AAA\0BBB\0", 12);
  // Version 1 block: no transitions, one type.
  std::string file = header(0, 1, 4) + ttinfo(600, false, 0) + std::string("LMT\0", 4);
  // Version 2 block: LMT (+00:10) until 1000000000, then AAA (+01:00),
  // then BBB (+02:00) from 2000000000.
  file += header(2, 3, 12) + be64(1000000000) + be64(2000000000) + std::string{1, 2} +
          ttinfo(600, false, 0) + ttinfo(3600, false, 4) + ttinfo(7200, true, 8) + chars;
  file += "\nCCC-3\n";
  return file;
}

TEST(Tzif, TransitionsAndFooter) {
  auto zone = TimeZone::fromTzif("Test/Zone", tzifV2());
  ASSERT_TRUE(zone.ok()) << zone.error().message;
  auto t = [](int64_t s) { return std::chrono::sys_seconds(seconds(s)); };
  EXPECT_EQ((*zone)->name(), "Test/Zone");
  EXPECT_EQ((*zone)->offsetAt(t(0)), seconds(600));
  EXPECT_EQ((*zone)->offsetAt(t(999999999)), seconds(600));
  EXPECT_EQ((*zone)->offsetAt(t(1000000000)), hours(1));
  EXPECT_EQ((*zone)->offsetAt(t(1999999999)), hours(1));
  // From the last transition on, the footer rule decides.
  EXPECT_EQ((*zone)->offsetAt(t(2000000000)), hours(3));
  EXPECT_EQ((*zone)->offsetAt(t(4000000000)), hours(3));
}

TEST(Tzif, RejectsDamagedFiles) {
  std::string good = tzifV2();
  EXPECT_FALSE(TimeZone::fromTzif("x", "").ok());
  EXPECT_FALSE(TimeZone::fromTzif("x", "not a tzif file at all, just some text here....").ok());
  for (size_t cut : {size_t{10}, size_t{50}, good.size() / 2, good.size() - 8}) {
    EXPECT_FALSE(TimeZone::fromTzif("x", good.substr(0, cut)).ok()) << cut;
  }
  std::string bad_footer = good.substr(0, good.size() - 7) + "\n???\n";
  EXPECT_FALSE(TimeZone::fromTzif("x", bad_footer).ok());
}

TEST(TimeZoneDatabase, RejectsNamesThatLeaveTheDirectory) {
  TzifDirectory db("/usr/share/zoneinfo");
  for (const char* name : {"../../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", "a b", "",
                           "Europe//Paris", "./UTC"}) {
    auto zone = db.find(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_THAT(zone.error().message, ::testing::HasSubstr("invalid time zone name")) << name;
  }
}

TEST(TimeZoneDatabase, UtcWithoutTzdata) {
  TzifDirectory empty("/nonexistent-zoneinfo");
  auto zone = empty.find("UTC");
  ASSERT_TRUE(zone.ok());
  EXPECT_EQ((*zone)->offsetAt(at(2024, 6, 1)), seconds(0));
  auto missing = empty.find("Europe/Paris");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, ::testing::HasSubstr("unknown time zone \"Europe/Paris\""));
}

bool haveSystemTzdata() {
  return std::filesystem::exists("/usr/share/zoneinfo/America/New_York") &&
         std::filesystem::exists("/usr/share/zoneinfo/Europe/Paris");
}

TEST(TimeZoneDatabase, SystemZonesMatchTheirRules) {
  if (!haveSystemTzdata()) GTEST_SKIP() << "tzdata is not installed";
  TzifDirectory db("/usr/share/zoneinfo");
  struct Case {
    const char* name;
    const char* rule;
  };
  for (const Case& c : {Case{"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
                        Case{"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
                        Case{"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"}}) {
    SCOPED_TRACE(c.name);
    auto zone = db.find(c.name);
    ASSERT_TRUE(zone.ok()) << zone.error().message;
    auto expected = rule(c.rule);
    // Every hour from 2010 to 2045 (through the end of 32-bit transition
    // tables and into the footer rule), and a few in 2100.
    for (auto t = at(2010, 1, 1); t < at(2045, 1, 1); t += hours(1)) {
      ASSERT_EQ((*zone)->offsetAt(t), expected->offsetAt(t)) << t.time_since_epoch().count();
    }
    for (auto t = at(2100, 1, 1); t < at(2100, 12, 31); t += hours(97)) {
      ASSERT_EQ((*zone)->offsetAt(t), expected->offsetAt(t));
    }
  }
}

TEST(TimeZoneDatabase, SystemHistoricalOffsets) {
  if (!haveSystemTzdata()) GTEST_SKIP() << "tzdata is not installed";
  const TimeZoneDatabase& db = TimeZoneDatabase::system();
  auto paris = db.find("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  // Paris mean time (+0:09:21) until 1911, and double summer time (+2)
  // from August to October 1944: history no POSIX rule describes.
  EXPECT_EQ((*paris)->offsetAt(at(1900, 6, 1)), seconds(561));
  EXPECT_EQ((*paris)->offsetAt(at(1944, 9, 1)), hours(2));
  EXPECT_EQ((*paris)->offsetAt(at(1944, 11, 1)), hours(1));
  auto ny = db.find("America/New_York");
  ASSERT_TRUE(ny.ok());
  // 1974: year-round daylight time during the energy crisis.
  EXPECT_EQ((*ny)->offsetAt(at(1974, 2, 1)), -hours(4));
  EXPECT_EQ((*ny)->offsetAt(at(1975, 1, 15)), -hours(5));
}

}  // namespace
}  // namespace gatehouse::policy::testing

#pragma once

// Time zones for the time criteria. libstdc++ 12 has the C++20 calendar
// types but not std::chrono::zoned_time / the tz database, and POSIX
// localtime_r follows the process-wide TZ variable (changing it per policy
// would race with every other thread). So zones are read from the system's
// TZif files (RFC 8536) by hand, once, when a policy is compiled; a
// TimeZone is immutable afterwards and safe to share between threads.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gatehouse::policy {

class TimeZone {
 public:
  // UTC; needs no database.
  static std::shared_ptr<const TimeZone> utc();
  // A zone from the bytes of a TZif file (versions 1 to 4).
  static Result<std::shared_ptr<const TimeZone>> fromTzif(std::string name, std::string_view data);
  // A zone from a POSIX TZ rule, e.g. "CET-1CEST,M3.5.0,M10.5.0/3" (the
  // form of a TZif footer).
  static Result<std::shared_ptr<const TimeZone>> fromPosixRule(std::string name,
                                                               std::string_view rule);

  const std::string& name() const { return name_; }
  // The offset from UTC (east positive) in effect at `instant`.
  std::chrono::seconds offsetAt(std::chrono::sys_seconds instant) const;
  // The wall-clock time at `instant`.
  std::chrono::local_seconds toLocal(std::chrono::sys_seconds instant) const {
    return std::chrono::local_seconds((instant + offsetAt(instant)).time_since_epoch());
  }

  // A POSIX TZ rule, parsed. Public for the TZif reader; not part of the API.
  struct PosixRule {
    struct Date {
      enum class Kind : uint8_t { kJulian, kZeroBased, kMonthWeekDay };
      Kind kind = Kind::kMonthWeekDay;
      int day = 0;                      // Jn: 1..365 (no Feb 29); n: 0..365
      int month = 0;                    // Mm.w.d
      int week = 0;                     // 1..5 (5 = last)
      int weekday = 0;                  // 0 = Sunday
      std::chrono::seconds time{7200};  // local time of day, may exceed 24h or be negative
    };
    std::chrono::seconds std_offset{0};
    bool has_dst = false;
    std::chrono::seconds dst_offset{0};
    Date start;
    Date end;

    std::chrono::seconds offsetAt(std::chrono::sys_seconds instant) const;
  };

 private:
  TimeZone() = default;

  std::string name_;
  std::vector<int64_t> transitions_;       // UTC seconds, ascending
  std::vector<uint8_t> transition_types_;  // index into type_offsets_
  std::vector<int32_t> type_offsets_;      // seconds east of UTC
  std::optional<PosixRule> rule_;          // after the last transition
};

}  // namespace gatehouse::policy

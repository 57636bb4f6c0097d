#pragma once

// Shared by the time criteria (date, day_of_week, time_of_day).

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "policy/criterion.h"
#include "policy/json_describe.h"
#include "policy/time_zone.h"
#include "policy/time_zone_database.h"

namespace gatehouse::policy::criteria {

// The zone a criterion's `timezone` key names; UTC when `value` is nullptr.
inline Result<std::shared_ptr<const TimeZone>> zoneFrom(const CriterionArgs& args,
                                                        const nlohmann::json* value) {
  if (value == nullptr) return TimeZone::utc();
  if (!value->is_string()) {
    return Error::invalid("timezone must be a string such as \"Europe/Paris\", got " +
                          describeJson(*value));
  }
  return args.time_zones.find(value->get_ref<const std::string&>());
}

// The wall-clock time of `now` in `zone`, to the nanosecond.
inline std::chrono::local_time<std::chrono::nanoseconds> localTime(
    const TimeZone& zone, std::chrono::system_clock::time_point now) {
  auto whole = std::chrono::floor<std::chrono::seconds>(now);
  auto fraction = std::chrono::duration_cast<std::chrono::nanoseconds>(now - whole);
  return zone.toLocal(std::chrono::sys_seconds(whole)) + fraction;
}

}  // namespace gatehouse::policy::criteria

#pragma once

#include <map>
#include <string>

#include "policy/policy.h"
#include "policy/time_zone.h"
#include "policy/time_zone_database.h"

namespace gatehouse::policy::testing {

// Time zones from fixed POSIX rules, so that the time criteria tests do not
// depend on the tzdata installed (or its version).
class FakeTimeZones final : public TimeZoneDatabase {
 public:
  FakeTimeZones() {
    rules_ = {
        {"UTC", "UTC0"},
        {"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
        {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
        {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
        {"Asia/Kathmandu", "<+0545>-5:45"},
        {"America/Phoenix", "MST7"},
    };
  }
  Result<std::shared_ptr<const TimeZone>> find(std::string_view name) const override {
    auto it = rules_.find(std::string(name));
    if (it == rules_.end())
      return Error::invalid("unknown time zone \"" + std::string(name) + "\"");
    return TimeZone::fromPosixRule(it->first, it->second);
  }

 private:
  std::map<std::string, std::string> rules_;
};

inline CompileOptions fakeZones() {
  static const FakeTimeZones zones;
  CompileOptions options;
  options.time_zones = &zones;
  return options;
}

}  // namespace gatehouse::policy::testing

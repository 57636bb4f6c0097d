#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/time_zone.h"

namespace gatehouse::policy {

// Where policies find time zones by IANA name ("Europe/Paris"). Consulted
// only while compiling a policy, never while evaluating one.
class TimeZoneDatabase {
 public:
  virtual ~TimeZoneDatabase() = default;
  // The zone called `name`, or an error naming it. Safe to call from
  // several threads at once.
  virtual Result<std::shared_ptr<const TimeZone>> find(std::string_view name) const = 0;

  // The system database: the TZif files under $TZDIR, else
  // /usr/share/zoneinfo. "UTC" is always found, even without tzdata.
  static const TimeZoneDatabase& system();
};

// Reads TZif files from a directory.
class TzifDirectory final : public TimeZoneDatabase {
 public:
  explicit TzifDirectory(std::string directory) : directory_(std::move(directory)) {}
  Result<std::shared_ptr<const TimeZone>> find(std::string_view name) const override;

 private:
  std::string directory_;
};

}  // namespace gatehouse::policy

// day_of_week: the request falls on one of the given days. The data is a
// string: "*" (every day), days joined by ',' ("mon,wed,fri") and ranges
// ("mon-fri", wrapping: "fri-mon"), as English names or their three-letter
// abbreviations, case-insensitive. The day is taken in UTC unless the object
// form names a zone: `{days: "mon-fri", timezone: "America/New_York"}`.
// A Pomerium Enterprise criterion. day-of-week-ok / day-of-week-unauthorized.

#include <array>
#include <cstdint>
#include <optional>

#include "common/strings.h"
#include "policy/criteria/criteria.h"
#include "policy/criteria/time_support.h"

namespace gatehouse::policy::criteria {

namespace {

constexpr std::array<std::string_view, 7> kNames = {"sunday",   "monday", "tuesday", "wednesday",
                                                    "thursday", "friday", "saturday"};

// 0 = Sunday, as std::chrono::weekday::c_encoding().
std::optional<unsigned> parseDay(std::string_view text) {
  std::string lower = toLower(trim(text));
  for (unsigned i = 0; i < kNames.size(); ++i) {
    if (lower == kNames[i] || lower == kNames[i].substr(0, 3)) return i;
  }
  return std::nullopt;
}

// A bit per day, bit 0 = Sunday.
Result<uint8_t> parseDays(std::string_view text) {
  uint8_t mask = 0;
  auto bad = [&](std::string_view part) {
    return Error::invalid("day_of_week: \"" + std::string(part) +
                          "\" is not a day, a range of days (mon-fri) or *");
  };
  if (trim(text).empty()) return bad(text);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = trim(text.substr(start, end - start));
    if (part == "*") {
      mask = 0x7F;
    } else if (size_t dash = part.find('-'); dash != std::string_view::npos) {
      auto first = parseDay(part.substr(0, dash));
      auto last = parseDay(part.substr(dash + 1));
      if (!first || !last) return bad(part);
      for (unsigned day = *first;; day = (day + 1) % 7) {
        mask = static_cast<uint8_t>(mask | (1U << day));
        if (day == *last) break;
      }
    } else {
      auto day = parseDay(part);
      if (!day) return bad(part);
      mask = static_cast<uint8_t>(mask | (1U << *day));
    }
    start = end + 1;
  }
  return mask;
}

class DayOfWeek final : public Criterion {
 public:
  DayOfWeek(uint8_t days, std::shared_ptr<const TimeZone> zone)
      : days_(days), zone_(std::move(zone)) {}
  CriterionResult evaluate(const Input& input) const override {
    auto local = localTime(*zone_, input.request.now);
    std::chrono::weekday weekday{std::chrono::floor<std::chrono::days>(local)};
    bool ok = (days_ >> weekday.c_encoding()) & 1U;
    return verdict(ok, Reason::kDayOfWeekOk, Reason::kDayOfWeekUnauthorized);
  }

 private:
  uint8_t days_;
  std::shared_ptr<const TimeZone> zone_;
};

}  // namespace

Made makeDayOfWeek(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "day_of_week"); !ok) return ok.error();
  const nlohmann::json* days = &args.data;
  const nlohmann::json* timezone = nullptr;
  if (args.data.is_object()) {
    days = nullptr;
    for (auto entry = args.data.begin(); entry != args.data.end(); ++entry) {
      const std::string& key = entry.key();
      const nlohmann::json& value = entry.value();
      if (key == "days") {
        days = &value;
      } else if (key == "timezone") {
        timezone = &value;
      } else {
        return Error::invalid("unknown day_of_week key \"" + key +
                              "\" (expected days or timezone)");
      }
    }
    if (days == nullptr) return Error::invalid("day_of_week needs days, e.g. {days: mon-fri}");
  }
  if (!days->is_string()) {
    return Error::invalid("day_of_week expects a string such as \"mon-fri\", got " +
                          describeJson(*days));
  }
  auto mask = parseDays(days->get_ref<const std::string&>());
  if (!mask) return mask.error();
  auto zone = zoneFrom(args, timezone);
  if (!zone) return zone.error();
  return std::unique_ptr<const Criterion>(std::make_unique<DayOfWeek>(*mask, std::move(*zone)));
}

}  // namespace gatehouse::policy::criteria

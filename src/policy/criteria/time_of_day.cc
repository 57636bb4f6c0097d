// time_of_day: the wall-clock time of the request in `timezone` (required,
// an IANA name such as "America/Phoenix") is within bounds:
// `{timezone: UTC, after: "9:00", before: "5:30 PM"}`. Times take Pomerium's
// formats: "3:04 PM", "3:04PM", "3 PM", "3PM", "15:04:05.999999999",
// "15:04:05", "15:04". `after` is inclusive and `before` exclusive; when
// `after` is later than `before` the window spans midnight (22:00 to 06:00).
// Across DST changes the local clock is what counts: 09:00 is 09:00 in
// summer and in winter, and a window on a repeated hour matches twice.
// A Pomerium Enterprise criterion. time-of-day-ok / time-of-day-unauthorized.

#include <optional>

#include "policy/criteria/criteria.h"
#include "policy/criteria/time_support.h"

namespace gatehouse::policy::criteria {

namespace {

using std::chrono::nanoseconds;

std::optional<nanoseconds> parseTimeOfDay(std::string_view text) {
  using namespace std::chrono;
  size_t pos = 0;
  auto number = [&](size_t min_digits, size_t max_digits) -> std::optional<int64_t> {
    size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && pos - start < max_digits && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos - start < min_digits) return std::nullopt;
    return value;
  };
  auto hour = number(1, 2);
  if (!hour) return std::nullopt;
  std::optional<int64_t> minute;
  std::optional<int64_t> second;
  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    minute = number(2, 2);
    if (!minute || *minute > 59) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      second = number(2, 2);
      if (!second || *second > 59) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        size_t start = pos;
        auto digits = number(1, 9);
        if (!digits) return std::nullopt;
        int64_t value = *digits;
        for (size_t i = pos - start; i < 9; ++i) value *= 10;
        fraction = nanoseconds(value);
      }
    }
  }
  std::string_view rest = text.substr(pos);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) {
    // 24-hour clock: minutes are required ("15:04").
    if (!minute || *hour > 23) return std::nullopt;
  } else {
    bool pm;
    if (rest == "PM" || rest == "pm") {
      pm = true;
    } else if (rest == "AM" || rest == "am") {
      pm = false;
    } else {
      return std::nullopt;
    }
    // 12-hour clock: 1..12, no seconds ("3:04 PM", "3 PM").
    if (second || *hour < 1 || *hour > 12) return std::nullopt;
    *hour %= 12;
    if (pm) *hour += 12;
  }
  return hours(*hour) + minutes(minute.value_or(0)) + seconds(second.value_or(0)) + fraction;
}

class TimeOfDay final : public Criterion {
 public:
  TimeOfDay(std::optional<nanoseconds> after, std::optional<nanoseconds> before,
            std::shared_ptr<const TimeZone> zone)
      : after_(after), before_(before), zone_(std::move(zone)) {}

  CriterionResult evaluate(const Input& input) const override {
    auto local = localTime(*zone_, input.request.now);
    nanoseconds time = local - std::chrono::floor<std::chrono::days>(local);
    bool ok;
    if (after_ && before_ && *after_ > *before_) {
      ok = time >= *after_ || time < *before_;  // spans midnight
    } else {
      ok = (!after_ || time >= *after_) && (!before_ || time < *before_);
    }
    return verdict(ok, Reason::kTimeOfDayOk, Reason::kTimeOfDayUnauthorized);
  }

 private:
  std::optional<nanoseconds> after_;
  std::optional<nanoseconds> before_;
  std::shared_ptr<const TimeZone> zone_;
};

}  // namespace

Made makeTimeOfDay(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "time_of_day"); !ok) return ok.error();
  if (!args.data.is_object()) {
    return Error::invalid(
        "expected a time of day matcher {timezone: <zone>, after: <time>, before: <time>}, got " +
        describeJson(args.data));
  }
  const nlohmann::json* timezone = nullptr;
  std::optional<nanoseconds> bounds[2];
  for (auto entry = args.data.begin(); entry != args.data.end(); ++entry) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    int slot;
    if (key == "timezone") {
      timezone = &value;
      continue;
    } else if (key == "after") {
      slot = 0;
    } else if (key == "before") {
      slot = 1;
    } else {
      return Error::invalid("unknown time of day matcher operator \"" + key +
                            "\" (expected timezone, after or before)");
    }
    if (!value.is_string()) {
      return Error::invalid("time_of_day \"" + key +
                            "\" expects a time such as \"9:00\" or \"5 PM\", got " +
                            describeJson(value));
    }
    const auto& text = value.get_ref<const std::string&>();
    bounds[slot] = parseTimeOfDay(text);
    if (!bounds[slot]) {
      return Error::invalid("time_of_day \"" + key + "\": \"" + text +
                            "\" is not a time (3:04 PM, 3:04PM, 3 PM, 3PM, 15:04:05.999999999, "
                            "15:04:05 or 15:04)");
    }
  }
  if (timezone == nullptr)
    return Error::invalid("time_of_day needs a timezone, e.g. timezone: UTC");
  if (!bounds[0] && !bounds[1]) return Error::invalid("time_of_day needs after, before or both");
  auto zone = zoneFrom(args, timezone);
  if (!zone) return zone.error();
  return std::unique_ptr<const Criterion>(
      std::make_unique<TimeOfDay>(bounds[0], bounds[1], std::move(*zone)));
}

}  // namespace gatehouse::policy::criteria

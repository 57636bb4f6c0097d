// date: the request time is within bounds: `{after: T, before: T}` (either
// may be left out) with ISO-8601 times ("2024-01-31", "2024-01-31T09:00",
// "2024-01-31T09:00:00.5Z", "2024-01-31T09:00:00+01:00"). A time without an
// offset is wall-clock time in `timezone` (an IANA name, default UTC).
// `after` is inclusive and `before` exclusive: [after, before).
// A Pomerium Enterprise criterion. date-ok / date-unauthorized.

#include <optional>

#include "policy/criteria/criteria.h"
#include "policy/criteria/time_support.h"

namespace gatehouse::policy::criteria {

namespace {

using Clock = std::chrono::system_clock;

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool consume(char c) {
    if (peek() != c || done()) return false;
    ++pos_;
    return true;
  }
  std::optional<int> digits(size_t count) {
    if (text_.size() - pos_ < count) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct DateTime {
  std::chrono::local_time<std::chrono::nanoseconds> local;
  std::optional<std::chrono::seconds> offset;  // east of UTC, when written
};

std::optional<DateTime> parseDateTime(std::string_view text) {
  using namespace std::chrono;
  Cursor in(text);
  auto y = in.digits(4);
  if (!y || !in.consume('-')) return std::nullopt;
  auto m = in.digits(2);
  if (!m || !in.consume('-')) return std::nullopt;
  auto d = in.digits(2);
  if (!d) return std::nullopt;
  year_month_day ymd{year(*y), month(static_cast<unsigned>(*m)), day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  DateTime out{local_days(ymd), std::nullopt};
  if (in.done()) return out;
  if (!in.consume('T') && !in.consume('t') && !in.consume(' ')) return std::nullopt;
  auto hh = in.digits(2);
  if (!hh || *hh > 23 || !in.consume(':')) return std::nullopt;
  auto mm = in.digits(2);
  if (!mm || *mm > 59) return std::nullopt;
  int ss = 0;
  nanoseconds fraction{0};
  if (in.consume(':')) {
    auto s = in.digits(2);
    if (!s || *s > 59) return std::nullopt;
    ss = *s;
    if (in.consume('.') || in.consume(',')) {
      int count = 0;
      int64_t value = 0;
      while (in.peek() >= '0' && in.peek() <= '9') {
        if (++count > 9) return std::nullopt;
        value = value * 10 + (in.peek() - '0');
        in.consume(in.peek());
      }
      if (count == 0) return std::nullopt;
      for (int i = count; i < 9; ++i) value *= 10;
      fraction = nanoseconds(value);
    }
  }
  out.local += hours(*hh) + minutes(*mm) + seconds(ss) + fraction;
  if (in.done()) return out;
  if (in.consume('Z') || in.consume('z')) {
    out.offset = seconds(0);
  } else {
    int sign = in.consume('+') ? 1 : in.consume('-') ? -1 : 0;
    if (sign == 0) return std::nullopt;
    auto oh = in.digits(2);
    if (!oh || *oh > 23) return std::nullopt;
    int om = 0;
    if (!in.done()) {
      in.consume(':');
      auto parsed = in.digits(2);
      if (!parsed || *parsed > 59) return std::nullopt;
      om = *parsed;
    }
    out.offset = seconds(sign * (*oh * 3600 + om * 60));
  }
  if (!in.done()) return std::nullopt;
  return out;
}

// The instant a wall-clock time names in `zone` (for a time that occurs
// twice, the first; for one skipped by a DST change, as if the change had
// not happened yet).
Clock::time_point toInstant(const DateTime& when, const TimeZone& zone) {
  using namespace std::chrono;
  auto local_whole = floor<seconds>(when.local);
  auto fraction = when.local - local_whole;
  sys_seconds as_utc{local_whole.time_since_epoch()};
  seconds offset;
  if (when.offset) {
    offset = *when.offset;
  } else {
    offset = zone.offsetAt(as_utc - zone.offsetAt(as_utc));
  }
  return time_point_cast<Clock::duration>(as_utc - offset + fraction);
}

class Date final : public Criterion {
 public:
  Date(std::optional<Clock::time_point> after, std::optional<Clock::time_point> before)
      : after_(after), before_(before) {}
  CriterionResult evaluate(const Input& input) const override {
    auto now = input.request.now;
    bool ok = (!after_ || now >= *after_) && (!before_ || now < *before_);
    return verdict(ok, Reason::kDateOk, Reason::kDateUnauthorized);
  }

 private:
  std::optional<Clock::time_point> after_;
  std::optional<Clock::time_point> before_;
};

}  // namespace

Made makeDate(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "date"); !ok) return ok.error();
  if (!args.data.is_object()) {
    return Error::invalid(
        "expected a date matcher {after: <ISO-8601 time>, before: <ISO-8601 time>}, got " +
        describeJson(args.data));
  }
  const nlohmann::json* timezone = nullptr;
  for (auto entry = args.data.begin(); entry != args.data.end(); ++entry) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    if (key == "timezone") {
      timezone = &value;
    } else if (key != "after" && key != "before") {
      return Error::invalid("unknown date matcher operator \"" + key +
                            "\" (expected after, before or timezone)");
    }
  }
  auto zone = zoneFrom(args, timezone);
  if (!zone) return zone.error();
  std::optional<Clock::time_point> bounds[2];
  const char* keys[2] = {"after", "before"};
  for (int i = 0; i < 2; ++i) {
    auto it = args.data.find(keys[i]);
    if (it == args.data.end()) continue;
    std::string key = keys[i];
    if (!it->is_string()) {
      return Error::invalid("date matcher \"" + key + "\" expects an ISO-8601 time, got " +
                            describeJson(*it));
    }
    const auto& text = it->get_ref<const std::string&>();
    auto parsed = parseDateTime(text);
    if (!parsed) {
      return Error::invalid("date matcher \"" + key + "\": \"" + text +
                            "\" is not an ISO-8601 date or time (2006-01-02 or "
                            "2006-01-02T15:04:05, optionally with Z or an offset)");
    }
    auto year =
        std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(parsed->local)).year();
    if (year < std::chrono::year(1900) || year > std::chrono::year(2200)) {
      return Error::invalid("date matcher \"" + key + "\": year out of range 1900..2200");
    }
    bounds[i] = toInstant(*parsed, **zone);
  }
  if (!bounds[0] && !bounds[1]) return Error::invalid("date matcher needs after, before or both");
  return std::unique_ptr<const Criterion>(std::make_unique<Date>(bounds[0], bounds[1]));
}

}  // namespace gatehouse::policy::criteria

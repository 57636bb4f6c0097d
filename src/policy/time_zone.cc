#include "policy/time_zone.h"

#include <algorithm>
#include <cctype>

namespace gatehouse::policy {

namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// --- POSIX TZ rules (POSIX.1-2017 section 8.3, with RFC 8536's extension
// of rule times to -167..167 hours) ---

class RuleReader {
 public:
  explicit RuleReader(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // A zone abbreviation: three or more letters, or <...> with letters,
  // digits, '+' and '-'.
  bool name() {
    if (consume('<')) {
      size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != '>') {
        char c = text_[pos_];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') return false;
        ++pos_;
      }
      if (pos_ - start < 3) return false;
      return consume('>');
    }
    size_t start = pos_;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return pos_ - start >= 3;
  }

  std::optional<int> number(int max_digits, int max_value) {
    int value = 0;
    int digits = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      if (++digits > max_digits) return std::nullopt;
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    if (digits == 0 || value > max_value) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] with hh up to max_hours.
  std::optional<seconds> duration(int max_hours) {
    int sign = 1;
    if (consume('-')) {
      sign = -1;
    } else {
      consume('+');
    }
    auto hours = number(3, max_hours);
    if (!hours) return std::nullopt;
    int minutes = 0;
    int secs = 0;
    if (consume(':')) {
      auto m = number(2, 59);
      if (!m) return std::nullopt;
      minutes = *m;
      if (consume(':')) {
        auto s = number(2, 59);
        if (!s) return std::nullopt;
        secs = *s;
      }
    }
    return seconds(sign * (*hours * 3600 + minutes * 60 + secs));
  }

  std::optional<TimeZone::PosixRule::Date> date() {
    using Kind = TimeZone::PosixRule::Date::Kind;
    TimeZone::PosixRule::Date date;
    if (consume('J')) {
      auto day = number(3, 365);
      if (!day || *day < 1) return std::nullopt;
      date.kind = Kind::kJulian;
      date.day = *day;
    } else if (consume('M')) {
      auto month = number(2, 12);
      if (!month || *month < 1 || !consume('.')) return std::nullopt;
      auto week = number(1, 5);
      if (!week || *week < 1 || !consume('.')) return std::nullopt;
      auto weekday = number(1, 6);
      if (!weekday) return std::nullopt;
      date.kind = Kind::kMonthWeekDay;
      date.month = *month;
      date.week = *week;
      date.weekday = *weekday;
    } else {
      auto day = number(3, 365);
      if (!day) return std::nullopt;
      date.kind = Kind::kZeroBased;
      date.day = *day;
    }
    if (consume('/')) {
      auto time = duration(167);
      if (!time) return std::nullopt;
      date.time = *time;
    }
    return date;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::optional<TimeZone::PosixRule> parsePosixRule(std::string_view text) {
  TimeZone::PosixRule rule;
  RuleReader reader(text);
  if (!reader.name()) return std::nullopt;
  auto std_offset = reader.duration(24);
  if (!std_offset) return std::nullopt;
  rule.std_offset = -*std_offset;  // POSIX offsets count west of UTC
  if (reader.done()) return rule;
  if (!reader.name()) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + seconds(3600);
  if (!reader.done() && reader.peek() != ',') {
    auto dst_offset = reader.duration(24);
    if (!dst_offset) return std::nullopt;
    rule.dst_offset = -*dst_offset;
  }
  if (reader.done()) {
    // No transition dates: the US rules, as glibc assumes.
    rule.start = {TimeZone::PosixRule::Date::Kind::kMonthWeekDay, 0, 3, 2, 0, seconds(7200)};
    rule.end = {TimeZone::PosixRule::Date::Kind::kMonthWeekDay, 0, 11, 1, 0, seconds(7200)};
    return rule;
  }
  if (!reader.consume(',')) return std::nullopt;
  auto start = reader.date();
  if (!start || !reader.consume(',')) return std::nullopt;
  auto end = reader.date();
  if (!end || !reader.done()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

// The local midnight starting the day `date` names in `year`.
sys_days dayOf(const TimeZone::PosixRule::Date& date, std::chrono::year year) {
  using Kind = TimeZone::PosixRule::Date::Kind;
  sys_days january_first{year / std::chrono::January / 1};
  switch (date.kind) {
    case Kind::kJulian: {
      // 1..365, February 29 never counted.
      int offset = date.day - 1;
      if (year.is_leap() && date.day >= 60) ++offset;
      return january_first + days(offset);
    }
    case Kind::kZeroBased:
      return january_first + days(date.day);
    case Kind::kMonthWeekDay: {
      auto month = std::chrono::month(static_cast<unsigned>(date.month));
      auto weekday = std::chrono::weekday(static_cast<unsigned>(date.weekday));
      if (date.week == 5) return sys_days{year / month / weekday[std::chrono::last]};
      return sys_days{year / month / weekday[static_cast<unsigned>(date.week)]};
    }
  }
  return january_first;
}

uint32_t readBig32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

int64_t readBig64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{readBig32(p)} << 32) | uint64_t{readBig32(p + 4)});
}

}  // namespace

seconds TimeZone::PosixRule::offsetAt(sys_seconds instant) const {
  if (!has_dst) return std_offset;
  auto local_standard = instant + std_offset;
  auto year = std::chrono::year_month_day{std::chrono::floor<days>(local_standard)}.year();
  // Transition instants in UTC: the start is given in standard time, the
  // end in daylight time.
  sys_seconds dst_start = sys_seconds(dayOf(start, year)) + start.time - std_offset;
  sys_seconds dst_end = sys_seconds(dayOf(end, year)) + end.time - dst_offset;
  bool in_dst = dst_start < dst_end ? (instant >= dst_start && instant < dst_end)
                                    : !(instant >= dst_end && instant < dst_start);
  return in_dst ? dst_offset : std_offset;
}

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static const std::shared_ptr<const TimeZone> zone = [] {
    std::shared_ptr<TimeZone> z(new TimeZone());
    z->name_ = "UTC";
    z->type_offsets_ = {0};
    return std::shared_ptr<const TimeZone>(std::move(z));
  }();
  return zone;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::fromPosixRule(std::string name,
                                                                std::string_view text) {
  auto rule = parsePosixRule(text);
  if (!rule)
    return Error::invalid("time zone \"" + name + "\": invalid rule \"" + std::string(text) + "\"");
  std::shared_ptr<TimeZone> zone(new TimeZone());
  zone->name_ = std::move(name);
  zone->type_offsets_ = {static_cast<int32_t>(rule->std_offset.count())};
  zone->rule_ = *rule;
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::fromTzif(std::string name,
                                                           std::string_view data) {
  auto fail = [&](std::string_view why) {
    return Error::invalid("time zone \"" + name + "\": " + std::string(why));
  };
  constexpr size_t kHeaderSize = 44;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  if (size < kHeaderSize || data.substr(0, 4) != "TZif") return fail("not a TZif file");

  struct Counts {
    uint32_t isut, isstd, leap, time, type, chars;
  };
  auto readCounts = [&](size_t at) {
    const unsigned char* p = bytes + at + 20;
    return Counts{readBig32(p),      readBig32(p + 4),  readBig32(p + 8),
                  readBig32(p + 12), readBig32(p + 16), readBig32(p + 20)};
  };
  auto blockSize = [](const Counts& c, size_t time_size) -> uint64_t {
    return uint64_t{c.time} * time_size + c.time + uint64_t{c.type} * 6 + c.chars +
           uint64_t{c.leap} * (time_size + 4) + c.isstd + c.isut;
  };

  char version = data[4];
  size_t at = 0;
  Counts counts = readCounts(at);
  size_t time_size = 4;
  if (version >= '2') {
    uint64_t skip = kHeaderSize + blockSize(counts, 4);
    if (skip + kHeaderSize > size || data.substr(skip, 4) != "TZif") return fail("truncated");
    at = static_cast<size_t>(skip);
    counts = readCounts(at);
    time_size = 8;
  }
  uint64_t block = blockSize(counts, time_size);
  if (at + kHeaderSize + block > size) return fail("truncated");
  if (counts.type == 0 || counts.type > 256) return fail("bad local time type count");

  std::shared_ptr<TimeZone> zone(new TimeZone());
  zone->name_ = name;
  const unsigned char* p = bytes + at + kHeaderSize;
  zone->transitions_.reserve(counts.time);
  for (uint32_t i = 0; i < counts.time; ++i, p += time_size) {
    int64_t t = time_size == 8 ? readBig64(p) : static_cast<int32_t>(readBig32(p));
    if (!zone->transitions_.empty() && t <= zone->transitions_.back()) {
      return fail("transitions out of order");
    }
    zone->transitions_.push_back(t);
  }
  zone->transition_types_.assign(p, p + counts.time);
  p += counts.time;
  for (uint8_t type : zone->transition_types_) {
    if (type >= counts.type) return fail("bad transition type");
  }
  for (uint32_t i = 0; i < counts.type; ++i, p += 6) {
    auto offset = static_cast<int32_t>(readBig32(p));
    // RFC 8536: -25:59:59 to 25:59:59 (-2^31 is reserved).
    if (offset < -93599 || offset > 93599) return fail("bad UTC offset");
    zone->type_offsets_.push_back(offset);
  }

  if (version >= '2') {
    // The footer: "\n<POSIX TZ rule>\n", the rule possibly empty.
    size_t footer = at + kHeaderSize + static_cast<size_t>(block);
    if (footer < size && data[footer] == '\n') {
      size_t close = data.find('\n', footer + 1);
      if (close == std::string_view::npos) return fail("unterminated footer");
      std::string_view text = data.substr(footer + 1, close - footer - 1);
      if (!text.empty()) {
        auto rule = parsePosixRule(text);
        if (!rule) return fail("invalid footer rule \"" + std::string(text) + "\"");
        zone->rule_ = *rule;
      }
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

seconds TimeZone::offsetAt(sys_seconds instant) const {
  int64_t t = instant.time_since_epoch().count();
  if (transitions_.empty()) {
    return rule_ ? rule_->offsetAt(instant) : seconds(type_offsets_.front());
  }
  // RFC 8536: before the first transition, local time type 0 applies;
  // after the last, the footer rule (or else the last type).
  if (t < transitions_.front()) return seconds(type_offsets_.front());
  if (t >= transitions_.back() && rule_) return rule_->offsetAt(instant);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  size_t index = static_cast<size_t>(it - transitions_.begin()) - 1;
  return seconds(type_offsets_[transition_types_[index]]);
}

}  // namespace gatehouse::policy

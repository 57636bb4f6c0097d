#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::optional<Level> parseLevel(std::string_view name);
// The process-wide threshold. It is the one piece of mutable global state in
// Gatehouse: every thread logs, and a config reload changes it.
void setLevel(Level level);
bool enabled(Level level);

// One JSON object per line on stdout:
//   {"level":"info","time":"2026-11-30T02:21:32.123Z","message":"...", ...}
// Build the fields, then the destructor writes the line with one write(2),
// so lines from different worker threads never interleave.
class Line {
 public:
  Line(Level level, std::string_view message);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& str(std::string_view key, std::string_view value);
  Line& num(std::string_view key, int64_t value);
  Line& num(std::string_view key, double value);
  Line& boolean(std::string_view key, bool value);

 private:
  std::string buf_;
  bool active_;
};

inline Line debug(std::string_view message) { return Line(Level::kDebug, message); }
inline Line info(std::string_view message) { return Line(Level::kInfo, message); }
inline Line warn(std::string_view message) { return Line(Level::kWarn, message); }
inline Line error(std::string_view message) { return Line(Level::kError, message); }

}  // namespace gatehouse::log

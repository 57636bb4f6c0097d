#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/strings.h"

namespace gatehouse::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void appendTime(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms));
  out += buf;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
  std::string n = toLower(name);
  if (n == "debug" || n == "trace") return Level::kDebug;
  if (n == "info" || n == "") return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarn;
  if (n == "error" || n == "fatal" || n == "panic") return Level::kError;
  return std::nullopt;
}

void setLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

Line::Line(Level level, std::string_view message) : active_(enabled(level)) {
  if (!active_) return;
  buf_.reserve(256);
  buf_ += "{\"level\":\"";
  buf_ += levelName(level);
  buf_ += "\",\"time\":\"";
  appendTime(buf_);
  buf_ += "\",\"message\":";
  buf_ += jsonQuote(message);
}

Line::~Line() {
  if (!active_) return;
  buf_ += "}\n";
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

Line& Line::str(std::string_view key, std::string_view value) {
  if (!active_) return *this;
  buf_ += ',';
  buf_ += jsonQuote(key);
  buf_ += ':';
  buf_ += jsonQuote(value);
  return *this;
}

Line& Line::num(std::string_view key, int64_t value) {
  if (!active_) return *this;
  buf_ += ',';
  buf_ += jsonQuote(key);
  buf_ += ':';
  buf_ += std::to_string(value);
  return *this;
}

Line& Line::num(std::string_view key, double value) {
  if (!active_) return *this;
  char tmp[32];
  std::snprintf(tmp, sizeof(tmp), "%.3f", value);
  buf_ += ',';
  buf_ += jsonQuote(key);
  buf_ += ':';
  buf_ += tmp;
  return *this;
}

Line& Line::boolean(std::string_view key, bool value) {
  if (!active_) return *this;
  buf_ += ',';
  buf_ += jsonQuote(key);
  buf_ += value ? ":true" : ":false";
  return *this;
}

}  // namespace gatehouse::log

#include "metrics/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace gatehouse::metrics {
namespace {

// Fields of /proc/self/stat after the command name (which may hold spaces
// and parentheses, so it is skipped up to its last ')'); field 3 is first.
std::optional<std::istringstream> statFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  return std::istringstream(line.substr(close + 1));
}

std::optional<uint64_t> bootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      uint64_t value = 0;
      if (in >> value) return value;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

}  // namespace

ProcessStats readProcessStats() {
  ProcessStats stats;
  long page = sysconf(_SC_PAGESIZE);
  if (std::ifstream statm("/proc/self/statm"); statm && page > 0) {
    uint64_t size = 0;
    uint64_t resident = 0;
    if (statm >> size >> resident) {
      stats.virtual_bytes = size * static_cast<uint64_t>(page);
      stats.resident_bytes = resident * static_cast<uint64_t>(page);
    }
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    stats.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++stats.open_fds;
  }
  if (auto fields = statFields()) {
    // Fields 3..22: state ppid pgrp session tty_nr tpgid flags minflt
    // cminflt majflt cmajflt utime stime cutime cstime priority nice
    // num_threads itrealvalue starttime.
    std::string field;
    uint64_t threads = 0;
    uint64_t start_ticks = 0;
    for (int number = 3; number <= 22 && (*fields >> field); ++number) {
      if (number == 20) threads = std::strtoull(field.c_str(), nullptr, 10);
      if (number == 22) start_ticks = std::strtoull(field.c_str(), nullptr, 10);
    }
    stats.threads = threads;
    long ticks = sysconf(_SC_CLK_TCK);
    if (auto boot = bootTimeSeconds(); boot && ticks > 0 && start_ticks > 0) {
      stats.start_time_seconds = static_cast<double>(*boot) +
                                 static_cast<double>(start_ticks) / static_cast<double>(ticks);
    }
  }
  return stats;
}

}  // namespace gatehouse::metrics

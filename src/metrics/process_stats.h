#pragma once

#include <cstdint>
#include <optional>

namespace gatehouse::metrics {

// The process's own resource use, read from /proc and getrusage at scrape
// time (the standard process_* metrics).
struct ProcessStats {
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double cpu_seconds = 0;  // user + system
  uint64_t open_fds = 0;
  uint64_t threads = 0;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

ProcessStats readProcessStats();

}  // namespace gatehouse::metrics

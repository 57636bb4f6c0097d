#pragma once

#include <chrono>

#include "http/http1_reader.h"

namespace gatehouse::http {

// Per-connection limits and timeouts, taken from the snapshot that was
// current when the connection was accepted.
struct ConnectionSettings {
  Http1Limits limits;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(5);
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(30);   // whole request
  std::chrono::nanoseconds write_timeout = std::chrono::nanoseconds::zero();  // 0 = none
  std::chrono::nanoseconds tls_handshake_timeout = std::chrono::seconds(10);
};

}  // namespace gatehouse::http

#pragma once

#include <cstddef>
#include <string>

#include "common/result.h"

namespace gatehouse {

// Reads a whole regular file of at most `max_bytes` with one open, fstat and
// as few reads as its size needs. The error message is the reason alone
// ("No such file or directory", "not a regular file", "larger than 16 MiB"),
// for the caller to prefix with what the file was for.
Result<std::string> readRegularFile(const std::string& path, size_t max_bytes);

}  // namespace gatehouse

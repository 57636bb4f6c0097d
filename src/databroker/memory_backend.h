#pragma once

#include <memory>

#include "databroker/backend.h"

namespace gatehouse::databroker {

// Records, change log and leases in process memory: fast, lost on restart.
// The change log is bounded by BackendOptions::change_retention.
std::unique_ptr<Backend> makeMemoryBackend(BackendOptions options = {});

}  // namespace gatehouse::databroker

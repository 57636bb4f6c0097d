#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "databroker/backend.h"

namespace gatehouse::databroker {

// SQLite in WAL mode at `path` (a plain path or a file:// URL), created if
// missing. A put is acknowledged only after its transaction is in the
// write-ahead log, so killing the process loses nothing acknowledged; with
// synchronous=FULL (the default) neither does a power cut. Several
// processes may share the file; each sees the others' changes within
// about a quarter of a second.
Result<std::unique_ptr<Backend>> openFileBackend(std::string_view path,
                                                 BackendOptions options = {});

}  // namespace gatehouse::databroker

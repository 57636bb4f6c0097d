#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "databroker/backend.h"

namespace gatehouse::databroker {

// PostgreSQL through libpq. `connection` is a libpq URI or key=value string;
// a multi-host URI with target_session_attrs=read-write follows a failover.
// Creates and migrates the `gatehouse` schema. Change streams of several
// processes sharing the database are woken through LISTEN/NOTIFY.
// Connections that break are re-established on the next use; until the
// server is back, operations fail with Unavailable.
Result<std::unique_ptr<Backend>> openPostgresBackend(std::string_view connection,
                                                     BackendOptions options = {});

}  // namespace gatehouse::databroker

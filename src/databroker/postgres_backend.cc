#include "databroker/postgres_backend.h"

namespace gatehouse::databroker {
Result<std::unique_ptr<Backend>> openPostgresBackend(std::string_view, BackendOptions) {
  return Error::internal("not yet");
}
}  // namespace gatehouse::databroker

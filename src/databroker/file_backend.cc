#include "databroker/file_backend.h"

namespace gatehouse::databroker {
Result<std::unique_ptr<Backend>> openFileBackend(std::string_view, BackendOptions) {
  return Error::internal("not yet");
}
}  // namespace gatehouse::databroker

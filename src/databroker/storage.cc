#include "databroker/storage.h"

#include "common/log.h"
#include "databroker/file_backend.h"
#include "databroker/memory_backend.h"
#include "databroker/postgres_backend.h"

namespace gatehouse::databroker {

Result<std::unique_ptr<Backend>> openBackend(const StorageOptions& options) {
  if (options.type == "memory") return makeMemoryBackend(options.backend);
  if (options.type == "file" || options.type == "postgres") {
    if (options.connection_string.empty()) {
      return Error::invalid(options.connection_setting +
                            ": required when databroker_storage_type is " + options.type);
    }
    Result<std::unique_ptr<Backend>> backend =
        options.type == "file" ? openFileBackend(options.connection_string, options.backend)
                               : openPostgresBackend(options.connection_string, options.backend);
    if (!backend) {
      Error error = backend.error();
      error.message = options.connection_setting + ": " + error.message;
      return error;
    }
    return backend;
  }
  return Error::invalid("databroker_storage_type: \"" + options.type +
                        "\" is not one of memory, file, postgres");
}

PeriodicCleaner::PeriodicCleaner(std::shared_ptr<Backend> backend,
                                 std::chrono::milliseconds interval)
    : backend_(std::move(backend)), interval_(interval), thread_([this] { run(); }) {}

PeriodicCleaner::~PeriodicCleaner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicCleaner::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    if (auto cleaned = backend_->clean(); !cleaned) {
      log::warn("databroker clean-up failed").str("error", cleaned.error().message);
    }
    lock.lock();
  }
}

}  // namespace gatehouse::databroker

#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "databroker/backend.h"

namespace gatehouse::databroker {

// Which backend to open and where its data lives.
struct StorageOptions {
  std::string type = "memory";  // memory, file, postgres
  // file: a path (or file:// URL); postgres: a libpq URI or key=value string.
  std::string connection_string;
  // The setting the connection string came from, named in errors
  // ("databroker_storage_connection_string_file").
  std::string connection_setting = "databroker_storage_connection_string";
  BackendOptions backend;
};

// Opens the backend: creates or migrates its schema and checks that the
// storage is reachable. Errors name the setting at fault, e.g.
// `databroker_storage_connection_string: cannot connect to PostgreSQL: ...`.
Result<std::unique_ptr<Backend>> openBackend(const StorageOptions& options);

// Runs Backend::clean() every `interval` on its own thread until destroyed.
class PeriodicCleaner {
 public:
  PeriodicCleaner(std::shared_ptr<Backend> backend,
                  std::chrono::milliseconds interval = std::chrono::minutes(1));
  ~PeriodicCleaner();
  PeriodicCleaner(const PeriodicCleaner&) = delete;
  PeriodicCleaner& operator=(const PeriodicCleaner&) = delete;

 private:
  void run();

  std::shared_ptr<Backend> backend_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gatehouse::databroker

#pragma once

// Opens each storage backend for the conformance suite: a fresh store per
// test (a new SQLite file, a new PostgreSQL database on the server this
// process started), a clock the tests move, and child processes of this
// same binary for the multi-process tests.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "databroker/storage.h"
#include "support/postgres_server.h"

namespace gatehouse::databroker::testing {

// A wall clock the tests can move forward (TTLs, leases, retention).
class TestClock {
 public:
  Timestamp now() const { return databroker::now() + std::chrono::microseconds(offset_us_.load()); }
  void advance(std::chrono::microseconds by) { offset_us_ += by.count(); }

 private:
  std::atomic<int64_t> offset_us_{0};
};

// The PostgreSQL server shared by every postgres test of this process,
// started on first use; its failure to start fails the test (never skips).
gatehouse::testing::PostgresServer& postgresServer();

// A fresh store of one backend kind ("memory", "file", "postgres").
class StoreHarness {
 public:
  explicit StoreHarness(std::string kind);
  ~StoreHarness();

  const std::string& kind() const { return kind_; }
  bool persistent() const { return kind_ != "memory"; }
  // "" for memory; a file path or a PostgreSQL URI otherwise.
  const std::string& connection() const { return connection_; }
  // Set when the store could not be prepared (e.g. PostgreSQL did not start).
  const std::string& setupError() const { return setup_error_; }

  BackendOptions options(std::shared_ptr<TestClock> clock) const;
  Result<std::unique_ptr<Backend>> open(const BackendOptions& options) const;

 private:
  std::string kind_;
  std::string connection_;
  std::filesystem::path temp_dir_;
  std::string setup_error_;
};

// A child process running this test binary in helper mode (see main.cc),
// with its stdout readable line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The next line of output without the newline; false at end of output.
  bool readLine(std::string& line);
  void kill9();
  // Waits for exit; returns the exit status (or -signal).
  int wait();

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  bool waited_ = false;
  int status_ = 0;
};

// Runs a helper mode; returns the process exit code. Called by main().
int runHelper(int argc, char** argv);

}  // namespace gatehouse::databroker::testing

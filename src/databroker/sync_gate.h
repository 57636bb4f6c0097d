#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "databroker/client.h"

namespace gatehouse::databroker {

// Delivers a change stream's handler calls one at a time and lets the
// stream's owner stop them: after close() returns, no call is running or
// will start, unless close() was called from inside a call (which then is
// the last). Shared by the client implementations.
class SyncGate {
 public:
  explicit SyncGate(SyncHandler handler) : handler_(std::move(handler)) {}

  // False if the gate is closed (the records were not delivered).
  bool deliver(std::vector<Record> records) {
    if (!enter()) return false;
    if (handler_.on_records) handler_.on_records(std::move(records));
    leave(false);
    return true;
  }

  // Delivers the final error; nothing is delivered after it.
  void fail(Error error) {
    if (!enter()) return;
    if (handler_.on_error) handler_.on_error(std::move(error));
    leave(true);
  }

  void close() {
    std::unique_lock lock(mutex_);
    open_ = false;
    if (running_ == std::this_thread::get_id()) return;
    idle_.wait(lock, [this] { return running_ == std::thread::id(); });
  }

  bool open() const {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  bool enter() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return running_ == std::thread::id(); });
    if (!open_) return false;
    running_ = std::this_thread::get_id();
    return true;
  }
  void leave(bool finished) {
    std::lock_guard lock(mutex_);
    running_ = std::thread::id();
    if (finished) open_ = false;
    idle_.notify_all();
  }

  SyncHandler handler_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool open_ = true;
  std::thread::id running_;
};

}  // namespace gatehouse::databroker

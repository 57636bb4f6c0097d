#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace gatehouse::databroker {

// Counts the gRPC calls a client has started and gRPC has not finished
// with. Each call holds a Ticket, declared as its first member so that it is
// released last; the client's destructor waits for all of them, so that the
// channel (and with it, possibly, gRPC itself) is released on the caller's
// thread, not on one of gRPC's.
class OutstandingCalls {
 public:
  class Ticket {
   public:
    explicit Ticket(std::shared_ptr<OutstandingCalls> owner) : owner_(std::move(owner)) {
      std::lock_guard lock(owner_->mutex_);
      ++owner_->count_;
    }
    Ticket(Ticket&& other) noexcept = default;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (!owner_) return;
      std::lock_guard lock(owner_->mutex_);
      if (--owner_->count_ == 0) owner_->idle_.notify_all();
    }

   private:
    std::shared_ptr<OutstandingCalls> owner_;
  };

  void waitIdle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  size_t count_ = 0;
};

}  // namespace gatehouse::databroker

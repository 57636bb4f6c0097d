#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "proxy/proxy.h"

namespace gatehouse::server {

// The current snapshot, replaced as a whole on reload. Workers read it
// through a WorkerSnapshots cache that touches the mutex only when the
// generation number changed, so a request costs one atomic load here.
class SnapshotStore {
 public:
  void publish(std::shared_ptr<const proxy::Snapshot> snapshot) {
    std::lock_guard lock(mutex_);
    current_ = std::move(snapshot);
    generation_.store(current_->generation, std::memory_order_release);
  }
  std::shared_ptr<const proxy::Snapshot> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const proxy::Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

class WorkerSnapshots final : public proxy::SnapshotSource {
 public:
  explicit WorkerSnapshots(const SnapshotStore& store) : store_(store) {}
  std::shared_ptr<const proxy::Snapshot> current() override {
    if (!cached_ || store_.generation() != cached_->generation) cached_ = store_.get();
    return cached_;
  }

 private:
  const SnapshotStore& store_;
  std::shared_ptr<const proxy::Snapshot> cached_;
};

}  // namespace gatehouse::server

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace gatehouse::databroker {

// Tells change streams that the store moved on: the latest record version
// grew, or the store was cleared. A backend publishes after each commit (and,
// for stores shared between processes, when it learns of another process's
// commit). Thread-safe.
class ChangeNotifier {
 public:
  // Keeps a watch callback registered while it lives. After the destructor
  // returns the callback is not running and will not run again.
  class Watch {
   public:
    virtual ~Watch() = default;
  };

  // Records that changes up to `latest` are committed (the value never goes
  // down) and wakes every waiter and watch.
  void publish(uint64_t latest);
  // Wakes every waiter and watch without a new version (the store was
  // cleared, or is shutting down).
  void wakeAll();

  uint64_t latest() const;

  // Blocks until latest() > `after`, wakeAll() is called, or `deadline`
  // passes. Returns true if latest() > `after`.
  bool waitNewer(uint64_t after, std::chrono::steady_clock::time_point deadline);

  // Counts publish() and wakeAll() calls. Read it before looking at the
  // store, then waitForChange() with it: a commit made in between is not
  // missed.
  uint64_t generation() const;
  // Blocks until generation() differs from `seen` or `deadline` passes;
  // returns whether it differs.
  bool waitForChange(uint64_t seen, std::chrono::steady_clock::time_point deadline);

  // `on_change` runs on the publishing thread after each publish() or
  // wakeAll(); it must be quick and must not block (post work elsewhere).
  std::unique_ptr<Watch> watch(std::function<void()> on_change);

 private:
  struct WatchState;
  class WatchImpl;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t latest_ = 0;
  uint64_t wakeups_ = 0;
  std::vector<std::weak_ptr<WatchState>> watches_;
};

}  // namespace gatehouse::databroker

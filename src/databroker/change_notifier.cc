#include "databroker/change_notifier.h"

#include <algorithm>

namespace gatehouse::databroker {

// The callback and whether it may still run; its own mutex lets the Watch
// destructor wait for a callback that is running right now.
struct ChangeNotifier::WatchState {
  std::mutex mutex;
  bool active = true;
  std::function<void()> on_change;
};

class ChangeNotifier::WatchImpl : public ChangeNotifier::Watch {
 public:
  explicit WatchImpl(std::shared_ptr<WatchState> state) : state_(std::move(state)) {}
  ~WatchImpl() override {
    std::lock_guard lock(state_->mutex);
    state_->active = false;
    state_->on_change = nullptr;
  }

 private:
  std::shared_ptr<WatchState> state_;
};

void ChangeNotifier::publish(uint64_t latest) {
  std::vector<std::shared_ptr<WatchState>> to_call;
  {
    std::lock_guard lock(mutex_);
    if (latest <= latest_) return;
    latest_ = latest;
    ++wakeups_;
    auto end = std::remove_if(watches_.begin(), watches_.end(),
                              [](const std::weak_ptr<WatchState>& w) { return w.expired(); });
    watches_.erase(end, watches_.end());
    for (const auto& w : watches_) {
      if (auto state = w.lock()) to_call.push_back(std::move(state));
    }
  }
  changed_.notify_all();
  for (const auto& state : to_call) {
    std::lock_guard lock(state->mutex);
    if (state->active && state->on_change) state->on_change();
  }
}

void ChangeNotifier::wakeAll() {
  std::vector<std::shared_ptr<WatchState>> to_call;
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
    for (const auto& w : watches_) {
      if (auto state = w.lock()) to_call.push_back(std::move(state));
    }
  }
  changed_.notify_all();
  for (const auto& state : to_call) {
    std::lock_guard lock(state->mutex);
    if (state->active && state->on_change) state->on_change();
  }
}

uint64_t ChangeNotifier::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

bool ChangeNotifier::waitNewer(uint64_t after, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  uint64_t wakeups = wakeups_;
  changed_.wait_until(lock, deadline, [&] { return latest_ > after || wakeups_ != wakeups; });
  return latest_ > after;
}

uint64_t ChangeNotifier::generation() const {
  std::lock_guard lock(mutex_);
  return wakeups_;
}

bool ChangeNotifier::waitForChange(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return wakeups_ != seen; });
}

std::unique_ptr<ChangeNotifier::Watch> ChangeNotifier::watch(std::function<void()> on_change) {
  auto state = std::make_shared<WatchState>();
  state->on_change = std::move(on_change);
  {
    std::lock_guard lock(mutex_);
    watches_.push_back(state);
  }
  return std::make_unique<WatchImpl>(std::move(state));
}

}  // namespace gatehouse::databroker

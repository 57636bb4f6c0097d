#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>

#include "databroker/client.h"

namespace gatehouse::databroker::testing {

// Runs one asynchronous client call and waits for its answer (tests only).
template <typename T, typename Start>
Result<T> call(Start start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Error::internal("no answer within 10 s");
  }
  return future.get();
}

inline Record rec(std::string type, std::string id, std::string data = "{}") {
  Record r;
  r.type = std::move(type);
  r.id = std::move(id);
  r.data = std::move(data);
  return r;
}

inline Record deletion(std::string type, std::string id) {
  Record r = rec(std::move(type), std::move(id));
  r.deleted_at = Timestamp{};
  return r;
}

// Something that happens on another thread: notify() when it may have, and
// waitFor() re-checks its condition each time, up to a timeout.
class Signal {
 public:
  void notify() {
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    changed_.notify_all();
  }
  bool waitFor(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      uint64_t seen = 0;
      {
        std::lock_guard lock(mutex_);
        seen = generation_;
      }
      if (condition()) return true;
      std::unique_lock lock(mutex_);
      if (!changed_.wait_until(lock, deadline, [&] { return generation_ != seen; })) {
        lock.unlock();
        return condition();
      }
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
};

}  // namespace gatehouse::databroker::testing

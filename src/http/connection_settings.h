#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <unordered_set>
#include <vector>

#include "http/http1_reader.h"

namespace gatehouse::http {

// A worker's view of its open connections, for a graceful drain: idle
// keep-alive connections can be closed at once, busy ones close after the
// response they are sending. Used only on the worker's thread, except
// open(), which the main thread polls while draining.
class ConnectionTracker {
 public:
  void opened() { ++open_; }
  void closed() { --open_; }
  // Called around every request of every connection, so neither allocates
  // once warm: a node taken out of the set is kept and reused for the next
  // insert (the spare nodes never outnumber the most connections that were
  // idle at once).
  void idle(net::Stream* stream) {
    if (spare_.empty()) {
      idle_.insert(stream);
      return;
    }
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.value() = stream;
    auto result = idle_.insert(std::move(node));
    if (!result.inserted) spare_.push_back(std::move(result.node));
  }
  void busy(net::Stream* stream) {
    auto node = idle_.extract(stream);
    if (!node.empty()) spare_.push_back(std::move(node));
  }
  bool draining() const { return draining_; }
  void startDrain() {
    draining_ = true;
    for (net::Stream* s : idle_) s->close();
    idle_.clear();
  }
  size_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  std::unordered_set<net::Stream*> idle_;
  std::vector<std::unordered_set<net::Stream*>::node_type> spare_;
  std::atomic<size_t> open_{0};
  bool draining_ = false;
};

// Per-connection limits and timeouts, taken from the snapshot that was
// current when the connection was accepted.
struct ConnectionSettings {
  Http1Limits limits;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(5);
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(30);   // whole request
  std::chrono::nanoseconds write_timeout = std::chrono::nanoseconds::zero();  // 0 = none
  std::chrono::nanoseconds tls_handshake_timeout = std::chrono::seconds(10);
  ConnectionTracker* tracker = nullptr;  // the worker's, or null
};

}  // namespace gatehouse::http

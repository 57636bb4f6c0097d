#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "databroker/client.h"

namespace gatehouse::databroker {

// Keeps a local, queryable copy of some record types up to date: SyncLatest
// for a snapshot, then Sync from its version. After Aborted (the store was
// cleared or the stream fell behind the change log) it drops the copy and
// starts over; after other errors it retries with exponential backoff,
// resuming where it was. The session cache builds its index from it, so
// that sign-outs and changes reach every process without a request asking
// the databroker.
//
// One thread per type drives the protocol; the copy is read under a shared
// lock from any thread.
class Syncer {
 public:
  struct Options {
    std::vector<std::string> types;
    std::chrono::milliseconds min_backoff{100};
    std::chrono::milliseconds max_backoff{30000};
    // Called for every record that changes in the copy (after a snapshot,
    // for each of its records), on a client thread, with no lock held.
    std::function<void(const Record&)> on_change;
    // Called when a snapshot replaces the copy of `type` (at start and after
    // Aborted), before on_change for its records: a view built from
    // on_change must forget what it had, since records missing from the
    // new snapshot get no deletion.
    std::function<void(const std::string& type)> on_reset;
    // Keep a copy of every record (get(), records()). A caller that builds
    // its own view from on_change turns it off, so that the records are not
    // held twice; get() and records() then find nothing.
    bool keep_records = true;
  };

  // Starts syncing at once. `client` must outlive the syncer.
  Syncer(Client& client, Options options);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  // The local copy of a live record, or nullopt.
  std::optional<Record> get(std::string_view type, std::string_view id) const;
  // Every live record of a type in the copy.
  std::vector<Record> records(std::string_view type) const;
  // Where the copy of `type` stands; server_version 0 before the first snapshot.
  SyncPosition position(std::string_view type) const;

  // True once every type has loaded its first snapshot and passed it to
  // on_reset and on_change.
  bool ready() const;
  // Waits for ready(); false on timeout.
  bool waitReady(std::chrono::milliseconds timeout) const;

  // How many times a type started over from a snapshot (for tests/metrics).
  uint64_t resyncs(std::string_view type) const;

 private:
  struct TypeState;

  void run(TypeState& state);
  bool loadSnapshot(TypeState& state);
  void apply(TypeState& state, const std::vector<Record>& records);
  bool sleepFor(std::chrono::milliseconds delay);

  Client& client_;
  Options options_;
  std::map<std::string, std::unique_ptr<TypeState>, std::less<>> types_;

  mutable std::mutex control_mutex_;
  mutable std::condition_variable control_;
  bool stopping_ = false;
};

}  // namespace gatehouse::databroker

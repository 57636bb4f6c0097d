#pragma once
// Sessions on the request path. A local copy of every session and user
// record, kept current by the databroker's Sync stream, answers lookups
// without a databroker round trip. A handle made after the copy's position
// (a login this replica has not seen yet) reads through to the databroker
// once, so a fresh login is never bounced; a deleted (signed-out) or
// expired session is refused as soon as the change arrives.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "databroker/client.h"
#include "databroker/syncer.h"
#include "net/asio.h"
#include "session/handle.h"
#include "session/records.h"

namespace gatehouse::session {

// A session with its user, parsed once per record version and shared by
// every worker. Immutable, but for `superseded`.
struct Loaded {
  Session session;
  // The user record (shared with the copy's index of users); null when it
  // is missing.
  std::shared_ptr<const User> user;
  uint64_t version = 0;  // the session record's version
  std::vector<std::string> groups;
  std::string email;
  std::string name;
  // Set (once) when the copy replaced or dropped this view of the session:
  // a worker that kept it must look again. Written by the sync thread,
  // read lock-free by the workers.
  mutable std::atomic<bool> superseded{false};

  // Session claims with the user's claims laid over them.
  const nlohmann::json& claims() const { return merged_claims ? *merged_claims : session.claims; }
  // The merged claims when the user's claims change something; sign-in
  // stores the same claims in both records, so usually there is no second
  // tree (null).
  std::shared_ptr<const nlohmann::json> merged_claims;
};

enum class LookupStatus {
  kFound,        // valid session
  kNoSession,    // unknown, deleted or expired: sign in again
  kUnavailable,  // the databroker could not be asked: answer 503, never a login loop
};

struct Lookup {
  LookupStatus status = LookupStatus::kNoSession;
  std::shared_ptr<const Loaded> session;
  std::string reason;  // for logs
};

class Cache {
 public:
  // Starts syncing session and user records through `client`, which must
  // outlive the cache.
  explicit Cache(databroker::Client& client);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // The session a verified handle names, at `now`. Runs on the caller's
  // event loop; waits only for a read-through.
  Task<Lookup> lookup(const Handle& handle, Time now);
  // The same answer when the local copy has it (the copy is as new as the
  // handle); nullopt when only the databroker can answer. Lets a caller
  // skip a coroutine frame on every request. Takes the copy's lock shared:
  // a worker asks its WorkerView, which asks here only on a miss.
  std::optional<Lookup> lookupLocal(const Handle& handle, Time now) const;

  // Local copy only (tests, the user page).
  std::shared_ptr<const Loaded> find(std::string_view session_id) const;

  // The sessions for which `pick` returns true, from the local copy; `pick`
  // runs under the copy's lock and must be quick.
  std::vector<std::shared_ptr<const Loaded>> select(
      const std::function<bool(const Loaded&)>& pick) const;
  // The same among the sessions whose dueBy() is at or before `horizon`
  // only, walked in that order: a pass over the sessions that may need
  // attention costs what is due, not the size of the copy.
  std::vector<std::shared_ptr<const Loaded>> selectDue(
      Time horizon, const std::function<bool(const Loaded&)>& pick) const;
  // The earliest time anything can be due for a session: its own expiry
  // and, when it holds a refresh token, its tokens' expiries. Time::max()
  // when nothing ever is.
  static Time dueBy(const Session& s);

  bool ready() const;
  bool waitReady(std::chrono::milliseconds timeout) const;
  // Where the copy of a record type stands, and how often it started over
  // from a snapshot (for metrics).
  databroker::SyncPosition position(std::string_view type) const;
  uint64_t resyncs(std::string_view type) const;

  // Builds the Loaded view of a session record and (optionally) its user.
  static std::shared_ptr<const Loaded> build(Session session, std::shared_ptr<const User> user,
                                             uint64_t version);

 private:
  void onChange(const databroker::Record& record);
  void onReset(const std::string& type);
  // Puts `loaded` in the copy in place of what it had for `id` (under the
  // writer's lock) and marks the old one superseded.
  void replace(const std::string& id, std::shared_ptr<const Loaded> loaded);

  databroker::Client& client_;
  mutable std::shared_mutex mutex_;
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  // Looked up by string_view: no allocation per request.
  std::unordered_map<std::string, std::shared_ptr<const Loaded>, IdHash, std::equal_to<>> sessions_;
  // The sessions of sessions_ with something due some day, by dueBy().
  std::set<std::pair<Time, std::shared_ptr<const Loaded>>> due_;
  std::unordered_map<std::string, std::shared_ptr<const User>> users_;
  // Which sessions each user has, so that a user record that arrives after
  // (or changes after) its sessions is laid over them too.
  std::unordered_map<std::string, std::vector<std::string>> user_sessions_;
  // The newest session record version applied to the copy since the last
  // snapshot: a handle at or below it that names no session in the copy
  // names none at all (deleted or expired away), one above it reads
  // through. The syncer keeps no copy of its own (keep_records off).
  uint64_t session_version_ = 0;
  std::unique_ptr<databroker::Syncer> syncer_;  // last: stops before the maps go
};

// A worker's view of the sessions: the ones its requests used lately, each
// checked by one atomic load (Loaded::superseded) instead of the copy's
// lock, so a signed-in request takes no lock. Why this shape: the full copy
// (up to millions of sessions) exists once, in Cache; a per-worker copy of
// it would multiply its memory by the worker count, and an immutable
// snapshot republished per change would copy it per sign-in. This view
// holds at most kCapacity pointers to the shared Loaded objects, so it
// costs kilobytes per worker whatever the number of stored sessions.
// One per event loop; not thread-safe.
class WorkerView {
 public:
  static constexpr size_t kCapacity = 4096;
  // `cache` may be null (no request has a session); it must outlive the view.
  explicit WorkerView(const Cache* cache) : cache_(cache) {}

  // Cache::lookupLocal, answered from this worker's view when it can.
  std::optional<Lookup> lookupLocal(const Handle& handle, Time now);

 private:
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  const Cache* cache_;
  std::unordered_map<std::string, std::shared_ptr<const Loaded>, IdHash, std::equal_to<>> hot_;
};

}  // namespace gatehouse::session

#pragma once
// Sessions on the request path. The copy holds a small index entry for
// every session record (its version and the times the refresher acts on,
// kept current by the databroker's Sync stream), and a parsed view only of
// the sessions that requests use. A handle the copy knows, or one newer
// than the copy (a login this replica has not seen yet), reads the record
// through from the databroker when no parsed view is held; a deleted
// (signed-out) or expired session is refused as soon as the change
// arrives, without a databroker round trip.
//
// Why this shape: a parsed session (tokens, claims trees) costs about
// 8 KB; kept for every stored session it made the copy the largest user
// of memory (10 GB at a million sessions). The index costs a few hundred
// bytes per session, and the parsed views live only while a worker's view
// or the recent reads hold them.

#include <atomic>
#include <deque>
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

// A session with its user, parsed when a request needs it and shared by
// every worker while they use it. Immutable, but for `superseded`.
struct Loaded {
  Session session;
  // The user record; null when it is missing.
  std::shared_ptr<const User> user;
  uint64_t version = 0;  // the session record's version
  // Names this view among all the views the process builds (never 0, never
  // reused): a worker that derived something from a view can tell by the id
  // alone that it still has the same content. 0 for a view built elsewhere.
  uint64_t id = 0;
  std::vector<std::string> groups;
  std::string email;
  std::string name;
  // Set (once) when the session or its user changed or went: a worker that
  // kept this view must look again. Written by the sync thread, read
  // lock-free by the workers.
  mutable std::atomic<bool> superseded{false};
  // The minute (since the epoch) of the last request that used this view:
  // the copy keeps views used lately parsed. Written by the workers,
  // relaxed, only when the minute changes.
  mutable std::atomic<uint32_t> used_minute{0};

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
  // The same answer when the copy can give it without the databroker (a
  // parsed view as new as the handle, or a session known to be gone);
  // nullopt when only a read-through can answer. Lets a caller skip a
  // coroutine frame on every request. Takes the copy's lock shared: a
  // worker asks its WorkerView, which asks here only on a miss.
  std::optional<Lookup> lookupLocal(const Handle& handle, Time now) const;

  // The session with this id, with its user: the parsed view when one is
  // held, else read from the databroker (and not kept). Null when there is
  // none, or it cannot be read now. For the refresher, which holds no
  // handle.
  Task<std::shared_ptr<const Loaded>> load(std::string session_id);

  // Whether the copy has applied a session with this id, and its schedule
  // (tests, metrics).
  bool contains(std::string_view session_id) const;
  std::optional<Schedule> schedule(std::string_view session_id) const;
  // The version of the user record the copy has applied (0: none).
  uint64_t userVersion(std::string_view user_id) const;
  size_t size() const;
  // The parsed views the copy keeps alive (some may be superseded and not
  // yet swept).
  size_t parsedCount() const;

  // The sessions (id and schedule) whose dueBy() is at or before `horizon`
  // and for which `pick` returns true, walked in dueBy() order: a pass over
  // the sessions that may need attention costs what is due, not the size
  // of the copy. `pick` runs under the copy's lock and must be quick.
  std::vector<std::pair<std::string, Schedule>> selectDue(
      Time horizon, const std::function<bool(const Schedule&)>& pick) const;
  // The earliest time anything can be due for a session: its own expiry
  // and, when it holds a refresh token, its tokens' expiries. Time::max()
  // when nothing ever is.
  static Time dueBy(const Schedule& s);

  bool ready() const;
  bool waitReady(std::chrono::milliseconds timeout) const;
  // Where the copy of a record type stands, and how often it started over
  // from a snapshot (for metrics).
  databroker::SyncPosition position(std::string_view type) const;
  uint64_t resyncs(std::string_view type) const;

  // Builds the Loaded view of a session record and (optionally) its user.
  static std::shared_ptr<const Loaded> build(Session session, std::shared_ptr<const User> user,
                                             uint64_t version);

  // How long the copy keeps a parsed view that no request used: a session
  // idle for longer reads its record through once when it comes back.
  static constexpr std::chrono::minutes kRetention{15};

 private:
  struct Fetched;
  enum class Adopted { kKept, kStale, kGone };
  // The user version of a read-through that found no user record.
  static constexpr uint64_t kNoUser = 0;

  void onChange(const databroker::Record& record);
  void onReset(const std::string& type);
  // Reads a session and its user from the databroker and, with `keep`,
  // makes it the copy's parsed view of that session.
  Task<Fetched> fetch(std::string session_id, bool keep, Time now);
  // Under the writer's lock: makes `loaded` (read through, with its user
  // at `user_version`, when the copy had started over `resets` times) the
  // parsed view of its session, or says why not: kStale when the reads are
  // older than what the copy applied since, kGone when the copy has
  // applied its deletion. `loaded` becomes the view already held when that
  // one is as new.
  Adopted adopt(std::shared_ptr<const Loaded>& loaded, uint64_t user_version, uint64_t resets);
  // Under the writer's lock: looks at the oldest few of held_, keeping
  // those used within kRetention (at the back) and letting go of the rest.
  void sweep(Time now);

  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  template <typename T>
  using IdMap = std::unordered_map<std::string, T, IdHash, std::equal_to<>>;

  // What the copy keeps for every session.
  struct Entry {
    uint64_t version = 0;  // of the record applied (or read through)
    Schedule schedule;
    // The parsed view, while a worker or the recent reads hold it. Set only
    // for a view made from this record version or a newer one; marked
    // superseded when the record changes or goes.
    std::weak_ptr<const Loaded> live;
  };
  // What the copy keeps for every user: the record's version, so that a
  // read-through that got an older user than the copy has applied reads
  // again, and the parsed views of the user's sessions, to supersede when
  // the user changes.
  struct UserEntry {
    uint64_t version = 0;
    bool deleted = false;
    std::vector<std::weak_ptr<const Loaded>> live;
  };

  // Under the writer's lock: marks every parsed view of a user superseded.
  static void supersedeViews(UserEntry& user);
  // Under the writer's lock: the entry's record version and schedule, and
  // its place among the sessions due.
  void reschedule(IdMap<Entry>::iterator it, uint64_t version, const Schedule& schedule);
  // Under the writer's lock: removes a session from the copy, marking its
  // parsed view superseded.
  void drop(IdMap<Entry>::iterator it);

  databroker::Client& client_;
  mutable std::shared_mutex mutex_;
  // Looked up by string_view: no allocation per request.
  IdMap<Entry> sessions_;
  // The sessions with something due some day, by dueBy(); the id points at
  // the key in sessions_ (stable: unordered_map nodes do not move).
  std::set<std::pair<Time, const std::string*>> due_;
  IdMap<UserEntry> users_;
  // The parsed views the copy keeps alive: every one read through, for as
  // long as requests use it (Loaded::used_minute), oldest first. Workers'
  // views hold them too, but forget them when they fill up.
  std::deque<std::shared_ptr<const Loaded>> held_;
  // The newest session record version applied to the copy since the last
  // snapshot: a handle at or below it that names no session in the copy
  // names none at all (deleted or expired away), one above it reads
  // through. The syncer keeps no copy of its own (keep_records off).
  uint64_t session_version_ = 0;
  // How often the copy started over from a snapshot (either type): a
  // read-through that began before one cannot be judged by what the copy
  // applied, and reads again.
  uint64_t resets_ = 0;
  std::unique_ptr<databroker::Syncer> syncer_;  // last: stops before the maps go
};

// A worker's view of the sessions: the ones its requests used lately, each
// checked by one atomic load (Loaded::superseded) instead of the copy's
// lock, so a signed-in request takes no lock. Why this shape: the index of
// every session (up to millions) exists once, in Cache; a per-worker copy
// of it would multiply its memory by the worker count, and an immutable
// snapshot republished per change would copy it per sign-in. This view
// holds at most kCapacity pointers to the shared Loaded objects, and with
// them keeps those parsed views alive.
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

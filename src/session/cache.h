#pragma once
// Sessions on the request path. A local copy of every session and user
// record, kept current by the databroker's Sync stream, answers lookups
// without a databroker round trip. A handle made after the copy's position
// (a login this replica has not seen yet) reads through to the databroker
// once, so a fresh login is never bounced; a deleted (signed-out) or
// expired session is refused as soon as the change arrives.

#include <functional>
#include <memory>
#include <optional>
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

// A session with its user, parsed once per record version and shared.
struct Loaded {
  Session session;
  User user;             // id empty when the user record is missing
  uint64_t version = 0;  // the session record's version
  // Session claims with the user's claims laid over them.
  nlohmann::json claims = nlohmann::json::object();
  std::vector<std::string> groups;
  std::string email;
  std::string name;
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
  // The same answer when it needs no wait (the local copy, or the syncer's,
  // is as new as the handle); nullopt when only the databroker can answer.
  // Lets a caller skip a coroutine frame on every request.
  std::optional<Lookup> lookupLocal(const Handle& handle, Time now) const;

  // Local copy only (tests, the user page).
  std::shared_ptr<const Loaded> find(std::string_view session_id) const;

  // The sessions for which `pick` returns true, from the local copy; `pick`
  // runs under the copy's lock and must be quick.
  std::vector<std::shared_ptr<const Loaded>> select(
      const std::function<bool(const Loaded&)>& pick) const;

  bool ready() const;
  bool waitReady(std::chrono::milliseconds timeout) const;
  // Where the copy of a record type stands, and how often it started over
  // from a snapshot (for metrics).
  databroker::SyncPosition position(std::string_view type) const;
  uint64_t resyncs(std::string_view type) const;

  // Builds the Loaded view of a session record and (optionally) its user.
  static std::shared_ptr<const Loaded> build(Session session, const User* user, uint64_t version);

 private:
  void onChange(const databroker::Record& record);
  void onReset(const std::string& type);

  databroker::Client& client_;
  mutable std::shared_mutex mutex_;
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  // Looked up by string_view: no allocation per request.
  std::unordered_map<std::string, std::shared_ptr<const Loaded>, IdHash, std::equal_to<>>
      sessions_;
  std::unordered_map<std::string, std::shared_ptr<const User>> users_;
  // Which sessions each user has, so that a user record that arrives after
  // (or changes after) its sessions is laid over them too.
  std::unordered_map<std::string, std::vector<std::string>> user_sessions_;
  std::unique_ptr<databroker::Syncer> syncer_;  // last: stops before the maps go
};

}  // namespace gatehouse::session

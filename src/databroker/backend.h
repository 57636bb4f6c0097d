#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "databroker/change_notifier.h"
#include "databroker/record.h"

namespace gatehouse::databroker {

// Settings every backend shares.
struct BackendOptions {
  // Changes older than this are trimmed from the change log by clean(); a
  // stream that falls further behind gets Aborted and starts over.
  Duration change_retention = std::chrono::hours(1);
  // The wall clock for modified_at, TTLs, leases and retention; tests inject
  // their own. Empty = the system clock.
  std::function<Timestamp()> clock;
};

// A storage backend: memory, file (SQLite) or postgres. The API is
// synchronous and thread-safe; methods may block on disk or network I/O, so
// call them from the gRPC threads or a worker pool (LocalClient), never from
// an event-loop thread.
//
// Errors: InvalidArgument for bad requests, NotFound, Aborted for a stream
// that cannot continue, AlreadyExists for a lease held by someone else,
// Unavailable when the storage cannot be reached (retry later; the backend
// reconnects on its own).
class Backend {
 public:
  virtual ~Backend() = default;

  // The live record; NotFound if it does not exist or was deleted.
  virtual Result<Record> get(std::string_view type, std::string_view id) = 0;

  // Upserts each record (a record with deleted_at deletes it), each with the
  // next record version, all or nothing. Deleting a record that does not
  // exist still records the deletion. Types with a capacity then lose their
  // oldest records.
  virtual Result<PutResult> put(std::vector<Record> records) = 0;

  // For each existing record, replaces the fields named in `field_mask` with
  // the request's values (a named field missing in the request is removed)
  // and stores it as a put would. Records that do not exist are skipped and
  // not returned.
  virtual Result<PutResult> patch(std::vector<Record> records,
                                  const std::vector<std::string>& field_mask) = 0;

  virtual Result<QueryResult> query(const Query& query) = 0;

  // The changes after `from.record_version`, of `type` only unless it is
  // empty, at most `limit` of them. Aborted when from.server_version is not
  // this store's, or when the change log no longer reaches back to it.
  virtual Result<ChangeBatch> changes(const SyncPosition& from, std::string_view type,
                                      size_t limit) = 0;

  // Every live record of `type` (every type if empty), consistently with the
  // returned version.
  virtual Result<Snapshot> latest(std::string_view type) = 0;

  virtual Result<ServerInfo> serverInfo() = 0;
  virtual Result<std::vector<std::string>> listTypes() = 0;
  virtual Result<TypeOptions> getOptions(std::string_view type) = 0;
  // Applies a capacity at once; a TTL at the next clean().
  virtual Result<void> setOptions(std::string_view type, const TypeOptions& options) = 0;

  // Deletes every record, change, option and lease and starts a new server
  // version. Record versions keep growing.
  virtual Result<ClearResult> clear() = 0;

  // Takes the lease `name` for `id` for `ttl` if it is free or expired.
  // Returns false if someone else holds it.
  virtual Result<bool> acquireLease(std::string_view name, std::string_view id, Duration ttl) = 0;
  // Extends a lease `id` still holds; false if it lost it.
  virtual Result<bool> renewLease(std::string_view name, std::string_view id, Duration ttl) = 0;
  // Gives the lease up if `id` holds it; otherwise does nothing.
  virtual Result<void> releaseLease(std::string_view name, std::string_view id) = 0;

  // Maintenance: deletes records past their type's TTL and trims the change
  // log to the retention. Storage::open runs it every minute.
  virtual Result<void> clean() = 0;

  // Publishes committed versions to change streams. Virtual so that a
  // decorator (InstrumentedBackend) hands out the notifier of the backend it
  // wraps, which is the one that publishes.
  virtual ChangeNotifier& notifier() { return notifier_; }

 protected:
  ChangeNotifier notifier_;
};

}  // namespace gatehouse::databroker

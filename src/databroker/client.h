#pragma once

// How the other services talk to the databroker, whether it runs in the same
// process (LocalClient) or behind gRPC (GrpcClient). Only server/ knows
// which one a service has.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "databroker/record.h"

namespace gatehouse::databroker {

template <typename T>
using Callback = std::function<void(Result<T>)>;

// What a change stream delivers. Calls are serialised: never two at once.
struct SyncHandler {
  // A batch of changes, oldest first; deletions have deleted_at set.
  std::function<void(std::vector<Record>)> on_records;
  // The stream ended: Aborted (start over from SyncLatest: the server
  // version changed or the stream fell behind the change log), Unavailable,
  // or another error. Nothing is delivered after it.
  std::function<void(Error)> on_error;
};

// A running change stream. Destroying it stops the stream: once the
// destructor returns no handler call is running or will run (destroying it
// from inside a handler call is allowed).
class SyncStream {
 public:
  virtual ~SyncStream() = default;
};

// Every method returns at once; `done` runs later on a thread of the client
// (never inline, never on the caller's event loop: post to your own
// executor, or use databroker/client_awaitable.h). Errors are those of
// Backend; gRPC adds Unauthenticated and maps transport failures to
// Unavailable. A client must outlive the calls and streams it started.
class Client {
 public:
  virtual ~Client() = default;

  virtual void get(std::string type, std::string id, Callback<Record> done) = 0;
  virtual void put(std::vector<Record> records, Callback<PutResult> done) = 0;
  virtual void patch(std::vector<Record> records, std::vector<std::string> field_mask,
                     Callback<PutResult> done) = 0;
  virtual void query(Query query, Callback<QueryResult> done) = 0;
  // A snapshot of `type` ("" = every type) and the version to sync from.
  virtual void syncLatest(std::string type, Callback<Snapshot> done) = 0;
  // Streams every change after `from` (of `type` only, unless empty), then
  // keeps streaming new ones as they are committed.
  virtual std::unique_ptr<SyncStream> sync(SyncPosition from, std::string type,
                                           SyncHandler handler) = 0;
  virtual void serverInfo(Callback<ServerInfo> done) = 0;
  virtual void listTypes(Callback<std::vector<std::string>> done) = 0;
  virtual void getOptions(std::string type, Callback<TypeOptions> done) = 0;
  virtual void setOptions(std::string type, TypeOptions options, Callback<void> done) = 0;
  virtual void clear(Callback<ClearResult> done) = 0;
  // Takes the named lease for `ttl` and answers its id; AlreadyExists while
  // someone else holds it.
  virtual void acquireLease(std::string name, Duration ttl, Callback<std::string> done) = 0;
  // Extends a held lease; AlreadyExists if it was lost.
  virtual void renewLease(std::string name, std::string id, Duration ttl, Callback<void> done) = 0;
  virtual void releaseLease(std::string name, std::string id, Callback<void> done) = 0;
};

}  // namespace gatehouse::databroker

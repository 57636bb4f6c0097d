#pragma once

// The databroker's data model: records, their versions, per-type options and
// the requests and answers of the storage operations. Plain values, shared by
// every backend, the service and the clients.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/result.h"

namespace gatehouse::databroker {

// Wall-clock time with the precision every backend can store (PostgreSQL
// keeps microseconds).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// One stored record. `data` is the text of a JSON object; a protobuf message
// travels in its JSON form (with "@type"), which is what queries look into.
struct Record {
  std::string type;
  std::string id;
  // The record_version of the change that last wrote this record; assigned
  // by the backend, ignored in requests.
  uint64_t version = 0;
  std::string data = "{}";
  // Set by the backend from its clock on every write.
  Timestamp modified_at{};
  // Set in a put to delete the record. Deletions appear in Sync with it set.
  std::optional<Timestamp> deleted_at;

  bool deleted() const { return deleted_at.has_value(); }
  bool operator==(const Record&) const = default;
};

// Options of one record type.
struct TypeOptions {
  // At most this many records; a put beyond it deletes the oldest ones.
  std::optional<uint64_t> capacity;
  // Records not written for this long are deleted by the periodic clean-up.
  std::optional<Duration> ttl;
  // Top-level fields of `data` that Query can filter on and search in.
  std::vector<std::string> indexed_fields;

  bool operator==(const TypeOptions&) const = default;
};

struct PutResult {
  uint64_t server_version = 0;
  // The records as stored, in request order, with version and modified_at.
  std::vector<Record> records;
};

struct Query {
  std::string type;  // required
  // Case-insensitive (ASCII) substring match against the id and the indexed
  // fields; empty matches everything.
  std::string search;
  // Every entry must equal the record's value of that field ("id" or an
  // indexed field). Strings compare as they are, numbers and booleans by
  // their JSON text; objects, arrays and null never match.
  std::map<std::string, std::string> filter;
  uint64_t offset = 0;
  uint64_t limit = 0;  // 0 = no limit
};

struct QueryResult {
  std::vector<Record> records;  // ordered by id (byte order)
  uint64_t total_count = 0;     // matches before offset and limit
  uint64_t server_version = 0;
  uint64_t record_version = 0;  // the latest record version when the query ran
};

// Where a change stream stands: the storage instance and the last version seen.
struct SyncPosition {
  uint64_t server_version = 0;
  uint64_t record_version = 0;
};

struct ChangeBatch {
  // Changes with a version above the position, oldest first; deletions have
  // deleted_at set.
  std::vector<Record> records;
  // The position to continue from. It can pass the last record's version
  // when changes of other types were skipped.
  uint64_t record_version = 0;
  // True when the batch was cut by its size limit: ask again at once.
  bool more = false;
};

// A consistent copy of one type (or of every type) and the version to
// continue from with a change stream.
struct Snapshot {
  std::vector<Record> records;
  uint64_t server_version = 0;
  uint64_t record_version = 0;
};

struct ServerInfo {
  uint64_t server_version = 0;
  // The oldest change still in the change log; a stream can resume from
  // earliest_record_version - 1 or later.
  uint64_t earliest_record_version = 0;
  uint64_t latest_record_version = 0;
};

struct ClearResult {
  uint64_t old_server_version = 0;
  uint64_t new_server_version = 0;
};

// ---- Helpers shared by the backends ----------------------------------------

// The system clock at the model's precision.
Timestamp now();

// Checks the records of a put and normalises their data to compact JSON.
// A deletion may have empty data. Errors name the record: "records[2].type:
// required".
Result<void> validatePut(std::vector<Record>& records);
Result<void> validateType(std::string_view type);
Result<void> validateQuery(const Query& query, const TypeOptions& options);
// Checks a field mask: non-empty, dotted paths of JSON object keys.
Result<void> validateFieldMask(const std::vector<std::string>& paths);

// Compact JSON of `data`, which must be a JSON object ("" counts as {}).
Result<std::string> normalizeData(std::string_view data);

// Copies the fields named by `paths` (dotted paths into nested objects) from
// `patch` into `current`; a path missing in `patch` is removed from the
// result. Both are JSON objects; returns the merged compact JSON.
Result<std::string> applyFieldMask(std::string_view current, std::string_view patch,
                                   const std::vector<std::string>& paths);

// The text Query compares for one top-level field of `data`, or nullopt when
// the field is absent or not a string, number or boolean.
std::optional<std::string> fieldText(std::string_view data, std::string_view field);

// Precomputed matching of a Query against records, for backends that filter
// in process (memory, file).
class QueryMatcher {
 public:
  QueryMatcher(const Query& query, const TypeOptions& options);
  bool matches(const Record& record) const;

 private:
  std::string search_;  // lower-case
  std::vector<std::string> indexed_fields_;
  std::map<std::string, std::string> filter_;
};

// ASCII lower-case copy.
std::string lowerAscii(std::string_view text);

// A random server version; never 0, which clients use for "none yet".
uint64_t newServerVersion();

// Errors with the codes the service maps to gRPC status codes.
Error unavailable(std::string message);
Error aborted(std::string message);
Error notFound(std::string message);
Error alreadyExists(std::string message);

}  // namespace gatehouse::databroker

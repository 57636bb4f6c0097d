#include "databroker/file_backend.h"

#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "common/log.h"

namespace gatehouse::databroker {
namespace {

constexpr int kSchemaVersion = 1;
constexpr auto kPollInterval = std::chrono::milliseconds(250);

constexpr const char* kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
  modified_at INTEGER NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID;
CREATE INDEX records_by_version ON records (type, version);
CREATE INDEX records_by_modified_at ON records (type, modified_at);
CREATE TABLE changes (
  version INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
  modified_at INTEGER NOT NULL, deleted_at INTEGER);
CREATE INDEX changes_by_modified_at ON changes (modified_at);
CREATE TABLE options (
  type TEXT PRIMARY KEY, capacity INTEGER, ttl_us INTEGER, indexed_fields TEXT NOT NULL)
  WITHOUT ROWID;
CREATE TABLE leases (name TEXT PRIMARY KEY, id TEXT NOT NULL, expires_at INTEGER NOT NULL)
  WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('latest_version', 0);
)sql";

int64_t micros(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp fromMicros(int64_t us) { return Timestamp(std::chrono::microseconds(us)); }
int64_t micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Unavailable for the failures that go away (lock contention, a full or
// failing disk), Internal for the rest.
Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
      primary == SQLITE_FULL || primary == SQLITE_CANTOPEN || primary == SQLITE_PROTOCOL) {
    return unavailable(std::move(message));
  }
  return Error::internal(std::move(message));
}

// A prepared statement, reset when the guard goes away so that it can be
// reused and holds no read snapshot open.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bindNull(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  Result<void> run(std::string_view what) {
    int rc = step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sqliteError(db_, rc, what);
    return {};
  }

  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One SQLite connection with its statement cache. Not thread-safe: the
// backend serialises use with its mutex.
class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    if (db_) sqlite3_close(db_);
  }

  static Result<std::unique_ptr<Connection>> open(const std::string& path) {
    auto conn = std::make_unique<Connection>();
    int rc =
        sqlite3_open_v2(path.c_str(), &conn->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return Error::invalid("cannot open SQLite database \"" + path +
                            "\": " + (conn->db_ ? sqlite3_errmsg(conn->db_) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(conn->db_, 1);
    // Writers from other processes wait for each other instead of failing.
    sqlite3_busy_timeout(conn->db_, 10000);
    return conn;
  }

  sqlite3* db() const { return db_; }

  Result<void> exec(const char* sql, std::string_view what) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      Error error = sqliteError(nullptr, rc, what);
      error.message = std::string(what) + ": " + text;
      return error;
    }
    return {};
  }

  Result<Statement> prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return sqliteError(db_, rc, "prepare");
      it = statements_.emplace(sql, stmt).first;
    }
    return Result<Statement>(Statement(db_, it->second));
  }

 private:
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> statements_;  // keyed by the literal's address
};

// A transaction that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction() {
    if (open_) (void)conn_.exec("ROLLBACK", "rollback");
  }
  Result<void> begin(bool write) {
    auto begun = conn_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN", "begin");
    open_ = begun.ok();
    return begun;
  }
  Result<void> commit() {
    open_ = false;
    return conn_.exec("COMMIT", "commit");
  }

 private:
  Connection& conn_;
  bool open_ = false;
};

Record readChange(const Statement& row) {
  // Columns: version, type, id, data, modified_at, deleted_at.
  Record record;
  record.version = static_cast<uint64_t>(row.integer(0));
  record.type = row.text(1);
  record.id = row.text(2);
  record.data = row.text(3);
  record.modified_at = fromMicros(row.integer(4));
  if (!row.isNull(5)) record.deleted_at = fromMicros(row.integer(5));
  return record;
}

Record readRecord(const Statement& row) {
  // Columns: type, id, version, data, modified_at.
  Record record;
  record.type = row.text(0);
  record.id = row.text(1);
  record.version = static_cast<uint64_t>(row.integer(2));
  record.data = row.text(3);
  record.modified_at = fromMicros(row.integer(4));
  return record;
}

#define TRY(expr)                                 \
  do {                                            \
    if (auto _r = (expr); !_r) return _r.error(); \
  } while (0)

class FileBackend final : public Backend {
 public:
  FileBackend(std::string path, BackendOptions options, std::unique_ptr<Connection> conn)
      : path_(std::move(path)), options_(std::move(options)), conn_(std::move(conn)) {
    if (!options_.clock) options_.clock = databroker::now;
  }

  ~FileBackend() override {
    {
      std::lock_guard lock(poll_mutex_);
      stopping_ = true;
    }
    poll_wake_.notify_all();
    if (poller_.joinable()) poller_.join();
  }

  Result<void> initialize() {
    std::lock_guard lock(mutex_);
    TRY(conn_->exec("PRAGMA journal_mode=WAL", "enable WAL"));
    TRY(conn_->exec("PRAGMA synchronous=FULL", "set synchronous"));
    Transaction txn(*conn_);
    TRY(txn.begin(true));
    int64_t schema = 0;
    {
      auto stmt = conn_->prepare("PRAGMA user_version");
      if (!stmt) return stmt.error();
      if (stmt->step() == SQLITE_ROW) schema = stmt->integer(0);
    }
    if (schema > kSchemaVersion) {
      return Error::invalid("\"" + path_ + "\" was written by a newer Gatehouse (schema " +
                            std::to_string(schema) + ")");
    }
    if (schema == 0) {
      TRY(conn_->exec(kSchema, "create schema"));
      TRY(setMeta("server_version", static_cast<int64_t>(newServerVersion())));
      TRY(conn_->exec("PRAGMA user_version=1", "set schema version"));
    }
    TRY(txn.commit());
    auto latest = meta("latest_version");
    if (!latest) return latest.error();
    notifier_.publish(static_cast<uint64_t>(*latest));
    auto poller = Connection::open(path_);
    if (!poller) return poller.error();
    poller_ = std::thread([this, conn = std::move(*poller)]() mutable { poll(*conn); });
    return {};
  }

  Result<Record> get(std::string_view type, std::string_view id) override {
    std::lock_guard lock(mutex_);
    auto stmt = conn_->prepare(
        "SELECT type, id, version, data, modified_at FROM records WHERE type = ? AND id = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, type).bind(2, id);
    int rc = stmt->step();
    if (rc == SQLITE_ROW) return readRecord(*stmt);
    if (rc == SQLITE_DONE) return notFound("record not found");
    return sqliteError(conn_->db(), rc, "get");
  }

  Result<PutResult> put(std::vector<Record> records) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    return write([&](Timestamp now) -> Result<std::vector<Record>> {
      std::set<std::string> types;
      for (Record& record : records) {
        TRY(writeRecord(record, now));
        types.insert(record.type);
      }
      for (const auto& type : types) TRY(enforceCapacity(type, now));
      return std::move(records);
    });
  }

  Result<PutResult> patch(std::vector<Record> records,
                          const std::vector<std::string>& field_mask) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    if (auto valid = validateFieldMask(field_mask); !valid) return valid.error();
    return write([&](Timestamp now) -> Result<std::vector<Record>> {
      std::vector<Record> patched;
      for (Record& record : records) {
        auto stmt = conn_->prepare("SELECT data FROM records WHERE type = ? AND id = ?");
        if (!stmt) return stmt.error();
        stmt->bind(1, record.type).bind(2, record.id);
        int rc = stmt->step();
        if (rc == SQLITE_DONE) continue;
        if (rc != SQLITE_ROW) return sqliteError(conn_->db(), rc, "patch");
        auto data = applyFieldMask(stmt->text(0), record.data, field_mask);
        if (!data) return data.error();
        record.data = std::move(*data);
        record.deleted_at.reset();
        patched.push_back(std::move(record));
      }
      for (Record& record : patched) TRY(writeRecord(record, now));
      return patched;
    });
  }

  Result<QueryResult> query(const Query& query) override {
    std::lock_guard lock(mutex_);
    Transaction txn(*conn_);
    TRY(txn.begin(false));
    auto options = readOptions(query.type);
    if (!options) return options.error();
    if (auto valid = validateQuery(query, *options); !valid) return valid.error();
    QueryResult result;
    auto server = meta("server_version");
    auto latest = meta("latest_version");
    if (!server) return server.error();
    if (!latest) return latest.error();
    result.server_version = static_cast<uint64_t>(*server);
    result.record_version = static_cast<uint64_t>(*latest);
    QueryMatcher matcher(query, *options);
    auto stmt = conn_->prepare(
        "SELECT type, id, version, data, modified_at FROM records WHERE type = ? ORDER BY id");
    if (!stmt) return stmt.error();
    stmt->bind(1, query.type);
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) {
      Record record = readRecord(*stmt);
      if (!matcher.matches(record)) continue;
      uint64_t index = result.total_count++;
      if (index < query.offset) continue;
      if (query.limit != 0 && result.records.size() >= query.limit) continue;
      result.records.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE) return sqliteError(conn_->db(), rc, "query");
    return result;
  }

  Result<ChangeBatch> changes(const SyncPosition& from, std::string_view type,
                              size_t limit) override {
    std::lock_guard lock(mutex_);
    Transaction txn(*conn_);
    TRY(txn.begin(false));
    auto info = readInfo();
    if (!info) return info.error();
    if (from.server_version != info->server_version) return aborted("invalid server version");
    if (from.record_version + 1 < info->earliest_record_version) {
      return aborted("invalid record version");
    }
    ChangeBatch batch;
    batch.record_version = std::max(from.record_version, info->latest_record_version);
    auto stmt = type.empty() ? conn_->prepare(
                                   "SELECT version, type, id, data, modified_at, deleted_at "
                                   "FROM changes WHERE version > ? ORDER BY version LIMIT ?")
                             : conn_->prepare(
                                   "SELECT version, type, id, data, modified_at, deleted_at "
                                   "FROM changes WHERE version > ? AND type = ? "
                                   "ORDER BY version LIMIT ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, static_cast<int64_t>(from.record_version));
    if (type.empty()) {
      stmt->bind(2, static_cast<int64_t>(limit) + 1);
    } else {
      stmt->bind(2, type).bind(3, static_cast<int64_t>(limit) + 1);
    }
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) {
      if (batch.records.size() >= limit) {
        batch.more = true;
        batch.record_version = batch.records.back().version;
        break;
      }
      batch.records.push_back(readChange(*stmt));
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sqliteError(conn_->db(), rc, "sync");
    return batch;
  }

  Result<Snapshot> latest(std::string_view type) override {
    std::lock_guard lock(mutex_);
    Transaction txn(*conn_);
    TRY(txn.begin(false));
    auto info = readInfo();
    if (!info) return info.error();
    Snapshot snapshot;
    snapshot.server_version = info->server_version;
    snapshot.record_version = info->latest_record_version;
    auto stmt = type.empty() ? conn_->prepare(
                                   "SELECT type, id, version, data, modified_at "
                                   "FROM records ORDER BY type, id")
                             : conn_->prepare(
                                   "SELECT type, id, version, data, modified_at "
                                   "FROM records WHERE type = ? ORDER BY id");
    if (!stmt) return stmt.error();
    if (!type.empty()) stmt->bind(1, type);
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) snapshot.records.push_back(readRecord(*stmt));
    if (rc != SQLITE_DONE) return sqliteError(conn_->db(), rc, "sync latest");
    return snapshot;
  }

  Result<ServerInfo> serverInfo() override {
    std::lock_guard lock(mutex_);
    Transaction txn(*conn_);
    TRY(txn.begin(false));
    return readInfo();
  }

  Result<std::vector<std::string>> listTypes() override {
    std::lock_guard lock(mutex_);
    auto stmt = conn_->prepare("SELECT DISTINCT type FROM records ORDER BY type");
    if (!stmt) return stmt.error();
    std::vector<std::string> types;
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) types.push_back(stmt->text(0));
    if (rc != SQLITE_DONE) return sqliteError(conn_->db(), rc, "list types");
    return types;
  }

  Result<TypeOptions> getOptions(std::string_view type) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    std::lock_guard lock(mutex_);
    return readOptions(type);
  }

  Result<void> setOptions(std::string_view type, const TypeOptions& options) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    auto written = write([&](Timestamp now) -> Result<std::vector<Record>> {
      auto stmt = conn_->prepare(
          "INSERT OR REPLACE INTO options (type, capacity, ttl_us, indexed_fields) "
          "VALUES (?, ?, ?, ?)");
      if (!stmt) return stmt.error();
      stmt->bind(1, type);
      if (options.capacity) {
        stmt->bind(2, static_cast<int64_t>(*options.capacity));
      } else {
        stmt->bindNull(2);
      }
      if (options.ttl) {
        stmt->bind(3, micros(*options.ttl));
      } else {
        stmt->bindNull(3);
      }
      stmt->bind(4, nlohmann::json(options.indexed_fields).dump());
      TRY(stmt->run("set options"));
      TRY(enforceCapacity(std::string(type), now));
      return std::vector<Record>{};
    });
    if (!written) return written.error();
    return {};
  }

  Result<ClearResult> clear() override {
    ClearResult result;
    {
      std::lock_guard lock(mutex_);
      Transaction txn(*conn_);
      TRY(txn.begin(true));
      auto old = meta("server_version");
      if (!old) return old.error();
      result.old_server_version = static_cast<uint64_t>(*old);
      do {
        result.new_server_version = newServerVersion();
      } while (result.new_server_version == result.old_server_version);
      TRY(
          conn_->exec("DELETE FROM records; DELETE FROM changes; DELETE FROM options; "
                      "DELETE FROM leases;",
                      "clear"));
      TRY(setMeta("server_version", static_cast<int64_t>(result.new_server_version)));
      TRY(txn.commit());
    }
    notifier_.wakeAll();
    return result;
  }

  Result<bool> acquireLease(std::string_view name, std::string_view id, Duration ttl) override {
    return lease(name, id, ttl, /*renew=*/false);
  }

  Result<bool> renewLease(std::string_view name, std::string_view id, Duration ttl) override {
    return lease(name, id, ttl, /*renew=*/true);
  }

  Result<void> releaseLease(std::string_view name, std::string_view id) override {
    std::lock_guard lock(mutex_);
    auto stmt = conn_->prepare("DELETE FROM leases WHERE name = ? AND id = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, name).bind(2, id);
    return stmt->run("release lease");
  }

  Result<void> clean() override {
    auto cleaned = write([&](Timestamp now) -> Result<std::vector<Record>> {
      std::vector<std::pair<std::string, int64_t>> ttls;
      {
        auto stmt = conn_->prepare("SELECT type, ttl_us FROM options WHERE ttl_us IS NOT NULL");
        if (!stmt) return stmt.error();
        while (stmt->step() == SQLITE_ROW) ttls.emplace_back(stmt->text(0), stmt->integer(1));
      }
      for (const auto& [type, ttl] : ttls) {
        std::vector<std::string> expired;
        {
          auto stmt = conn_->prepare("SELECT id FROM records WHERE type = ? AND modified_at < ?");
          if (!stmt) return stmt.error();
          stmt->bind(1, type).bind(2, micros(now) - ttl);
          while (stmt->step() == SQLITE_ROW) expired.push_back(stmt->text(0));
        }
        for (const auto& id : expired) TRY(removeRecord(type, id, now));
      }
      auto trim = conn_->prepare(
          "DELETE FROM changes WHERE version <= "
          "(SELECT max(version) FROM changes WHERE modified_at < ?)");
      if (!trim) return trim.error();
      trim->bind(1, micros(now) - micros(options_.change_retention));
      TRY(trim->run("trim change log"));
      auto leases = conn_->prepare("DELETE FROM leases WHERE expires_at <= ?");
      if (!leases) return leases.error();
      leases->bind(1, micros(now));
      TRY(leases->run("remove expired leases"));
      return std::vector<Record>{};
    });
    if (!cleaned) return cleaned.error();
    return {};
  }

 private:
  // Runs `body` in a write transaction, stores the new latest version and
  // publishes it after the commit.
  template <typename Body>
  Result<PutResult> write(Body&& body) {
    PutResult result;
    {
      std::lock_guard lock(mutex_);
      Transaction txn(*conn_);
      TRY(txn.begin(true));
      auto latest = meta("latest_version");
      if (!latest) return latest.error();
      latest_ = static_cast<uint64_t>(*latest);
      uint64_t before = latest_;
      auto records = body(options_.clock());
      if (!records) return records.error();
      if (latest_ != before) TRY(setMeta("latest_version", static_cast<int64_t>(latest_)));
      auto server = meta("server_version");
      if (!server) return server.error();
      TRY(txn.commit());
      result.server_version = static_cast<uint64_t>(*server);
      result.records = std::move(*records);
    }
    notifier_.publish(latest_);
    return result;
  }

  Result<void> writeRecord(Record& record, Timestamp now) {
    record.version = ++latest_;
    record.modified_at = now;
    if (record.deleted()) {
      record.deleted_at = now;
      auto old = conn_->prepare("DELETE FROM records WHERE type = ? AND id = ? RETURNING data");
      if (!old) return old.error();
      old->bind(1, record.type).bind(2, record.id);
      int rc = old->step();
      if (rc == SQLITE_ROW) {
        record.data = old->text(0);
      } else if (rc != SQLITE_DONE) {
        return sqliteError(conn_->db(), rc, "delete");
      }
    } else {
      auto stmt = conn_->prepare(
          "INSERT OR REPLACE INTO records (type, id, version, data, modified_at) "
          "VALUES (?, ?, ?, ?, ?)");
      if (!stmt) return stmt.error();
      stmt->bind(1, record.type)
          .bind(2, record.id)
          .bind(3, static_cast<int64_t>(record.version))
          .bind(4, record.data)
          .bind(5, micros(now));
      TRY(stmt->run("put"));
    }
    return appendChange(record);
  }

  Result<void> appendChange(const Record& record) {
    auto stmt = conn_->prepare(
        "INSERT INTO changes (version, type, id, data, modified_at, deleted_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    stmt->bind(1, static_cast<int64_t>(record.version))
        .bind(2, record.type)
        .bind(3, record.id)
        .bind(4, record.data)
        .bind(5, micros(record.modified_at));
    if (record.deleted_at) {
      stmt->bind(6, micros(*record.deleted_at));
    } else {
      stmt->bindNull(6);
    }
    return stmt->run("record change");
  }

  Result<void> removeRecord(const std::string& type, const std::string& id, Timestamp now) {
    Record deletion;
    deletion.type = type;
    deletion.id = id;
    deletion.deleted_at = now;
    return writeRecord(deletion, now);
  }

  Result<void> enforceCapacity(const std::string& type, Timestamp now) {
    auto options = readOptions(type);
    if (!options) return options.error();
    if (!options->capacity) return {};
    std::vector<std::string> oldest;
    {
      auto stmt = conn_->prepare(
          "SELECT id FROM records WHERE type = ? ORDER BY version DESC LIMIT -1 OFFSET ?");
      if (!stmt) return stmt.error();
      stmt->bind(1, type).bind(2, static_cast<int64_t>(*options->capacity));
      while (stmt->step() == SQLITE_ROW) oldest.push_back(stmt->text(0));
    }
    // Evict oldest first, so that the change log shows them in age order.
    for (auto it = oldest.rbegin(); it != oldest.rend(); ++it) TRY(removeRecord(type, *it, now));
    return {};
  }

  Result<TypeOptions> readOptions(std::string_view type) {
    auto stmt =
        conn_->prepare("SELECT capacity, ttl_us, indexed_fields FROM options WHERE type = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, type);
    TypeOptions options;
    int rc = stmt->step();
    if (rc == SQLITE_DONE) return options;
    if (rc != SQLITE_ROW) return sqliteError(conn_->db(), rc, "read options");
    if (!stmt->isNull(0)) options.capacity = static_cast<uint64_t>(stmt->integer(0));
    if (!stmt->isNull(1)) options.ttl = std::chrono::microseconds(stmt->integer(1));
    auto fields = nlohmann::json::parse(stmt->text(2), nullptr, false);
    if (fields.is_array()) {
      for (const auto& field : fields) {
        if (field.is_string()) options.indexed_fields.push_back(field.get<std::string>());
      }
    }
    return options;
  }

  Result<ServerInfo> readInfo() {
    ServerInfo info;
    auto server = meta("server_version");
    auto latest = meta("latest_version");
    if (!server) return server.error();
    if (!latest) return latest.error();
    info.server_version = static_cast<uint64_t>(*server);
    info.latest_record_version = static_cast<uint64_t>(*latest);
    auto stmt = conn_->prepare("SELECT min(version) FROM changes");
    if (!stmt) return stmt.error();
    int rc = stmt->step();
    if (rc != SQLITE_ROW) return sqliteError(conn_->db(), rc, "server info");
    info.earliest_record_version =
        stmt->isNull(0) ? info.latest_record_version + 1 : static_cast<uint64_t>(stmt->integer(0));
    return info;
  }

  Result<int64_t> meta(const char* key) { return metaOn(*conn_, key); }

  static Result<int64_t> metaOn(Connection& conn, const char* key) {
    auto stmt = conn.prepare("SELECT value FROM meta WHERE key = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, key);
    int rc = stmt->step();
    if (rc == SQLITE_ROW) return stmt->integer(0);
    if (rc == SQLITE_DONE) return Error::internal(std::string("meta value ") + key + " is missing");
    return sqliteError(conn.db(), rc, "read meta");
  }

  Result<void> setMeta(const char* key, int64_t value) {
    auto stmt = conn_->prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    if (!stmt) return stmt.error();
    stmt->bind(1, key).bind(2, value);
    return stmt->run("write meta");
  }

  Result<bool> lease(std::string_view name, std::string_view id, Duration ttl, bool renew) {
    std::lock_guard lock(mutex_);
    Transaction txn(*conn_);
    TRY(txn.begin(true));
    int64_t now = micros(options_.clock());
    auto stmt = conn_->prepare("SELECT id, expires_at FROM leases WHERE name = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, name);
    int rc = stmt->step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqliteError(conn_->db(), rc, "lease");
    bool held = rc == SQLITE_ROW && stmt->integer(1) > now;
    bool mine = held && stmt->text(0) == id;
    if (renew ? !mine : (held && !mine)) return false;
    auto upsert =
        conn_->prepare("INSERT OR REPLACE INTO leases (name, id, expires_at) VALUES (?, ?, ?)");
    if (!upsert) return upsert.error();
    upsert->bind(1, name).bind(2, id).bind(3, now + micros(ttl));
    TRY(upsert->run("lease"));
    TRY(txn.commit());
    return true;
  }

  // Watches the file for commits by other processes (SQLite's data_version
  // changes when another connection commits) and publishes them.
  void poll(Connection& conn) {
    int64_t data_version = -1;
    int64_t server_version = -1;
    std::unique_lock lock(poll_mutex_);
    while (!poll_wake_.wait_for(lock, kPollInterval, [this] { return stopping_; })) {
      lock.unlock();
      auto stmt = conn.prepare("PRAGMA data_version");
      if (stmt && stmt->step() == SQLITE_ROW) {
        int64_t current = stmt->integer(0);
        if (current != data_version) {
          data_version = current;
          auto latest = metaOn(conn, "latest_version");
          auto server = metaOn(conn, "server_version");
          if (latest) notifier_.publish(static_cast<uint64_t>(*latest));
          if (server && *server != server_version) {
            if (server_version != -1) notifier_.wakeAll();
            server_version = *server;
          }
        }
      }
      lock.lock();
    }
  }

  std::string path_;
  BackendOptions options_;
  std::mutex mutex_;
  std::unique_ptr<Connection> conn_;
  uint64_t latest_ = 0;  // within a write transaction

  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace

Result<std::unique_ptr<Backend>> openFileBackend(std::string_view location,
                                                 BackendOptions options) {
  std::string path(location);
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  if (path.empty()) return Error::invalid("empty path");
  auto conn = Connection::open(path);
  if (!conn) return conn.error();
  auto backend = std::make_unique<FileBackend>(path, std::move(options), std::move(*conn));
  if (auto ready = backend->initialize(); !ready) {
    Error error = ready.error();
    error.message = "cannot use SQLite database \"" + path + "\": " + error.message;
    return error;
  }
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace gatehouse::databroker

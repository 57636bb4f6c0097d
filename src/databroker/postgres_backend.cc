#include "databroker/postgres_backend.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/strings.h"

namespace gatehouse::databroker {
namespace {

constexpr const char* kChannel = "gatehouse_record_change";
constexpr size_t kMaxConnections = 4;
constexpr auto kMinReconnectDelay = std::chrono::milliseconds(100);
constexpr auto kMaxReconnectDelay = std::chrono::seconds(2);

// Each migration runs once, in order, in one transaction, under an advisory
// lock so that processes starting together do not race.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE gatehouse.record_version (latest BIGINT NOT NULL);
INSERT INTO gatehouse.record_version (latest) VALUES (0);
CREATE TABLE gatehouse.records (
  type TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, data JSONB NOT NULL,
  modified_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (type, id));
CREATE INDEX records_by_version ON gatehouse.records (type, version);
CREATE INDEX records_by_modified_at ON gatehouse.records (type, modified_at);
CREATE TABLE gatehouse.record_changes (
  version BIGINT PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL, data JSONB NOT NULL,
  modified_at TIMESTAMPTZ NOT NULL, deleted_at TIMESTAMPTZ);
CREATE INDEX record_changes_by_modified_at ON gatehouse.record_changes (modified_at);
CREATE INDEX record_changes_by_type ON gatehouse.record_changes (type, version);
CREATE TABLE gatehouse.record_options (
  type TEXT PRIMARY KEY, capacity BIGINT, ttl_us BIGINT,
  indexed_fields TEXT[] NOT NULL DEFAULT '{}');
CREATE TABLE gatehouse.leases (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
-- Microseconds since the epoch <-> timestamptz, exactly.
CREATE FUNCTION gatehouse.ts(us BIGINT) RETURNS TIMESTAMPTZ LANGUAGE sql STABLE
  AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;
CREATE FUNCTION gatehouse.us(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql STABLE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
-- What Query compares for a field: strings, numbers and booleans as text.
CREATE FUNCTION gatehouse.field_text(data JSONB, field TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN jsonb_typeof(data -> field) IN ('string', 'number', 'boolean')
                    THEN data ->> field END $$;
CREATE FUNCTION gatehouse.lower_ascii(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE
  AS $$ SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
)sql",
};

int64_t micros(Timestamp t) { return t.time_since_epoch().count(); }
int64_t micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
Timestamp fromMicros(int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

// libpq's error text on one line (it may span several, with a hint
// indented on the next).
std::string pqMessage(const char* text) {
  std::string message;
  bool line_break = false;
  for (const char* p = text ? text : ""; *p != '\0'; ++p) {
    if (*p == '\n') {
      line_break = true;
    } else if (line_break && (*p == ' ' || *p == '\t')) {
      continue;
    } else {
      if (line_break) message += "; ";
      line_break = false;
      message += *p;
    }
  }
  return message;
}

// A text-format parameter list for PQexecParams.
class Params {
 public:
  Params& add(std::string_view text) {
    values_.emplace_back(text);
    nulls_.push_back(false);
    return *this;
  }
  Params& add(int64_t value) { return add(std::to_string(value)); }
  Params& add(uint64_t value) { return add(std::to_string(value)); }
  Params& addNull() {
    values_.emplace_back();
    nulls_.push_back(true);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    for (size_t i = 0; i < values_.size(); ++i)
      out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
    return out;
  }

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&&) = delete;
  PgResult(const PgResult&) = delete;
  ~PgResult() {
    if (result_) PQclear(result_);
  }
  int rows() const { return PQntuples(result_); }
  bool isNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
  std::string text(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column),
                       static_cast<size_t>(PQgetlength(result_, row, column)));
  }
  int64_t integer(int row, int column) const {
    return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10);
  }

 private:
  PGresult* result_;
};

// An array literal for a text[] parameter.
std::string textArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Parses a text[] value as PostgreSQL prints it.
std::vector<std::string> parseTextArray(std::string_view text) {
  std::vector<std::string> items;
  if (text.size() < 2) return items;
  text = text.substr(1, text.size() - 2);
  size_t i = 0;
  while (i < text.size()) {
    std::string item;
    if (text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < text.size() && text[i] != ',') item += text[i++];
    }
    items.push_back(std::move(item));
    if (i < text.size() && text[i] == ',') ++i;
  }
  return items;
}

// One connection; remembers which statements it has prepared.
struct Connection {
  PGconn* conn = nullptr;
  std::map<const char*, std::string> prepared;  // keyed by the literal's address
  bool broken = false;

  ~Connection() {
    if (conn) PQfinish(conn);
  }

  // Whether the connection still looks usable: a server that shut down has
  // sent an error and closed the socket, which shows without a round trip.
  bool healthy() {
    if (PQstatus(conn) != CONNECTION_OK) return false;
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (::poll(&fd, 1, 0) > 0) {
      if (PQconsumeInput(conn) == 0) return false;
      while (PGnotify* n = PQnotifies(conn)) PQfreemem(n);
    }
    return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
  }
};

// Unavailable when the server cannot be reached or cannot take writes now
// (the connection is then dropped so that the next use reconnects, possibly
// to another host of a multi-host URI); Internal otherwise.
Error pgError(Connection& c, PGresult* result, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string message = std::string(what) + ": " +
                        pqMessage(result ? PQresultErrorMessage(result) : PQerrorMessage(c.conn));
  if (message.size() == what.size() + 2) message += pqMessage(PQerrorMessage(c.conn));
  bool unreachable = PQstatus(c.conn) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
                     sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
                     sqlstate == "25006" || sqlstate.empty();
  if (unreachable) {
    c.broken = true;
    return unavailable(std::move(message));
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return unavailable(std::move(message));
  }
  return Error::internal(std::move(message));
}

Result<PgResult> execOn(Connection& c, const char* sql, const Params& params, std::string_view what,
                        bool prepare) {
  std::vector<const char*> values = params.pointers();
  PGresult* result = nullptr;
  if (prepare) {
    auto it = c.prepared.find(sql);
    if (it == c.prepared.end()) {
      std::string name = "s" + std::to_string(c.prepared.size());
      PGresult* prepared = PQprepare(c.conn, name.c_str(), sql, 0, nullptr);
      if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
        Error error = pgError(c, prepared, what);
        PQclear(prepared);
        return error;
      }
      PQclear(prepared);
      it = c.prepared.emplace(sql, name).first;
    }
    result = PQexecPrepared(c.conn, it->second.c_str(), params.size(), values.data(), nullptr,
                            nullptr, 0);
  } else if (params.size() == 0) {
    result = PQexec(c.conn, sql);  // may hold several statements
  } else {
    result = PQexecParams(c.conn, sql, params.size(), nullptr, values.data(), nullptr, nullptr, 0);
  }
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = pgError(c, result, what);
    PQclear(result);
    return error;
  }
  return PgResult(result);
}

// Connects with Gatehouse's defaults; the user's string wins where it sets
// the same keys (libpq: later keywords override, an expanded dbname
// overrides the ones before it).
PGconn* connect(const std::string& conninfo) {
  const char* keys[] = {"connect_timeout",
                        "application_name",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "dbname",
                        nullptr};
  const char* values[] = {"5", "gatehouse-databroker", "10", "5", "3", conninfo.c_str(), nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

#define TRY(expr)                                 \
  do {                                            \
    if (auto _r = (expr); !_r) return _r.error(); \
  } while (0)

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(std::string conninfo, BackendOptions options)
      : conninfo_(std::move(conninfo)),
        options_(std::move(options)),
        wake_fd_(::eventfd(0, EFD_CLOEXEC)) {
    if (!options_.clock) options_.clock = databroker::now;
  }

  ~PostgresBackend() override {
    stopping_ = true;
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof(one));
    if (listener_.joinable()) listener_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Result<void> initialize() {
    {
      auto conn = checkout();
      if (!conn) return conn.error();
    }
    auto info = serverInfo();
    if (!info) return info.error();
    notifier_.publish(info->latest_record_version);
    listener_ = std::thread([this] { listen(); });
    return {};
  }

  Result<Record> get(std::string_view type, std::string_view id) override {
    auto c = checkout();
    if (!c) return c.error();
    auto rows = execOn(**c,
                       "SELECT version, data::text, gatehouse.us(modified_at) "
                       "FROM gatehouse.records WHERE type = $1 AND id = $2",
                       Params().add(type).add(id), "get", true);
    if (!rows) return rows.error();
    if (rows->rows() == 0) return notFound("record not found");
    Record record;
    record.type = std::string(type);
    record.id = std::string(id);
    record.version = static_cast<uint64_t>(rows->integer(0, 0));
    record.data = normalized(rows->text(0, 1));
    record.modified_at = fromMicros(rows->integer(0, 2));
    return record;
  }

  Result<PutResult> put(std::vector<Record> records) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    return write([&](WriteContext& w) -> Result<std::vector<Record>> {
      // Only types that have a capacity need the eviction query.
      std::set<std::string> capped;
      for (Record& record : records) {
        bool has_capacity = false;
        TRY(writeRecord(w, record, &has_capacity));
        if (has_capacity) capped.insert(record.type);
      }
      for (const auto& type : capped) TRY(enforceCapacity(w, type));
      return std::move(records);
    });
  }

  Result<PutResult> patch(std::vector<Record> records,
                          const std::vector<std::string>& field_mask) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    if (auto valid = validateFieldMask(field_mask); !valid) return valid.error();
    return write([&](WriteContext& w) -> Result<std::vector<Record>> {
      std::vector<Record> patched;
      for (Record& record : records) {
        auto rows = execOn(w.c,
                           "SELECT data::text FROM gatehouse.records "
                           "WHERE type = $1 AND id = $2 FOR UPDATE",
                           Params().add(record.type).add(record.id), "patch", true);
        if (!rows) return rows.error();
        if (rows->rows() == 0) continue;
        auto data = applyFieldMask(rows->text(0, 0), record.data, field_mask);
        if (!data) return data.error();
        record.data = std::move(*data);
        record.deleted_at.reset();
        patched.push_back(std::move(record));
      }
      for (Record& record : patched) TRY(writeRecord(w, record));
      return patched;
    });
  }

  Result<QueryResult> query(const Query& query) override {
    auto c = checkout();
    if (!c) return c.error();
    Connection& conn = **c;
    TRY(execOn(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", Params(), "query", false));
    Rollback rollback(conn);
    auto options = readOptions(conn, query.type);
    if (!options) return options.error();
    if (auto valid = validateQuery(query, *options); !valid) return valid.error();

    std::string sql =
        "SELECT id, version, data::text, gatehouse.us(modified_at), count(*) OVER () "
        "FROM gatehouse.records WHERE type = $1";
    Params params;
    params.add(query.type);
    if (!query.search.empty()) {
      params.add(lowerAscii(query.search)).add(textArray(options->indexed_fields));
      sql +=
          " AND (strpos(gatehouse.lower_ascii(id), $2) > 0 OR EXISTS (SELECT 1 FROM "
          "unnest($3::text[]) f WHERE strpos(gatehouse.lower_ascii(gatehouse.field_text(data, "
          "f)), $2) > 0))";
    }
    for (const auto& [field, value] : query.filter) {
      if (field == "id") {
        params.add(value);
        sql += " AND id = $" + std::to_string(params.size());
      } else {
        params.add(field).add(value);
        sql += " AND gatehouse.field_text(data, $" + std::to_string(params.size() - 1) + ") = $" +
               std::to_string(params.size());
      }
    }
    std::string matching = sql;
    Params matching_params = params;
    sql += " ORDER BY id COLLATE \"C\"";
    params.add(static_cast<int64_t>(query.offset));
    sql += " OFFSET $" + std::to_string(params.size());
    if (query.limit != 0) {
      params.add(static_cast<int64_t>(query.limit));
      sql += " LIMIT $" + std::to_string(params.size());
    }
    auto rows = execOn(conn, sql.c_str(), params, "query", false);
    if (!rows) return rows.error();
    QueryResult result;
    for (int i = 0; i < rows->rows(); ++i) {
      Record record;
      record.type = query.type;
      record.id = rows->text(i, 0);
      record.version = static_cast<uint64_t>(rows->integer(i, 1));
      record.data = normalized(rows->text(i, 2));
      record.modified_at = fromMicros(rows->integer(i, 3));
      result.total_count = static_cast<uint64_t>(rows->integer(i, 4));
      result.records.push_back(std::move(record));
    }
    if (rows->rows() == 0 && query.offset > 0) {
      // The page is past the end: count separately.
      std::string count = "SELECT count(*) FROM (" + matching + ") q";
      auto counted = execOn(conn, count.c_str(), matching_params, "query", false);
      if (!counted) return counted.error();
      result.total_count = static_cast<uint64_t>(counted->integer(0, 0));
    }
    auto info = readInfo(conn);
    if (!info) return info.error();
    result.server_version = info->server_version;
    result.record_version = info->latest_record_version;
    return result;
  }

  Result<ChangeBatch> changes(const SyncPosition& from, std::string_view type,
                              size_t limit) override {
    auto c = checkout();
    if (!c) return c.error();
    // One statement, so one snapshot: the versions and the changes agree.
    auto rows = execOn(
        **c,
        "WITH meta AS (SELECT (SELECT server_version FROM gatehouse.migration_info) AS sv, "
        "(SELECT latest FROM gatehouse.record_version) AS latest, "
        "(SELECT min(version) FROM gatehouse.record_changes) AS earliest) "
        "SELECT meta.sv, meta.latest, meta.earliest, c.version, c.type, c.id, c.data::text, "
        "gatehouse.us(c.modified_at), gatehouse.us(c.deleted_at) FROM meta LEFT JOIN LATERAL "
        "(SELECT * FROM gatehouse.record_changes WHERE version > $1 AND ($2 = '' OR type = $2) "
        "ORDER BY version LIMIT $3) c ON true ORDER BY c.version",
        Params().add(from.record_version).add(type).add(static_cast<int64_t>(limit) + 1), "sync",
        true);
    if (!rows) return rows.error();
    uint64_t server_version = static_cast<uint64_t>(rows->integer(0, 0));
    uint64_t latest = static_cast<uint64_t>(rows->integer(0, 1));
    uint64_t earliest =
        rows->isNull(0, 2) ? latest + 1 : static_cast<uint64_t>(rows->integer(0, 2));
    if (from.server_version != server_version) return aborted("invalid server version");
    if (from.record_version + 1 < earliest) return aborted("invalid record version");
    ChangeBatch batch;
    batch.record_version = std::max(from.record_version, latest);
    for (int i = 0; i < rows->rows(); ++i) {
      if (rows->isNull(i, 3)) break;
      if (batch.records.size() >= limit) {
        batch.more = true;
        batch.record_version = batch.records.back().version;
        break;
      }
      Record record;
      record.version = static_cast<uint64_t>(rows->integer(i, 3));
      record.type = rows->text(i, 4);
      record.id = rows->text(i, 5);
      record.data = normalized(rows->text(i, 6));
      record.modified_at = fromMicros(rows->integer(i, 7));
      if (!rows->isNull(i, 8)) record.deleted_at = fromMicros(rows->integer(i, 8));
      batch.records.push_back(std::move(record));
    }
    return batch;
  }

  Result<Snapshot> latest(std::string_view type) override {
    auto c = checkout();
    if (!c) return c.error();
    auto rows =
        execOn(**c,
               "WITH meta AS (SELECT (SELECT server_version FROM gatehouse.migration_info) AS sv, "
               "(SELECT latest FROM gatehouse.record_version) AS latest) "
               "SELECT meta.sv, meta.latest, r.type, r.id, r.version, r.data::text, "
               "gatehouse.us(r.modified_at) FROM meta LEFT JOIN LATERAL "
               "(SELECT * FROM gatehouse.records WHERE $1 = '' OR type = $1) r ON true "
               "ORDER BY r.type COLLATE \"C\", r.id COLLATE \"C\"",
               Params().add(type), "sync latest", true);
    if (!rows) return rows.error();
    Snapshot snapshot;
    snapshot.server_version = static_cast<uint64_t>(rows->integer(0, 0));
    snapshot.record_version = static_cast<uint64_t>(rows->integer(0, 1));
    for (int i = 0; i < rows->rows(); ++i) {
      if (rows->isNull(i, 2)) break;
      Record record;
      record.type = rows->text(i, 2);
      record.id = rows->text(i, 3);
      record.version = static_cast<uint64_t>(rows->integer(i, 4));
      record.data = normalized(rows->text(i, 5));
      record.modified_at = fromMicros(rows->integer(i, 6));
      snapshot.records.push_back(std::move(record));
    }
    return snapshot;
  }

  Result<ServerInfo> serverInfo() override {
    auto c = checkout();
    if (!c) return c.error();
    return readInfo(**c);
  }

  Result<std::vector<std::string>> listTypes() override {
    auto c = checkout();
    if (!c) return c.error();
    auto rows = execOn(**c,
                       "SELECT type FROM (SELECT DISTINCT type FROM gatehouse.records) t "
                       "ORDER BY type COLLATE \"C\"",
                       Params(), "list types", true);
    if (!rows) return rows.error();
    std::vector<std::string> types;
    types.reserve(static_cast<size_t>(rows->rows()));
    for (int i = 0; i < rows->rows(); ++i) types.push_back(rows->text(i, 0));
    return types;
  }

  Result<TypeOptions> getOptions(std::string_view type) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    auto c = checkout();
    if (!c) return c.error();
    return readOptions(**c, type);
  }

  Result<void> setOptions(std::string_view type, const TypeOptions& options) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    auto written = write([&](WriteContext& w) -> Result<std::vector<Record>> {
      Params params;
      params.add(type);
      if (options.capacity) {
        params.add(static_cast<int64_t>(*options.capacity));
      } else {
        params.addNull();
      }
      if (options.ttl) {
        params.add(micros(*options.ttl));
      } else {
        params.addNull();
      }
      params.add(textArray(options.indexed_fields));
      TRY(execOn(w.c,
                 "INSERT INTO gatehouse.record_options (type, capacity, ttl_us, indexed_fields) "
                 "VALUES ($1, $2, $3, $4) ON CONFLICT (type) DO UPDATE SET "
                 "capacity = EXCLUDED.capacity, ttl_us = EXCLUDED.ttl_us, "
                 "indexed_fields = EXCLUDED.indexed_fields",
                 params, "set options", true));
      TRY(enforceCapacity(w, std::string(type)));
      return std::vector<Record>{};
    });
    if (!written) return written.error();
    return {};
  }

  Result<ClearResult> clear() override {
    ClearResult result;
    result.new_server_version = newServerVersion();
    auto cleared = write([&](WriteContext& w) -> Result<std::vector<Record>> {
      result.old_server_version = w.server_version;
      TRY(execOn(w.c,
                 "DELETE FROM gatehouse.records; DELETE FROM gatehouse.record_changes; "
                 "DELETE FROM gatehouse.record_options; DELETE FROM gatehouse.leases",
                 Params(), "clear", false));
      TRY(execOn(w.c, "UPDATE gatehouse.migration_info SET server_version = $1",
                 Params().add(result.new_server_version), "clear", true));
      w.server_version = result.new_server_version;
      w.cleared = true;
      return std::vector<Record>{};
    });
    if (!cleared) return cleared.error();
    notifier_.wakeAll();
    return result;
  }

  Result<bool> acquireLease(std::string_view name, std::string_view id, Duration ttl) override {
    auto c = checkout();
    if (!c) return c.error();
    int64_t now = micros(options_.clock());
    // One atomic upsert: take the row if it is free, expired or already ours.
    auto rows = execOn(
        **c,
        "INSERT INTO gatehouse.leases AS l (name, id, expires_at) VALUES ($1, $2, "
        "gatehouse.ts($3)) "
        "ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id, expires_at = EXCLUDED.expires_at "
        "WHERE l.expires_at <= gatehouse.ts($4) OR l.id = EXCLUDED.id RETURNING id",
        Params().add(name).add(id).add(now + micros(ttl)).add(now), "acquire lease", true);
    if (!rows) return rows.error();
    return rows->rows() == 1;
  }

  Result<bool> renewLease(std::string_view name, std::string_view id, Duration ttl) override {
    auto c = checkout();
    if (!c) return c.error();
    int64_t now = micros(options_.clock());
    auto rows =
        execOn(**c,
               "UPDATE gatehouse.leases SET expires_at = gatehouse.ts($3) "
               "WHERE name = $1 AND id = $2 AND expires_at > gatehouse.ts($4) RETURNING id",
               Params().add(name).add(id).add(now + micros(ttl)).add(now), "renew lease", true);
    if (!rows) return rows.error();
    return rows->rows() == 1;
  }

  Result<void> releaseLease(std::string_view name, std::string_view id) override {
    auto c = checkout();
    if (!c) return c.error();
    auto rows = execOn(**c, "DELETE FROM gatehouse.leases WHERE name = $1 AND id = $2",
                       Params().add(name).add(id), "release lease", true);
    if (!rows) return rows.error();
    return {};
  }

  Result<void> clean() override {
    auto cleaned = write([&](WriteContext& w) -> Result<std::vector<Record>> {
      int64_t now = micros(w.now);
      auto expired =
          execOn(w.c,
                 "SELECT r.type, r.id FROM gatehouse.records r JOIN "
                 "gatehouse.record_options o ON o.type = r.type "
                 "WHERE o.ttl_us IS NOT NULL AND r.modified_at < gatehouse.ts($1 - o.ttl_us) "
                 "ORDER BY r.version",
                 Params().add(now), "clean", true);
      if (!expired) return expired.error();
      for (int i = 0; i < expired->rows(); ++i) {
        TRY(removeRecord(w, expired->text(i, 0), expired->text(i, 1)));
      }
      TRY(execOn(w.c,
                 "DELETE FROM gatehouse.record_changes WHERE version <= (SELECT max(version) FROM "
                 "gatehouse.record_changes WHERE modified_at < gatehouse.ts($1))",
                 Params().add(now - micros(options_.change_retention)), "trim change log", true));
      TRY(execOn(w.c, "DELETE FROM gatehouse.leases WHERE expires_at <= gatehouse.ts($1)",
                 Params().add(now), "remove expired leases", true));
      return std::vector<Record>{};
    });
    if (!cleaned) return cleaned.error();
    return {};
  }

 private:
  // A pooled connection, returned to the pool (or dropped if broken) when
  // the guard goes away.
  class Checkout {
   public:
    Checkout(PostgresBackend& owner, std::unique_ptr<Connection> conn)
        : owner_(&owner), conn_(std::move(conn)) {}
    Checkout(Checkout&& other) noexcept : owner_(other.owner_), conn_(std::move(other.conn_)) {}
    Checkout(const Checkout&) = delete;
    Checkout& operator=(const Checkout&) = delete;
    Checkout& operator=(Checkout&&) = delete;
    ~Checkout() {
      if (conn_) owner_->giveBack(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }

   private:
    PostgresBackend* owner_;
    std::unique_ptr<Connection> conn_;
  };

  // Rolls back an open transaction unless it was committed.
  class Rollback {
   public:
    explicit Rollback(Connection& c) : c_(c) {}
    ~Rollback() {
      if (!committed_ && !c_.broken && PQtransactionStatus(c_.conn) != PQTRANS_IDLE) {
        PQclear(PQexec(c_.conn, "ROLLBACK"));
        if (PQstatus(c_.conn) != CONNECTION_OK) c_.broken = true;
      }
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;
    void committed() { committed_ = true; }

   private:
    Connection& c_;
    bool committed_ = false;
  };

  struct WriteContext {
    Connection& c;
    Timestamp now;
    uint64_t latest = 0;
    uint64_t server_version = 0;
    bool cleared = false;
  };

  Result<Checkout> checkout() {
    std::unique_lock lock(pool_mutex_);
    while (true) {
      while (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (conn->healthy()) return Checkout(*this, std::move(conn));
        --open_;
      }
      if (open_ < kMaxConnections) break;
      pool_changed_.wait(lock);
    }
    // Fail fast while the server is known to be down, instead of making every
    // caller wait for its own connection attempt.
    auto now = std::chrono::steady_clock::now();
    if (now < next_connect_) return unavailable(last_connect_error_);
    ++open_;
    lock.unlock();
    auto conn = std::make_unique<Connection>();
    conn->conn = connect(conninfo_);
    Result<void> ready = PQstatus(conn->conn) == CONNECTION_OK
                             ? prepareConnection(*conn)
                             : Result<void>(unavailable("cannot connect to PostgreSQL: " +
                                                        pqMessage(PQerrorMessage(conn->conn))));
    lock.lock();
    if (!ready) {
      --open_;
      last_connect_error_ = ready.error().message;
      reconnect_delay_ = std::min<std::chrono::milliseconds>(
          reconnect_delay_ == std::chrono::milliseconds(0) ? kMinReconnectDelay
                                                           : reconnect_delay_ * 2,
          kMaxReconnectDelay);
      next_connect_ = std::chrono::steady_clock::now() + reconnect_delay_;
      pool_changed_.notify_one();
      return ready.error();
    }
    reconnect_delay_ = std::chrono::milliseconds(0);
    next_connect_ = {};
    return Checkout(*this, std::move(conn));
  }

  void giveBack(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(pool_mutex_);
    if (conn->broken || PQstatus(conn->conn) != CONNECTION_OK ||
        PQtransactionStatus(conn->conn) != PQTRANS_IDLE) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
    pool_changed_.notify_one();
  }

  // Creates or migrates the schema: on the first connection, and on every
  // new one, since a multi-host URI may have moved to another server.
  Result<void> prepareConnection(Connection& c) {
    PQclear(PQexec(c.conn, "SET client_min_messages = warning"));
    auto exists = execOn(c, "SELECT to_regclass('gatehouse.migration_info') IS NOT NULL", Params(),
                         "check schema", false);
    if (!exists) return exists.error();
    if (exists->text(0, 0) == "t") {
      auto current = execOn(c, "SELECT migration_version FROM gatehouse.migration_info", Params(),
                            "check schema", false);
      if (!current) return current.error();
      if (current->rows() == 1 &&
          current->integer(0, 0) == static_cast<int64_t>(std::size(kMigrations))) {
        return {};
      }
    }
    TRY(execOn(c, "BEGIN", Params(), "migrate", false));
    Rollback rollback(c);
    TRY(execOn(c, "SELECT pg_advisory_xact_lock(7100432661254377219)", Params(), "migrate", false));
    TRY(execOn(c,
               "CREATE SCHEMA IF NOT EXISTS gatehouse; CREATE TABLE IF NOT EXISTS "
               "gatehouse.migration_info (server_version BIGINT NOT NULL, "
               "migration_version INTEGER NOT NULL)",
               Params(), "migrate", false));
    auto version = execOn(c, "SELECT migration_version FROM gatehouse.migration_info", Params(),
                          "migrate", false);
    if (!version) return version.error();
    int64_t applied = 0;
    if (version->rows() == 0) {
      TRY(execOn(c,
                 "INSERT INTO gatehouse.migration_info (server_version, migration_version) "
                 "VALUES ($1, 0)",
                 Params().add(newServerVersion()), "migrate", false));
    } else {
      applied = version->integer(0, 0);
    }
    if (applied > static_cast<int64_t>(std::size(kMigrations))) {
      return Error::invalid("the gatehouse schema was written by a newer Gatehouse (migration " +
                            std::to_string(applied) + ")");
    }
    for (size_t i = static_cast<size_t>(applied); i < std::size(kMigrations); ++i) {
      PGresult* result = PQexec(c.conn, kMigrations[i]);
      if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        Error error = pgError(c, result, "migration " + std::to_string(i + 1));
        PQclear(result);
        return error;
      }
      PQclear(result);
      TRY(execOn(c, "UPDATE gatehouse.migration_info SET migration_version = $1",
                 Params().add(static_cast<int64_t>(i + 1)), "migrate", false));
    }
    TRY(execOn(c, "COMMIT", Params(), "migrate", false));
    rollback.committed();
    return {};
  }

  // Runs `body` in a transaction that first locks the version counter, so
  // that writers commit in version order: a change stream that has read
  // version N never sees a smaller version appear later. Each record and its
  // change row are written by one statement (writeRecord).
  template <typename Body>
  Result<PutResult> write(Body&& body) {
    auto c = checkout();
    if (!c) return c.error();
    Connection& conn = **c;
    auto locked = execOn(conn,
                         "BEGIN; SELECT latest, (SELECT server_version FROM "
                         "gatehouse.migration_info) FROM gatehouse.record_version FOR UPDATE",
                         Params(), "begin", false);
    Rollback rollback(conn);
    if (!locked) return locked.error();
    WriteContext w{conn, options_.clock()};
    w.latest = static_cast<uint64_t>(locked->integer(0, 0));
    w.server_version = static_cast<uint64_t>(locked->integer(0, 1));
    uint64_t before = w.latest;
    auto records = body(w);
    if (!records) return records.error();
    std::string finish;
    if (w.latest != before) {
      finish = "UPDATE gatehouse.record_version SET latest = " + std::to_string(w.latest) + "; ";
    }
    if (w.latest != before || w.cleared) {
      finish += std::string("SELECT pg_notify('") + kChannel + "', '" +
                (w.cleared ? std::string("clear") : std::to_string(w.latest)) + "'); ";
    }
    finish += "COMMIT";
    TRY(execOn(conn, finish.c_str(), Params(), "commit", false));
    rollback.committed();
    if (w.latest != before) notifier_.publish(w.latest);
    PutResult result;
    result.server_version = w.server_version;
    result.records = std::move(*records);
    return result;
  }

  // Writes one record and its change row with one statement. A put also
  // reports whether the type has a capacity, saving a query when it has not.
  Result<void> writeRecord(WriteContext& w, Record& record, bool* has_capacity = nullptr) {
    record.version = ++w.latest;
    record.modified_at = w.now;
    Params params;
    params.add(record.type).add(record.id).add(record.version).add(record.data).add(micros(w.now));
    if (record.deleted()) {
      record.deleted_at = w.now;
      auto rows = execOn(
          w.c,
          "WITH d AS (DELETE FROM gatehouse.records WHERE type = $1 AND id = $2 RETURNING data), "
          "c AS (INSERT INTO gatehouse.record_changes (version, type, id, data, modified_at, "
          "deleted_at) SELECT $3, $1, $2, COALESCE((SELECT data FROM d), $4::jsonb), "
          "gatehouse.ts($5), gatehouse.ts($5) RETURNING data) SELECT data::text FROM c",
          params, "delete", true);
      if (!rows) return rows.error();
      record.data = normalized(rows->text(0, 0));
    } else {
      auto rows =
          execOn(w.c,
                 "WITH r AS (INSERT INTO gatehouse.records (type, id, version, data, modified_at) "
                 "VALUES ($1, $2, $3, $4::jsonb, gatehouse.ts($5)) ON CONFLICT (type, id) DO "
                 "UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, "
                 "modified_at = EXCLUDED.modified_at) "
                 "INSERT INTO gatehouse.record_changes (version, type, id, data, modified_at) "
                 "VALUES ($3, $1, $2, $4::jsonb, gatehouse.ts($5)) "
                 "RETURNING (SELECT capacity FROM gatehouse.record_options WHERE type = $1)",
                 params, "put", true);
      if (!rows) return rows.error();
      if (has_capacity != nullptr) *has_capacity = rows->rows() == 1 && !rows->isNull(0, 0);
    }
    return {};
  }

  Result<void> removeRecord(WriteContext& w, const std::string& type, const std::string& id) {
    Record deletion;
    deletion.type = type;
    deletion.id = id;
    deletion.deleted_at = w.now;
    return writeRecord(w, deletion);
  }

  Result<void> enforceCapacity(WriteContext& w, const std::string& type) {
    auto rows = execOn(w.c,
                       "SELECT r.id FROM gatehouse.records r, gatehouse.record_options o "
                       "WHERE o.type = $1 AND o.capacity IS NOT NULL AND r.type = $1 "
                       "ORDER BY r.version DESC OFFSET (SELECT capacity FROM "
                       "gatehouse.record_options WHERE type = $1)",
                       Params().add(type), "capacity", true);
    if (!rows) return rows.error();
    for (int i = rows->rows() - 1; i >= 0; --i) TRY(removeRecord(w, type, rows->text(i, 0)));
    return {};
  }

  Result<TypeOptions> readOptions(Connection& c, std::string_view type) {
    auto rows = execOn(c,
                       "SELECT capacity, ttl_us, indexed_fields FROM gatehouse.record_options "
                       "WHERE type = $1",
                       Params().add(type), "read options", true);
    if (!rows) return rows.error();
    TypeOptions options;
    if (rows->rows() == 0) return options;
    if (!rows->isNull(0, 0)) options.capacity = static_cast<uint64_t>(rows->integer(0, 0));
    if (!rows->isNull(0, 1)) options.ttl = std::chrono::microseconds(rows->integer(0, 1));
    options.indexed_fields = parseTextArray(rows->text(0, 2));
    return options;
  }

  Result<ServerInfo> readInfo(Connection& c) {
    auto rows = execOn(c,
                       "SELECT (SELECT server_version FROM gatehouse.migration_info), "
                       "(SELECT latest FROM gatehouse.record_version), "
                       "(SELECT min(version) FROM gatehouse.record_changes)",
                       Params(), "server info", true);
    if (!rows) return rows.error();
    ServerInfo info;
    info.server_version = static_cast<uint64_t>(rows->integer(0, 0));
    info.latest_record_version = static_cast<uint64_t>(rows->integer(0, 1));
    info.earliest_record_version = rows->isNull(0, 2) ? info.latest_record_version + 1
                                                      : static_cast<uint64_t>(rows->integer(0, 2));
    return info;
  }

  static std::string normalized(const std::string& jsonb_text) {
    auto data = normalizeData(jsonb_text);
    if (!data) return jsonb_text;
    return std::move(*data);
  }

  // The LISTEN connection: wakes change streams when any process commits.
  // Reconnects on its own; after a reconnect it publishes the latest version,
  // since notifications sent meanwhile are lost.
  void listen() {
    auto delay = kMinReconnectDelay;
    while (!stopping_) {
      Connection c;
      c.conn = connect(conninfo_);
      bool ok = PQstatus(c.conn) == CONNECTION_OK;
      if (ok) {
        PGresult* result = PQexec(c.conn, (std::string("LISTEN ") + kChannel).c_str());
        ok = PQresultStatus(result) == PGRES_COMMAND_OK;
        PQclear(result);
      }
      std::optional<uint64_t> server_version;
      if (ok) {
        auto info = readInfo(c);
        ok = info.ok();
        if (ok) {
          server_version = info->server_version;
          if (listened_server_version_ && *listened_server_version_ != info->server_version) {
            notifier_.wakeAll();
          }
          listened_server_version_ = info->server_version;
          notifier_.publish(info->latest_record_version);
        }
      }
      if (!ok) {
        waitForWake(-1, delay);
        delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxReconnectDelay);
        continue;
      }
      delay = kMinReconnectDelay;
      while (!stopping_) {
        if (!waitForWake(PQsocket(c.conn), std::chrono::milliseconds(-1))) break;
        if (stopping_) break;
        if (PQconsumeInput(c.conn) == 0) break;
        bool cleared = false;
        while (PGnotify* n = PQnotifies(c.conn)) {
          std::string payload = n->extra ? n->extra : "";
          PQfreemem(n);
          if (payload == "clear") {
            cleared = true;
          } else if (auto version = parseUint(payload)) {
            notifier_.publish(*version);
          }
        }
        if (cleared) notifier_.wakeAll();
        if (PQstatus(c.conn) != CONNECTION_OK) break;
      }
      if (!stopping_) {
        log::warn("databroker lost its PostgreSQL notification connection; reconnecting");
        notifier_.wakeAll();
      }
    }
  }

  // Waits until `fd` is readable (true), the backend stops, or `timeout`
  // passes (false). fd < 0 waits for the timeout only.
  bool waitForWake(int fd, std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (n <= 0) return false;
    if (fds[0].revents != 0) return false;
    return fd >= 0 && fds[1].revents != 0;
  }

  std::string conninfo_;
  BackendOptions options_;

  std::mutex pool_mutex_;
  std::condition_variable pool_changed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds reconnect_delay_{0};
  std::string last_connect_error_;

  std::atomic<bool> stopping_{false};
  int wake_fd_;
  std::optional<uint64_t> listened_server_version_;
  std::thread listener_;
};

}  // namespace

Result<std::unique_ptr<Backend>> openPostgresBackend(std::string_view connection,
                                                     BackendOptions options) {
  // Refuse what libpq cannot parse before trying to connect.
  char* problem = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(std::string(connection).c_str(), &problem);
  if (parsed == nullptr) {
    std::string message = problem ? pqMessage(problem) : "cannot be parsed";
    if (problem) PQfreemem(problem);
    return Error::invalid("invalid PostgreSQL connection string: " + message);
  }
  PQconninfoFree(parsed);
  auto backend = std::make_unique<PostgresBackend>(std::string(connection), std::move(options));
  if (auto ready = backend->initialize(); !ready) return ready.error();
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace gatehouse::databroker

#include "databroker/memory_backend.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

namespace gatehouse::databroker {
namespace {

struct Lease {
  std::string id;
  Timestamp expires_at;
};

// One written version of a record. A put is stored once and shared by the
// live records and the change log (a session lives in both until the log's
// retention ends); id and data share one allocation, and the type is the key
// of its TypeState in types_, not a copy per record. Immutable once stored.
class Stored {
 public:
  Stored(const std::string* type, std::string_view id, std::string_view data, uint64_t version,
         Timestamp modified_at, std::optional<Timestamp> deleted_at)
      : type_(type),
        id_size_(static_cast<uint32_t>(id.size())),
        version_(version),
        modified_at_(modified_at),
        deleted_at_(deleted_at) {
    text_.reserve(id.size() + data.size());
    text_.append(id);
    text_.append(data);
  }

  const std::string& type() const { return *type_; }
  std::string_view id() const { return std::string_view(text_).substr(0, id_size_); }
  std::string_view data() const { return std::string_view(text_).substr(id_size_); }
  uint64_t version() const { return version_; }
  Timestamp modifiedAt() const { return modified_at_; }
  bool deleted() const { return deleted_at_.has_value(); }

  Record toRecord() const {
    Record r;
    r.type = *type_;
    r.id = std::string(id());
    r.version = version_;
    r.data = std::string(data());
    r.modified_at = modified_at_;
    r.deleted_at = deleted_at_;
    return r;
  }

 private:
  const std::string* type_;  // a key of MemoryBackend::types_, which outlives the record
  std::string text_;         // id, then data
  uint32_t id_size_;
  uint64_t version_;
  Timestamp modified_at_;
  std::optional<Timestamp> deleted_at_;
};

using StoredPtr = std::shared_ptr<const Stored>;

struct TypeState {
  // By id; the key views the record's own id, so it is re-inserted (never
  // re-assigned) when the record is replaced.
  std::map<std::string_view, StoredPtr, std::less<>> records;
  // Oldest first; kept only for a type with a capacity, the one use.
  std::map<uint64_t, std::string_view> ids_by_version;
  TypeOptions options;

  void indexByVersion() {
    ids_by_version.clear();
    if (!options.capacity) return;
    for (const auto& [id, record] : records) ids_by_version.emplace(record->version(), id);
  }
};

class MemoryBackend final : public Backend {
 public:
  explicit MemoryBackend(BackendOptions options)
      : options_(std::move(options)), server_version_(newServerVersion()) {
    if (!options_.clock) options_.clock = databroker::now;
  }

  Result<Record> get(std::string_view type, std::string_view id) override {
    std::shared_lock lock(mutex_);
    auto t = types_.find(type);
    if (t == types_.end()) return notFound("record not found");
    auto r = t->second.records.find(id);
    if (r == t->second.records.end()) return notFound("record not found");
    return r->second->toRecord();
  }

  Result<PutResult> put(std::vector<Record> records) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    PutResult result;
    uint64_t latest = 0;
    {
      std::unique_lock lock(mutex_);
      Timestamp now = options_.clock();
      std::set<std::string> types;
      for (Record& record : records) {
        write(record, now);
        types.insert(record.type);
      }
      for (const auto& type : types) enforceCapacity(type, now);
      result.server_version = server_version_;
      latest = latest_;
    }
    result.records = std::move(records);
    notifier_.publish(latest);
    return result;
  }

  Result<PutResult> patch(std::vector<Record> records,
                          const std::vector<std::string>& field_mask) override {
    if (auto valid = validatePut(records); !valid) return valid.error();
    if (auto valid = validateFieldMask(field_mask); !valid) return valid.error();
    PutResult result;
    uint64_t latest = 0;
    {
      std::unique_lock lock(mutex_);
      // Merge everything first so that a bad record changes nothing.
      std::vector<Record> merged;
      for (const Record& record : records) {
        auto t = types_.find(record.type);
        if (t == types_.end()) continue;
        auto existing = t->second.records.find(record.id);
        if (existing == t->second.records.end()) continue;
        auto data = applyFieldMask(existing->second->data(), record.data, field_mask);
        if (!data) return data.error();
        Record next = record;
        next.data = std::move(*data);
        next.deleted_at.reset();
        merged.push_back(std::move(next));
      }
      Timestamp now = options_.clock();
      for (Record& record : merged) write(record, now);
      result.records = std::move(merged);
      result.server_version = server_version_;
      latest = latest_;
    }
    notifier_.publish(latest);
    return result;
  }

  Result<QueryResult> query(const Query& query) override {
    std::shared_lock lock(mutex_);
    QueryResult result;
    result.server_version = server_version_;
    result.record_version = latest_;
    auto t = types_.find(query.type);
    TypeOptions options = t == types_.end() ? TypeOptions{} : t->second.options;
    if (auto valid = validateQuery(query, options); !valid) return valid.error();
    if (t == types_.end()) return result;
    QueryMatcher matcher(query, options);
    Record scratch;
    scratch.type = query.type;
    for (const auto& [id, record] : t->second.records) {
      scratch.id.assign(record->id());
      scratch.data.assign(record->data());
      if (!matcher.matches(scratch)) continue;
      uint64_t index = result.total_count++;
      if (index < query.offset) continue;
      if (query.limit != 0 && result.records.size() >= query.limit) continue;
      result.records.push_back(record->toRecord());
    }
    return result;
  }

  Result<ChangeBatch> changes(const SyncPosition& from, std::string_view type,
                              size_t limit) override {
    std::shared_lock lock(mutex_);
    if (from.server_version != server_version_) return aborted("invalid server version");
    if (from.record_version + 1 < earliest_) return aborted("invalid record version");
    ChangeBatch batch;
    batch.record_version = std::max(from.record_version, latest_);
    if (from.record_version >= latest_) {
      batch.record_version = from.record_version;
      return batch;
    }
    // Versions in the log are contiguous, so the start is an index.
    size_t start = static_cast<size_t>(from.record_version + 1 - earliest_);
    for (size_t i = start; i < changes_.size(); ++i) {
      const Stored& change = *changes_[i];
      if (!type.empty() && change.type() != type) continue;
      if (batch.records.size() >= limit) {
        batch.more = true;
        batch.record_version = batch.records.back().version;
        break;
      }
      batch.records.push_back(change.toRecord());
    }
    return batch;
  }

  Result<Snapshot> latest(std::string_view type) override {
    std::shared_lock lock(mutex_);
    Snapshot snapshot;
    snapshot.server_version = server_version_;
    snapshot.record_version = latest_;
    for (const auto& [name, state] : types_) {
      if (!type.empty() && name != type) continue;
      for (const auto& [id, record] : state.records) snapshot.records.push_back(record->toRecord());
    }
    return snapshot;
  }

  Result<ServerInfo> serverInfo() override {
    std::shared_lock lock(mutex_);
    return ServerInfo{server_version_, earliest_, latest_};
  }

  Result<std::vector<std::string>> listTypes() override {
    std::shared_lock lock(mutex_);
    std::vector<std::string> types;
    for (const auto& [name, state] : types_) {
      if (!state.records.empty()) types.push_back(name);
    }
    return types;
  }

  Result<TypeOptions> getOptions(std::string_view type) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    std::shared_lock lock(mutex_);
    auto t = types_.find(type);
    if (t == types_.end()) return TypeOptions{};
    return t->second.options;
  }

  Result<void> setOptions(std::string_view type, const TypeOptions& options) override {
    if (auto valid = validateType(type); !valid) return valid.error();
    uint64_t latest = 0;
    {
      std::unique_lock lock(mutex_);
      TypeState& state = types_[std::string(type)];
      state.options = options;
      state.indexByVersion();
      enforceCapacity(std::string(type), options_.clock());
      latest = latest_;
    }
    notifier_.publish(latest);
    return {};
  }

  Result<ClearResult> clear() override {
    ClearResult result;
    {
      std::unique_lock lock(mutex_);
      result.old_server_version = server_version_;
      do {
        server_version_ = newServerVersion();
      } while (server_version_ == result.old_server_version);
      result.new_server_version = server_version_;
      types_.clear();
      changes_.clear();
      leases_.clear();
      earliest_ = latest_ + 1;
    }
    notifier_.wakeAll();
    return result;
  }

  Result<bool> acquireLease(std::string_view name, std::string_view id, Duration ttl) override {
    std::unique_lock lock(mutex_);
    Timestamp now = options_.clock();
    auto it = leases_.find(name);
    if (it != leases_.end() && it->second.id != id && it->second.expires_at > now) return false;
    leases_[std::string(name)] = Lease{std::string(id), expiry(now, ttl)};
    return true;
  }

  Result<bool> renewLease(std::string_view name, std::string_view id, Duration ttl) override {
    std::unique_lock lock(mutex_);
    Timestamp now = options_.clock();
    auto it = leases_.find(name);
    if (it == leases_.end() || it->second.id != id || it->second.expires_at <= now) return false;
    it->second.expires_at = expiry(now, ttl);
    return true;
  }

  Result<void> releaseLease(std::string_view name, std::string_view id) override {
    std::unique_lock lock(mutex_);
    auto it = leases_.find(name);
    if (it != leases_.end() && it->second.id == id) leases_.erase(it);
    return {};
  }

  Result<void> clean() override {
    uint64_t latest = 0;
    {
      std::unique_lock lock(mutex_);
      Timestamp now = options_.clock();
      for (auto& [name, state] : types_) {
        if (!state.options.ttl) continue;
        Timestamp cutoff =
            now - std::chrono::duration_cast<std::chrono::microseconds>(*state.options.ttl);
        std::vector<std::string> expired;
        for (const auto& [id, record] : state.records) {
          if (record->modifiedAt() < cutoff) expired.emplace_back(id);
        }
        for (const auto& id : expired) remove(state, name, id, now);
      }
      Timestamp horizon =
          now - std::chrono::duration_cast<std::chrono::microseconds>(options_.change_retention);
      // Trim up to the newest change older than the horizon, so that the log
      // stays contiguous even if clocks went backwards.
      size_t cut = 0;
      for (size_t i = 0; i < changes_.size(); ++i) {
        if (changes_[i]->modifiedAt() < horizon) cut = i + 1;
      }
      changes_.erase(changes_.begin(), changes_.begin() + static_cast<std::ptrdiff_t>(cut));
      earliest_ = changes_.empty() ? latest_ + 1 : changes_.front()->version();
      for (auto it = leases_.begin(); it != leases_.end();) {
        it = it->second.expires_at <= now ? leases_.erase(it) : std::next(it);
      }
      latest = latest_;
    }
    notifier_.publish(latest);
    return {};
  }

 private:
  static Timestamp expiry(Timestamp now, Duration ttl) {
    return now + std::chrono::duration_cast<std::chrono::microseconds>(ttl);
  }

  // Applies one put record; fills in version, modified_at and, for a
  // deletion, the data the record had.
  void write(Record& record, Timestamp now) {
    record.version = ++latest_;
    record.modified_at = now;
    auto [t, added] = types_.try_emplace(record.type);
    TypeState& state = t->second;
    auto existing = state.records.find(record.id);
    StoredPtr previous;
    if (existing != state.records.end()) {
      previous = std::move(existing->second);
      if (state.options.capacity) state.ids_by_version.erase(previous->version());
      state.records.erase(existing);
    }
    if (record.deleted()) {
      record.deleted_at = now;
      if (previous) record.data = std::string(previous->data());
    }
    auto stored = std::make_shared<const Stored>(&t->first, record.id, record.data, record.version,
                                                 now, record.deleted_at);
    if (!record.deleted()) {
      state.records.emplace(stored->id(), stored);
      if (state.options.capacity) state.ids_by_version.emplace(record.version, stored->id());
    }
    appendChange(std::move(stored));
  }

  // Deletes a live record as the backend's own decision (TTL, capacity).
  void remove(TypeState& state, const std::string& type, const std::string& id, Timestamp now) {
    auto existing = state.records.find(id);
    if (existing == state.records.end()) return;
    StoredPtr previous = std::move(existing->second);
    if (state.options.capacity) state.ids_by_version.erase(previous->version());
    state.records.erase(existing);
    const std::string* interned = &types_.find(type)->first;
    appendChange(std::make_shared<const Stored>(interned, previous->id(), previous->data(),
                                                ++latest_, now, now));
  }

  void appendChange(StoredPtr change) {
    if (changes_.empty()) earliest_ = change->version();
    changes_.push_back(std::move(change));
  }

  void enforceCapacity(const std::string& type, Timestamp now) {
    auto t = types_.find(type);
    if (t == types_.end() || !t->second.options.capacity) return;
    TypeState& state = t->second;
    while (state.records.size() > *state.options.capacity) {
      std::string oldest(state.ids_by_version.begin()->second);
      remove(state, type, oldest, now);
    }
  }

  BackendOptions options_;
  std::shared_mutex mutex_;
  uint64_t server_version_;
  uint64_t latest_ = 0;
  uint64_t earliest_ = 1;
  std::map<std::string, TypeState, std::less<>> types_;
  // Contiguous versions earliest_..latest_; a put's entry is the very record
  // the live map holds.
  std::deque<StoredPtr> changes_;
  std::map<std::string, Lease, std::less<>> leases_;
};

}  // namespace

std::unique_ptr<Backend> makeMemoryBackend(BackendOptions options) {
  return std::make_unique<MemoryBackend>(std::move(options));
}

}  // namespace gatehouse::databroker

#include "databroker/syncer.h"

#include <future>

#include "common/log.h"

namespace gatehouse::databroker {

struct Syncer::TypeState {
  std::string type;
  std::thread thread;

  mutable std::shared_mutex data_mutex;
  std::unordered_map<std::string, Record> records;
  SyncPosition position;
  bool loaded = false;
  // Set once the first snapshot's callbacks have run: only then does a
  // view built from on_change hold the snapshot, so only then is the type
  // ready.
  bool applied = false;
  uint64_t resyncs = 0;

  // Guarded by control_mutex_: set by the stream's handler, read by the
  // type's thread.
  std::optional<Error> stream_error;
  std::chrono::milliseconds backoff{0};
};

Syncer::Syncer(Client& client, Options options) : client_(client), options_(std::move(options)) {
  for (const auto& type : options_.types) {
    auto state = std::make_unique<TypeState>();
    state->type = type;
    types_.emplace(type, std::move(state));
  }
  for (auto& [type, state] : types_) {
    TypeState* raw = state.get();
    raw->thread = std::thread([this, raw] { run(*raw); });
  }
}

Syncer::~Syncer() {
  {
    std::lock_guard lock(control_mutex_);
    stopping_ = true;
  }
  control_.notify_all();
  for (auto& [type, state] : types_) state->thread.join();
}

std::optional<Record> Syncer::get(std::string_view type, std::string_view id) const {
  auto it = types_.find(type);
  if (it == types_.end()) return std::nullopt;
  std::shared_lock lock(it->second->data_mutex);
  auto record = it->second->records.find(std::string(id));
  if (record == it->second->records.end()) return std::nullopt;
  return record->second;
}

std::vector<Record> Syncer::records(std::string_view type) const {
  std::vector<Record> out;
  auto it = types_.find(type);
  if (it == types_.end()) return out;
  std::shared_lock lock(it->second->data_mutex);
  for (const auto& [id, record] : it->second->records) out.push_back(record);
  return out;
}

SyncPosition Syncer::position(std::string_view type) const {
  auto it = types_.find(type);
  if (it == types_.end()) return {};
  std::shared_lock lock(it->second->data_mutex);
  return it->second->position;
}

bool Syncer::ready() const {
  for (const auto& [type, state] : types_) {
    std::shared_lock lock(state->data_mutex);
    if (!state->applied) return false;
  }
  return true;
}

bool Syncer::waitReady(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(control_mutex_);
  return control_.wait_for(lock, timeout, [this] { return stopping_ || ready(); }) && !stopping_;
}

uint64_t Syncer::resyncs(std::string_view type) const {
  auto it = types_.find(type);
  if (it == types_.end()) return 0;
  std::shared_lock lock(it->second->data_mutex);
  return it->second->resyncs;
}

bool Syncer::sleepFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(control_mutex_);
  return !control_.wait_for(lock, delay, [this] { return stopping_; });
}

// Blocks this type's thread (never an event loop) until the snapshot
// arrives, then replaces the copy with it.
bool Syncer::loadSnapshot(TypeState& state) {
  auto promise = std::make_shared<std::promise<Result<Snapshot>>>();
  auto future = promise->get_future();
  client_.syncLatest(state.type,
                     [promise](Result<Snapshot> result) { promise->set_value(std::move(result)); });
  Result<Snapshot> snapshot = future.get();
  if (!snapshot) {
    log::warn("databroker sync: snapshot failed")
        .str("type", state.type)
        .str("error", snapshot.error().message);
    return false;
  }
  std::vector<Record> changed;
  {
    std::unique_lock lock(state.data_mutex);
    state.records.clear();
    for (Record& record : snapshot->records) {
      if (!options_.keep_records) continue;
      if (options_.on_change) changed.push_back(record);
      std::string id = record.id;
      state.records.insert_or_assign(std::move(id), std::move(record));
    }
    state.position = {snapshot->server_version, snapshot->record_version};
    if (state.loaded) ++state.resyncs;
    state.loaded = true;
  }
  if (options_.on_reset) options_.on_reset(state.type);
  if (!options_.keep_records) {
    if (options_.on_change) {
      for (const auto& record : snapshot->records) options_.on_change(record);
    }
  } else {
    for (const auto& record : changed) options_.on_change(record);
  }
  {
    std::unique_lock lock(state.data_mutex);
    state.applied = true;
  }
  // Under the control mutex, so that a waiter between its check and its
  // wait cannot miss the wake-up.
  { std::lock_guard lock(control_mutex_); }
  control_.notify_all();
  return true;
}

void Syncer::apply(TypeState& state, const std::vector<Record>& records) {
  {
    std::unique_lock lock(state.data_mutex);
    for (const Record& record : records) {
      if (options_.keep_records) {
        if (record.deleted()) {
          state.records.erase(record.id);
        } else {
          state.records.insert_or_assign(record.id, record);
        }
      }
      state.position.record_version = std::max(state.position.record_version, record.version);
    }
  }
  if (options_.on_change) {
    for (const auto& record : records) options_.on_change(record);
  }
}

void Syncer::run(TypeState& state) {
  // Sleeps for the current backoff and doubles it; false when stopping.
  auto backOff = [this, &state] {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(control_mutex_);
      delay = state.backoff;
      state.backoff = std::min(state.backoff * 2, options_.max_backoff);
    }
    return sleepFor(delay);
  };
  {
    std::lock_guard lock(control_mutex_);
    state.backoff = options_.min_backoff;
  }
  bool need_snapshot = true;
  while (true) {
    {
      std::lock_guard lock(control_mutex_);
      if (stopping_) return;
    }
    if (need_snapshot) {
      if (!loadSnapshot(state)) {
        if (!backOff()) return;
        continue;
      }
      need_snapshot = false;
      std::lock_guard lock(control_mutex_);
      state.backoff = options_.min_backoff;
    }

    SyncPosition from;
    {
      std::shared_lock lock(state.data_mutex);
      from = state.position;
    }
    SyncHandler handler;
    handler.on_records = [this, &state](std::vector<Record> records) {
      apply(state, records);
      std::lock_guard lock(control_mutex_);
      state.backoff = options_.min_backoff;
    };
    handler.on_error = [this, &state](Error error) {
      {
        std::lock_guard lock(control_mutex_);
        state.stream_error = std::move(error);
      }
      control_.notify_all();
    };
    std::unique_ptr<SyncStream> stream = client_.sync(from, state.type, std::move(handler));

    Error error;
    {
      std::unique_lock lock(control_mutex_);
      control_.wait(lock, [&] { return stopping_ || state.stream_error.has_value(); });
      if (stopping_) {
        lock.unlock();
        stream.reset();
        return;
      }
      error = std::move(*state.stream_error);
      state.stream_error.reset();
    }
    stream.reset();

    if (error.code == ErrorCode::kAborted) {
      // Cleared store or a stream too far behind: the copy may hold records
      // that no longer exist, so drop it (readers fall back to the
      // databroker) and start over from a snapshot.
      {
        std::unique_lock lock(state.data_mutex);
        state.records.clear();
        state.position = {};
      }
      log::info("databroker sync: starting over")
          .str("type", state.type)
          .str("reason", error.message);
      need_snapshot = true;
      continue;
    }
    log::warn("databroker sync: stream failed, retrying")
        .str("type", state.type)
        .str("error", error.message);
    if (!backOff()) return;
  }
}

}  // namespace gatehouse::databroker

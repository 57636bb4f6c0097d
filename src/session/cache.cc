#include "session/cache.h"

#include "common/log.h"
#include "databroker/client_awaitable.h"

namespace gatehouse::session {

Cache::Cache(databroker::Client& client) : client_(client) {
  databroker::Syncer::Options options;
  options.types = {std::string(kSessionType), std::string(kUserType)};
  options.on_change = [this](const databroker::Record& record) { onChange(record); };
  options.on_reset = [this](const std::string& type) { onReset(type); };
  options.keep_records = false;  // the view below is the only copy
  syncer_ = std::make_unique<databroker::Syncer>(client, std::move(options));
}

Cache::~Cache() { syncer_.reset(); }

bool Cache::ready() const { return syncer_->ready(); }

bool Cache::waitReady(std::chrono::milliseconds timeout) const {
  return syncer_->waitReady(timeout);
}

databroker::SyncPosition Cache::position(std::string_view type) const {
  return syncer_->position(type);
}

uint64_t Cache::resyncs(std::string_view type) const { return syncer_->resyncs(type); }

namespace {

uint32_t minuteOf(Time t) {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count());
}

// The check every lookup of a session in the copy makes.
Lookup judge(std::shared_ptr<const Loaded> local, const Handle& handle, Time now) {
  uint32_t minute = minuteOf(now);
  if (local->used_minute.load(std::memory_order_relaxed) != minute) {
    local->used_minute.store(minute, std::memory_order_relaxed);
  }
  Lookup out;
  if (local->session.user_id != handle.user_id) {
    out.reason = "session belongs to another user";
  } else if (!local->session.valid(now)) {
    out.reason = "session expired";
  } else {
    out.status = LookupStatus::kFound;
    out.session = std::move(local);
  }
  return out;
}

}  // namespace

std::shared_ptr<const Loaded> Cache::build(Session session, std::shared_ptr<const User> user,
                                           uint64_t version) {
  // Not make_shared: the copy's weak pointers keep the control block alive
  // after the last worker lets go, and it should not hold the view's bytes.
  std::shared_ptr<Loaded> loaded(new Loaded);
  static std::atomic<uint64_t> next_id{1};
  loaded->id = next_id.fetch_add(1, std::memory_order_relaxed);
  loaded->version = version;
  if (!session.claims.is_object()) session.claims = nlohmann::json::object();
  if (user && user->claims.is_object() && !user->claims.empty()) {
    // A second tree only when the user's claims change something.
    bool differs = false;
    for (auto& [name, value] : user->claims.items()) {
      auto it = session.claims.find(name);
      if (it == session.claims.end() || *it != value) {
        differs = true;
        break;
      }
    }
    if (differs) {
      auto merged = std::make_shared<nlohmann::json>(session.claims);
      for (auto& [name, value] : user->claims.items()) (*merged)[name] = value;
      loaded->merged_claims = std::move(merged);
    }
  }
  loaded->session = std::move(session);
  const nlohmann::json& claims = loaded->claims();
  loaded->email = user && !user->email.empty() ? user->email : firstClaim(claims, "email");
  loaded->name = firstClaim(loaded->session.claims, "name");
  if (loaded->name.empty() && user) loaded->name = user->name;
  if (auto groups = claims.find("groups"); groups != claims.end() && groups->is_array()) {
    for (auto& g : *groups) {
      if (g.is_string()) loaded->groups.push_back(g.get<std::string>());
    }
  }
  loaded->user = std::move(user);
  return loaded;
}

Time Cache::dueBy(const Schedule& s) {
  auto set = [](Time t) { return t.time_since_epoch().count() != 0; };
  Time due = Time::max();
  if (s.refreshable) {
    if (set(s.token_expires_at)) due = std::min(due, s.token_expires_at);
    if (set(s.id_token_expires_at)) due = std::min(due, s.id_token_expires_at);
  }
  if (set(s.expires_at)) due = std::min(due, s.expires_at);
  return due;
}

namespace {

void supersede(const std::weak_ptr<const Loaded>& view) {
  if (auto held = view.lock()) held->superseded.store(true, std::memory_order_release);
}

}  // namespace

void Cache::supersedeViews(UserEntry& user) {
  for (const auto& view : user.live) supersede(view);
  user.live.clear();
}

void Cache::reschedule(IdMap<Entry>::iterator it, uint64_t version, const Schedule& schedule) {
  Entry& entry = it->second;
  // A new entry's default schedule is due never: nothing to erase.
  due_.erase({dueBy(entry.schedule), &it->first});
  entry.version = version;
  entry.schedule = schedule;
  if (Time due = dueBy(schedule); due != Time::max()) due_.emplace(due, &it->first);
}

void Cache::drop(IdMap<Entry>::iterator it) {
  supersede(it->second.live);
  due_.erase({dueBy(it->second.schedule), &it->first});
  sessions_.erase(it);
}

void Cache::sweep(Time now) {
  // Two per call: the queue turns over at twice the rate views are added.
  constexpr int kPerCall = 2;
  uint32_t minute = minuteOf(now);
  for (int i = 0; i < kPerCall && !held_.empty(); ++i) {
    std::shared_ptr<const Loaded> oldest = std::move(held_.front());
    held_.pop_front();
    uint32_t used = oldest->used_minute.load(std::memory_order_relaxed);
    if (!oldest->superseded.load(std::memory_order_relaxed) &&
        minute - used < static_cast<uint32_t>(kRetention.count())) {
      held_.push_back(std::move(oldest));
    }
  }
}

void Cache::onReset(const std::string& type) {
  std::unique_lock lock(mutex_);
  ++resets_;
  if (type == kSessionType) {
    for (auto& [id, entry] : sessions_) supersede(entry.live);
    sessions_.clear();
    due_.clear();
    held_.clear();
    session_version_ = 0;
  }
  if (type == kUserType) {
    for (auto& [id, user] : users_) supersedeViews(user);
    users_.clear();
  }
}

void Cache::onChange(const databroker::Record& record) {
  if (record.type == kUserType) {
    // The user's parsed views are superseded; the next request of each of
    // its sessions reads it through with the new user.
    std::unique_lock lock(mutex_);
    UserEntry& user = users_[record.id];
    // A read-through may have applied this version already.
    if (record.version <= user.version) return;
    user.version = record.version;
    user.deleted = record.deleted();
    supersedeViews(user);
    return;
  }
  if (record.type != kSessionType) return;
  if (record.deleted()) {
    std::unique_lock lock(mutex_);
    session_version_ = std::max(session_version_, record.version);
    if (auto it = sessions_.find(record.id); it != sessions_.end()) drop(it);
    return;
  }
  // Only the schedule: parsing the whole record (tokens, claims trees) and
  // dropping it again for each change made heaps of garbage on this thread,
  // which slowed every allocation in the process after a big load.
  auto parsed = Schedule::fromJson(record.data);
  std::unique_lock lock(mutex_);
  session_version_ = std::max(session_version_, record.version);
  if (!parsed) {
    // Unusable as it now stands: dropped, as a read-through would drop it.
    log::warn("session cache: unreadable session record").str("id", record.id);
    if (auto it = sessions_.find(record.id); it != sessions_.end()) drop(it);
    return;
  }
  sweep(std::chrono::system_clock::now());
  auto [it, added] = sessions_.try_emplace(record.id);
  Entry& entry = it->second;
  // A read-through may have put a newer version here already.
  if (!added && entry.version >= record.version) return;
  if (!added) {
    supersede(entry.live);
    entry.live.reset();
  }
  reschedule(it, record.version, *parsed);
}

bool Cache::contains(std::string_view session_id) const {
  std::shared_lock lock(mutex_);
  return sessions_.find(session_id) != sessions_.end();
}

std::optional<Schedule> Cache::schedule(std::string_view session_id) const {
  std::shared_lock lock(mutex_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.schedule;
}

uint64_t Cache::userVersion(std::string_view user_id) const {
  std::shared_lock lock(mutex_);
  auto it = users_.find(user_id);
  return it == users_.end() ? 0 : it->second.version;
}

size_t Cache::parsedCount() const {
  std::shared_lock lock(mutex_);
  return held_.size();
}

size_t Cache::size() const {
  std::shared_lock lock(mutex_);
  return sessions_.size();
}

std::vector<std::pair<std::string, Schedule>> Cache::selectDue(
    Time horizon, const std::function<bool(const Schedule&)>& pick) const {
  std::vector<std::pair<std::string, Schedule>> out;
  std::shared_lock lock(mutex_);
  for (const auto& [due, id] : due_) {
    if (due > horizon) break;
    auto it = sessions_.find(*id);
    if (it != sessions_.end() && pick(it->second.schedule))
      out.emplace_back(*id, it->second.schedule);
  }
  return out;
}

std::optional<Lookup> Cache::lookupLocal(const Handle& handle, Time now) const {
  std::shared_ptr<const Loaded> local;
  bool known = false;
  uint64_t applied = 0;
  {
    std::shared_lock lock(mutex_);
    auto it = sessions_.find(handle.session_id);
    if (it != sessions_.end()) {
      known = true;
      local = it->second.live.lock();
    }
    applied = session_version_;
  }
  if (local && !local->superseded.load(std::memory_order_acquire) &&
      local->version >= handle.record_version) {
    return judge(std::move(local), handle, now);
  }
  // Known, but not parsed (or older than the handle): read it through.
  if (known) return std::nullopt;
  // The copy has applied every session change up to `applied`: a handle
  // at or below it whose session is not there names a deleted one. A newer
  // handle, or one from another storage instance, reads through.
  databroker::SyncPosition position = syncer_->position(kSessionType);
  if (position.server_version == 0 || position.server_version != handle.server_version ||
      applied < handle.record_version) {
    return std::nullopt;
  }
  Lookup out;
  out.reason = "no such session";
  return out;
}

std::optional<Lookup> WorkerView::lookupLocal(const Handle& handle, Time now) {
  if (!cache_) return Lookup{};
  auto it = hot_.find(handle.session_id);
  if (it != hot_.end()) {
    const std::shared_ptr<const Loaded>& kept = it->second;
    // Acquire: pairs with the release of the sync thread that replaced it.
    if (!kept->superseded.load(std::memory_order_acquire) &&
        kept->version >= handle.record_version) {
      return judge(kept, handle, now);
    }
  }
  std::optional<Lookup> found = cache_->lookupLocal(handle, now);
  if (found && found->status == LookupStatus::kFound) {
    if (it != hot_.end()) {
      it->second = found->session;
    } else {
      if (hot_.size() >= kCapacity) hot_.clear();
      hot_.emplace(handle.session_id, found->session);
    }
  } else if (it != hot_.end()) {
    hot_.erase(it);
  }
  return found;
}

struct Cache::Fetched {
  LookupStatus status = LookupStatus::kNoSession;
  std::shared_ptr<const Loaded> session;
  std::string reason;
};

Cache::Adopted Cache::adopt(std::shared_ptr<const Loaded>& loaded, uint64_t user_version,
                            uint64_t resets) {
  const Session& s = loaded->session;
  auto it = sessions_.find(s.id);
  // The copy applied this record's version (or a later change) and has no
  // session: it was deleted since it was read (or a snapshot is being
  // applied; reading again tells which).
  if (it == sessions_.end() && session_version_ >= loaded->version) return Adopted::kGone;
  // The copy started over from a snapshot since the reads: what it has
  // applied says nothing about them any more.
  if (resets != resets_) return Adopted::kStale;
  auto user = users_.find(s.user_id);
  // The copy has applied a newer user than the one read: read again.
  if (user != users_.end() && user->second.version > user_version &&
      !(user_version == kNoUser && user->second.deleted)) {
    return Adopted::kStale;
  }
  if (it == sessions_.end()) {
    // The copy is behind (a fresh login): the index learns it now, and the
    // stream's own copy of the same record changes nothing when it comes.
    it = sessions_.try_emplace(s.id).first;
    reschedule(it, loaded->version, Schedule::of(s));
  }
  Entry& entry = it->second;
  if (entry.version > loaded->version) return Adopted::kStale;
  if (auto held = entry.live.lock(); held && !held->superseded.load(std::memory_order_relaxed) &&
                                     held->version >= loaded->version) {
    loaded = std::move(held);  // another worker read it first
    return Adopted::kKept;
  }
  supersede(entry.live);
  entry.live = loaded;
  if (entry.version < loaded->version) reschedule(it, loaded->version, Schedule::of(s));
  UserEntry& owner = user == users_.end() ? users_[s.user_id] : user->second;
  // A user newer than the copy's: the other views of the user were built
  // with an older one, and the stream's copy of this one will change
  // nothing when it comes, so they are superseded now.
  if (user_version != kNoUser && user_version > owner.version) {
    supersedeViews(owner);
    owner.version = user_version;
    owner.deleted = false;
  }
  std::erase_if(owner.live, [](const std::weak_ptr<const Loaded>& view) {
    auto held = view.lock();
    return !held || held->superseded.load(std::memory_order_relaxed);
  });
  owner.live.push_back(loaded);
  held_.push_back(loaded);
  return Adopted::kKept;
}

Task<Cache::Fetched> Cache::fetch(std::string session_id, bool keep, Time now) {
  Fetched out;
  // A change that lands between the reads and the adoption makes them
  // stale; they are read again, a few times at most.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    uint64_t resets = 0;
    {
      std::shared_lock lock(mutex_);
      resets = resets_;
    }
    auto record = co_await databroker::awaitCall<databroker::Record>(
        [&](auto done) { client_.get(std::string(kSessionType), session_id, std::move(done)); });
    if (!record) {
      if (record.error().code == ErrorCode::kNotFound) {
        out.reason = "no such session";
      } else {
        out.status = LookupStatus::kUnavailable;
        out.reason = "databroker: " + record.error().message;
      }
      co_return out;
    }
    auto session = Session::fromJson(record->data);
    if (!session) {
      out.reason = "unreadable session record";
      co_return out;
    }
    std::string user_id = session->user_id;
    auto user_record = co_await databroker::awaitCall<databroker::Record>(
        [&](auto done) { client_.get(std::string(kUserType), user_id, std::move(done)); });
    std::shared_ptr<const User> user;
    uint64_t user_version = kNoUser;
    if (user_record) {
      user_version = user_record->version;
      if (auto parsed = User::fromJson(user_record->data)) {
        user = std::make_shared<const User>(std::move(*parsed));
      }
    } else if (user_record.error().code != ErrorCode::kNotFound) {
      out.status = LookupStatus::kUnavailable;
      out.reason = "databroker: " + user_record.error().message;
      co_return out;
    }
    std::shared_ptr<const Loaded> loaded =
        build(std::move(*session), std::move(user), record->version);
    if (!keep) {
      // Read for a look, not for requests: not made the copy's view.
      out.status = LookupStatus::kFound;
      out.session = std::move(loaded);
      co_return out;
    }
    // Used now: a sweep before the request's own judge() must not drop it.
    loaded->used_minute.store(minuteOf(now), std::memory_order_relaxed);
    Adopted adopted;
    {
      std::unique_lock lock(mutex_);
      sweep(now);
      adopted = adopt(loaded, user_version, resets);
    }
    if (adopted == Adopted::kGone && attempt == kAttempts) {
      out.reason = "no such session";
      co_return out;
    }
    if (adopted == Adopted::kKept || attempt == kAttempts) {
      // After the last attempt the view serves this one request only: it
      // is not kept, so nothing can leave it in use once it changes.
      out.status = LookupStatus::kFound;
      out.session = std::move(loaded);
      co_return out;
    }
  }
}

Task<Lookup> Cache::lookup(const Handle& handle, Time now) {
  if (std::optional<Lookup> answered = lookupLocal(handle, now)) co_return std::move(*answered);
  Fetched fetched = co_await fetch(handle.session_id, true, now);
  if (fetched.status != LookupStatus::kFound) {
    Lookup out;
    out.status = fetched.status;
    out.reason = std::move(fetched.reason);
    co_return out;
  }
  co_return judge(std::move(fetched.session), handle, now);
}

Task<std::shared_ptr<const Loaded>> Cache::load(std::string session_id) {
  {
    std::shared_lock lock(mutex_);
    auto it = sessions_.find(session_id);
    if (it != sessions_.end()) {
      if (auto held = it->second.live.lock();
          held && !held->superseded.load(std::memory_order_acquire)) {
        co_return held;
      }
    }
  }
  Fetched fetched = co_await fetch(std::move(session_id), false, std::chrono::system_clock::now());
  co_return fetched.session;
}

}  // namespace gatehouse::session

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

// The check every lookup of a session in the copy makes.
Lookup judge(std::shared_ptr<const Loaded> local, const Handle& handle, Time now) {
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
  auto loaded = std::make_shared<Loaded>();
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

void Cache::onReset(const std::string& type) {
  std::unique_lock lock(mutex_);
  if (type == kSessionType) {
    for (auto& [id, loaded] : sessions_) loaded->superseded.store(true, std::memory_order_release);
    sessions_.clear();
    due_.clear();
    user_sessions_.clear();
    session_version_ = 0;
  }
  if (type == kUserType) users_.clear();
}

Time Cache::dueBy(const Session& s) {
  auto set = [](Time t) { return t.time_since_epoch().count() != 0; };
  Time due = Time::max();
  if (!s.oauth_token.refresh_token.empty()) {
    if (set(s.oauth_token.expires_at)) due = std::min(due, s.oauth_token.expires_at);
    if (set(s.id_token_expires_at)) due = std::min(due, s.id_token_expires_at);
  }
  if (set(s.expires_at)) due = std::min(due, s.expires_at);
  return due;
}

void Cache::replace(const std::string& id, std::shared_ptr<const Loaded> loaded) {
  auto& slot = sessions_[id];
  if (slot) {
    slot->superseded.store(true, std::memory_order_release);
    due_.erase({dueBy(slot->session), slot});
  }
  if (Time due = dueBy(loaded->session); due != Time::max()) due_.emplace(due, loaded);
  slot = std::move(loaded);
}

void Cache::onChange(const databroker::Record& record) {
  if (record.type == kUserType) {
    std::shared_ptr<const User> user;
    if (!record.deleted()) {
      auto parsed = User::fromJson(record.data);
      if (!parsed) {
        log::warn("session cache: unreadable user record").str("id", record.id);
        return;
      }
      user = std::make_shared<const User>(std::move(*parsed));
    }
    std::unique_lock lock(mutex_);
    auto owned = user_sessions_.find(record.id);
    if (owned != user_sessions_.end()) {
      for (const std::string& id : owned->second) {
        auto it = sessions_.find(id);
        if (it == sessions_.end()) continue;
        replace(id, build(it->second->session, user, it->second->version));
      }
    }
    if (user) {
      users_[record.id] = std::move(user);
    } else {
      users_.erase(record.id);
    }
    return;
  }
  if (record.type != kSessionType) return;
  if (record.deleted()) {
    std::unique_lock lock(mutex_);
    session_version_ = std::max(session_version_, record.version);
    auto it = sessions_.find(record.id);
    if (it == sessions_.end()) return;
    auto owned = user_sessions_.find(it->second->session.user_id);
    if (owned != user_sessions_.end()) {
      std::erase(owned->second, record.id);
      if (owned->second.empty()) user_sessions_.erase(owned);
    }
    it->second->superseded.store(true, std::memory_order_release);
    due_.erase({dueBy(it->second->session), it->second});
    sessions_.erase(it);
    return;
  }
  auto parsed = Session::fromJson(record.data);
  if (!parsed) {
    log::warn("session cache: unreadable session record").str("id", record.id);
    std::unique_lock lock(mutex_);
    session_version_ = std::max(session_version_, record.version);
    return;
  }
  std::shared_ptr<const User> user;
  {
    std::shared_lock lock(mutex_);
    auto it = users_.find(parsed->user_id);
    if (it != users_.end()) user = it->second;
  }
  std::string user_id = parsed->user_id;
  auto loaded = build(std::move(*parsed), user, record.version);
  std::unique_lock lock(mutex_);
  // The user record may have arrived (on its own stream) since it was
  // looked up: lay the current one over the session, or it would be missed
  // until the user changes again.
  auto current = users_.find(user_id);
  std::shared_ptr<const User> now_user = current == users_.end() ? nullptr : current->second;
  if (now_user != user) loaded = build(loaded->session, now_user, record.version);
  auto existing = sessions_.find(record.id);
  if (existing == sessions_.end()) {
    user_sessions_[user_id].push_back(record.id);
  } else if (existing->second->session.user_id != user_id) {
    auto owned = user_sessions_.find(existing->second->session.user_id);
    if (owned != user_sessions_.end()) {
      std::erase(owned->second, record.id);
      if (owned->second.empty()) user_sessions_.erase(owned);
    }
    user_sessions_[user_id].push_back(record.id);
  }
  replace(record.id, std::move(loaded));
  session_version_ = std::max(session_version_, record.version);
}

std::shared_ptr<const Loaded> Cache::find(std::string_view session_id) const {
  std::shared_lock lock(mutex_);
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const Loaded>> Cache::select(
    const std::function<bool(const Loaded&)>& pick) const {
  std::vector<std::shared_ptr<const Loaded>> out;
  std::shared_lock lock(mutex_);
  for (const auto& [id, loaded] : sessions_) {
    if (pick(*loaded)) out.push_back(loaded);
  }
  return out;
}

std::vector<std::shared_ptr<const Loaded>> Cache::selectDue(
    Time horizon, const std::function<bool(const Loaded&)>& pick) const {
  std::vector<std::shared_ptr<const Loaded>> out;
  std::shared_lock lock(mutex_);
  for (const auto& [due, loaded] : due_) {
    if (due > horizon) break;
    if (pick(*loaded)) out.push_back(loaded);
  }
  return out;
}

std::optional<Lookup> Cache::lookupLocal(const Handle& handle, Time now) const {
  std::shared_ptr<const Loaded> local;
  uint64_t applied = 0;
  {
    std::shared_lock lock(mutex_);
    auto it = sessions_.find(handle.session_id);
    if (it != sessions_.end()) local = it->second;
    applied = session_version_;
  }
  if (local && local->version >= handle.record_version) return judge(std::move(local), handle, now);
  // The copy has applied every session change up to `applied`: a handle
  // at or below it whose session is not there names a deleted one. A newer
  // handle, or one from another storage instance, reads through.
  databroker::SyncPosition position = syncer_->position(kSessionType);
  if (position.server_version == 0 || position.server_version != handle.server_version ||
      applied < handle.record_version) {
    return std::nullopt;
  }
  Lookup out;
  out.reason = local ? "session record is older than the handle" : "no such session";
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

Task<Lookup> Cache::lookup(const Handle& handle, Time now) {
  if (std::optional<Lookup> answered = lookupLocal(handle, now)) co_return std::move(*answered);
  Lookup out;
  // The handle is newer than the copy: ask the databroker once.
  std::string id = handle.session_id;
  auto record = co_await databroker::awaitCall<databroker::Record>(
      [&](auto done) { client_.get(std::string(kSessionType), id, std::move(done)); });
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
  if (user_record) {
    if (auto parsed = User::fromJson(user_record->data)) {
      user = std::make_shared<const User>(std::move(*parsed));
    }
  }
  co_return judge(build(std::move(*session), std::move(user), record->version), handle, now);
}

}  // namespace gatehouse::session

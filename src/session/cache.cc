#include "session/cache.h"

#include "common/log.h"
#include "databroker/client_awaitable.h"

namespace gatehouse::session {

Cache::Cache(databroker::Client& client) : client_(client) {
  databroker::Syncer::Options options;
  options.types = {std::string(kSessionType), std::string(kUserType)};
  options.on_change = [this](const databroker::Record& record) { onChange(record); };
  options.on_reset = [this](const std::string& type) { onReset(type); };
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

std::shared_ptr<const Loaded> Cache::build(Session session, const User* user, uint64_t version) {
  auto loaded = std::make_shared<Loaded>();
  loaded->version = version;
  loaded->claims = session.claims.is_object() ? session.claims : nlohmann::json::object();
  if (user) {
    loaded->user = *user;
    if (user->claims.is_object()) {
      for (auto& [name, value] : user->claims.items()) loaded->claims[name] = value;
    }
  }
  loaded->email = user && !user->email.empty() ? user->email : firstClaim(loaded->claims, "email");
  loaded->name = firstClaim(session.claims, "name");
  if (loaded->name.empty() && user) loaded->name = user->name;
  if (auto groups = loaded->claims.find("groups");
      groups != loaded->claims.end() && groups->is_array()) {
    for (auto& g : *groups) {
      if (g.is_string()) loaded->groups.push_back(g.get<std::string>());
    }
  }
  loaded->session = std::move(session);
  return loaded;
}

void Cache::onReset(const std::string& type) {
  std::unique_lock lock(mutex_);
  if (type == kSessionType) {
    sessions_.clear();
    user_sessions_.clear();
  }
  if (type == kUserType) users_.clear();
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
        it->second = build(it->second->session, user.get(), it->second->version);
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
    auto it = sessions_.find(record.id);
    if (it == sessions_.end()) return;
    auto owned = user_sessions_.find(it->second->session.user_id);
    if (owned != user_sessions_.end()) {
      std::erase(owned->second, record.id);
      if (owned->second.empty()) user_sessions_.erase(owned);
    }
    sessions_.erase(it);
    return;
  }
  auto parsed = Session::fromJson(record.data);
  if (!parsed) {
    log::warn("session cache: unreadable session record").str("id", record.id);
    return;
  }
  std::shared_ptr<const User> user;
  {
    std::shared_lock lock(mutex_);
    auto it = users_.find(parsed->user_id);
    if (it != users_.end()) user = it->second;
  }
  std::string user_id = parsed->user_id;
  auto loaded = build(std::move(*parsed), user.get(), record.version);
  std::unique_lock lock(mutex_);
  // The user record may have arrived (on its own stream) since it was
  // looked up: lay the current one over the session, or it would be missed
  // until the user changes again.
  auto current = users_.find(user_id);
  const User* now_user = current == users_.end() ? nullptr : current->second.get();
  if (now_user != user.get()) loaded = build(loaded->session, now_user, record.version);
  auto& slot = sessions_[record.id];
  if (!slot) user_sessions_[user_id].push_back(record.id);
  slot = std::move(loaded);
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

std::optional<Lookup> Cache::lookupLocal(const Handle& handle, Time now) const {
  Lookup out;
  std::shared_ptr<const Loaded> local = find(handle.session_id);
  if (local && local->version >= handle.record_version) {
    if (local->session.user_id != handle.user_id) {
      out.reason = "session belongs to another user";
      return out;
    }
    if (!local->session.valid(now)) {
      out.reason = "session expired";
      return out;
    }
    out.status = LookupStatus::kFound;
    out.session = std::move(local);
    return out;
  }
  databroker::SyncPosition position = syncer_->position(kSessionType);
  bool behind = position.server_version == 0 || position.server_version != handle.server_version ||
                position.record_version < handle.record_version;
  if (behind) return std::nullopt;
  // The stream has passed the handle's version; the record may be in the
  // syncer's copy a moment before on_change has put it in ours.
  std::optional<databroker::Record> synced = syncer_->get(kSessionType, handle.session_id);
  auto session = synced ? Session::fromJson(synced->data) : Result<Session>(Error::invalid(""));
  if (!synced || !session || synced->version < handle.record_version) {
    out.reason = local ? "session record is older than the handle" : "no such session";
    return out;
  }
  std::shared_ptr<const User> user;
  {
    std::shared_lock lock(mutex_);
    auto it = users_.find(session->user_id);
    if (it != users_.end()) user = it->second;
  }
  local = build(std::move(*session), user.get(), synced->version);
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
  std::optional<User> user;
  if (user_record) {
    if (auto parsed = User::fromJson(user_record->data)) user = std::move(*parsed);
  }
  auto loaded = build(std::move(*session), user ? &*user : nullptr, record->version);
  if (loaded->session.user_id != handle.user_id) {
    out.reason = "session belongs to another user";
    co_return out;
  }
  if (!loaded->session.valid(now)) {
    out.reason = "session expired";
    co_return out;
  }
  out.status = LookupStatus::kFound;
  out.session = std::move(loaded);
  co_return out;
}

}  // namespace gatehouse::session

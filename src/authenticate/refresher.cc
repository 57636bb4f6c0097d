#include "authenticate/refresher.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "databroker/client_awaitable.h"

namespace gatehouse::authenticate {
namespace {

constexpr std::string_view kLeaseName = "identity_manager";
constexpr auto kRenewEvery = std::chrono::seconds(10);
constexpr auto kFirstRetry = std::chrono::seconds(30);
constexpr auto kMaxRetry = std::chrono::minutes(5);

bool isSet(session::Time t) { return t.time_since_epoch().count() != 0; }

}  // namespace

Refresher::Refresher(databroker::Client& databroker, session::Cache& sessions,
                     std::function<std::shared_ptr<const Authenticator>()> authenticator,
                     Options options)
    : databroker_(databroker),
      sessions_(sessions),
      authenticator_(std::move(authenticator)),
      options_(options) {
  asio::co_spawn(io_, run(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

Refresher::~Refresher() {
  stopping_ = true;
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

session::Time Refresher::nextRefresh(const session::Session& s, const Options& options) {
  return nextRefresh(session::Schedule::of(s), options);
}

session::Time Refresher::nextRefresh(const session::Schedule& s, const Options& options) {
  session::Time next = session::Time::max();
  if (s.refreshable) {
    if (isSet(s.token_expires_at)) next = std::min(next, s.token_expires_at - options.ahead);
    if (isSet(s.id_token_expires_at)) next = std::min(next, s.id_token_expires_at - options.ahead);
    session::Time last = isSet(s.refreshed_at) ? s.refreshed_at : s.issued_at;
    if (next != session::Time::max()) next = std::max(next, last + options.min_gap);
  }
  // A session past its expiry is due too: for deletion.
  if (isSet(s.expires_at)) next = std::min(next, s.expires_at);
  return next;
}

Task<void> Refresher::run() {
  asio::steady_timer timer(io_);
  while (!stopping_) {
    if (co_await holdLease()) co_await refreshDue();
    timer.expires_after(options_.interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
}

Task<bool> Refresher::holdLease() {
  auto now = std::chrono::steady_clock::now();
  if (lease_id_.empty()) {
    auto lease = co_await databroker::awaitCall<std::string>([&](auto done) {
      databroker_.acquireLease(std::string(kLeaseName), options_.lease_ttl, std::move(done));
    });
    if (!lease) {
      if (lease.error().code != ErrorCode::kAlreadyExists) {
        log::warn("session refresh: cannot take the lease").str("error", lease.error().message);
      }
      co_return false;
    }
    lease_id_ = std::move(*lease);
    lease_renewed_ = now;
    log::info("session refresh: this process refreshes sessions");
    co_return true;
  }
  if (now - lease_renewed_ >= kRenewEvery) {
    auto renewed = co_await databroker::awaitCall<void>([&](auto done) {
      databroker_.renewLease(std::string(kLeaseName), lease_id_, options_.lease_ttl,
                             std::move(done));
    });
    if (!renewed) {
      log::warn("session refresh: lost the lease").str("error", renewed.error().message);
      lease_id_.clear();
      co_return false;
    }
    lease_renewed_ = now;
  }
  co_return true;
}

Task<void> Refresher::refreshDue() {
  std::shared_ptr<const Authenticator> authenticator = authenticator_();
  session::Time now = std::chrono::system_clock::now();
  // A session is due when a token is within `ahead` of its expiry (and
  // the minimum gap has passed) or when it has expired: nothing with
  // dueBy() later than now + ahead can be, so only those are looked at.
  auto due = sessions_.selectDue(now + options_.ahead, [&](const session::Schedule& schedule) {
    return nextRefresh(schedule, options_) <= now;
  });
  auto steady = std::chrono::steady_clock::now();
  for (const auto& [id, schedule] : due) {
    if (stopping_) co_return;
    if (now >= schedule.expires_at) {
      co_await remove(id, "expired");
      continue;
    }
    if (auto retry = retry_after_.find(id); retry != retry_after_.end() && retry->second > steady) {
      continue;
    }
    // The copy indexes every session but parses only those in use: the
    // tokens come from the databroker.
    std::shared_ptr<const session::Loaded> loaded = co_await sessions_.load(id);
    if (!loaded || nextRefresh(loaded->session, options_) > now) continue;
    const session::Session& s = loaded->session;
    std::shared_ptr<oidc::Provider> provider =
        authenticator ? authenticator->provider(s.idp_id) : nullptr;
    if (!provider) {
      // Its IdP is no longer configured; it ends at expiry. Not read again
      // on every pass meanwhile (a configuration that brings the IdP back
      // is seen within kMaxRetry).
      retry_after_[id] = steady + kMaxRetry;
      continue;
    }
    co_await refreshOne(*loaded, std::move(provider));
  }
}

Task<void> Refresher::refreshOne(const session::Loaded& loaded,
                                 std::shared_ptr<oidc::Provider> provider) {
  const session::Session& old = loaded.session;
  oidc::Tokens tokens;
  tokens.access_token = old.oauth_token.access_token;
  tokens.refresh_token = old.oauth_token.refresh_token;
  tokens.token_type = old.oauth_token.token_type;
  tokens.id_token = old.id_token;
  tokens.expiry = old.oauth_token.expires_at;
  auto refreshed = co_await provider->refresh(tokens);
  if (!refreshed) {
    countRefresh(false);
    if (refreshed.error().code == ErrorCode::kUnauthenticated) {
      log::info("session refresh: the identity provider ended the session")
          .str("session-id", old.id)
          .str("error", refreshed.error().message);
      co_await remove(old.id, "refresh refused");
      co_return;
    }
    int failures = ++failures_[old.id];
    auto delay = std::min<std::chrono::steady_clock::duration>(
        kFirstRetry * (1 << std::min(failures - 1, 4)), kMaxRetry);
    retry_after_[old.id] = std::chrono::steady_clock::now() + delay;
    log::warn("session refresh failed; will retry")
        .str("session-id", old.id)
        .str("error", refreshed.error().message);
    co_return;
  }
  failures_.erase(old.id);
  retry_after_.erase(old.id);

  session::Session next = old;
  session::Time now = std::chrono::system_clock::now();
  next.oauth_token.access_token = refreshed->tokens.access_token;
  if (!refreshed->tokens.refresh_token.empty()) {
    next.oauth_token.refresh_token = refreshed->tokens.refresh_token;
  }
  if (!refreshed->tokens.token_type.empty())
    next.oauth_token.token_type = refreshed->tokens.token_type;
  next.oauth_token.expires_at = refreshed->tokens.expiry;
  if (!refreshed->tokens.id_token.empty() && refreshed->tokens.id_token != old.id_token) {
    next.id_token = refreshed->tokens.id_token;
    if (auto exp = refreshed->claims.find("exp");
        exp != refreshed->claims.end() && exp->is_number_integer()) {
      next.id_token_expires_at = session::Time(std::chrono::seconds(exp->get<int64_t>()));
    }
  }
  nlohmann::json fresh = session::flattenClaims(refreshed->claims);
  for (auto& [name, value] : fresh.items()) next.claims[name] = value;
  next.refreshed_at = now;

  std::vector<databroker::Record> session_records;
  session_records.push_back(session::toRecord(next));
  // A patch, not a put: a session signed out meanwhile stays deleted.
  auto stored = co_await databroker::awaitCall<databroker::PutResult>([&](auto done) {
    databroker_.patch(std::move(session_records),
                      {"oauthToken", "idToken", "claims", "refreshedAt"}, std::move(done));
  });
  if (!stored) {
    log::warn("session refresh: cannot store the session").str("error", stored.error().message);
    countRefresh(false);
    co_return;
  }
  session::User user = loaded.user ? *loaded.user : session::User{};
  if (!user.id.empty()) {
    for (auto& [name, value] : fresh.items()) user.claims[name] = value;
    if (auto email = session::firstClaim(fresh, "email"); !email.empty()) user.email = email;
    if (auto name = session::firstClaim(fresh, "name"); !name.empty()) user.name = name;
    std::vector<databroker::Record> user_records;
    user_records.push_back(session::toRecord(user));
    (void)co_await databroker::awaitCall<databroker::PutResult>([&](auto done) {
      databroker_.patch(std::move(user_records), {"name", "email", "claims"}, std::move(done));
    });
  }
  countRefresh(true);
  log::debug("session refreshed").str("session-id", next.id);
}

void Refresher::countRefresh(bool success) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (success) {
    stats_.successes.fetch_add(1, std::memory_order_relaxed);
    stats_.last_success_unix.store(now, std::memory_order_relaxed);
  } else {
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    stats_.last_error_unix.store(now, std::memory_order_relaxed);
  }
}

Task<void> Refresher::remove(const std::string& session_id, const char* why) {
  databroker::Record deletion = session::sessionDeletion(session_id);
  std::vector<databroker::Record> records{deletion};
  auto deleted = co_await databroker::awaitCall<databroker::PutResult>(
      [&](auto done) { databroker_.put(std::move(records), std::move(done)); });
  if (!deleted) {
    log::warn("session refresh: cannot delete a session").str("error", deleted.error().message);
    co_return;
  }
  failures_.erase(session_id);
  retry_after_.erase(session_id);
  log::info("session ended").str("session-id", session_id).str("reason", why);
}

}  // namespace gatehouse::authenticate

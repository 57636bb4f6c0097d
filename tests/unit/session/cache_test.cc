#include "session/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "databroker/local_client.h"
#include "databroker/memory_backend.h"
#include "unit/databroker/forwarding_client.h"

namespace gatehouse::session {
namespace {

using namespace std::chrono_literals;

// The databroker with a hook that runs after each get has read its record
// and before the reader gets it: a change made there lands between a
// read-through's reads and its adoption.
class HookedClient final : public databroker::testing::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  std::function<void(const std::string& type)> after_get;

  // Holds the user stream's changes back while set.
  void holdUsers(bool hold) {
    {
      std::lock_guard lock(mutex_);
      hold_users_ = hold;
    }
    released_.notify_all();
  }
  // Ends the session stream with an error, as a lost connection does: the
  // copy starts over from a snapshot.
  void breakSessionStream() {
    std::lock_guard lock(mutex_);
    session_error_(Error{ErrorCode::kAborted, ErrorSource::kInternal, "stream broken", false});
  }

  std::unique_ptr<databroker::SyncStream> sync(databroker::SyncPosition from, std::string type,
                                               databroker::SyncHandler handler) override {
    if (type == kUserType) {
      handler.on_records =
          [this, inner = std::move(handler.on_records)](std::vector<databroker::Record> records) {
            std::unique_lock lock(mutex_);
            released_.wait(lock, [&] { return !hold_users_; });
            lock.unlock();
            inner(std::move(records));
          };
    } else if (type == kSessionType) {
      std::lock_guard lock(mutex_);
      session_error_ = handler.on_error;
    }
    return inner_.sync(from, std::move(type), std::move(handler));
  }

  void get(std::string type, std::string id,
           databroker::Callback<databroker::Record> done) override {
    inner_.get(type, std::move(id),
               [this, type, done = std::move(done)](Result<databroker::Record> r) mutable {
                 if (after_get) after_get(type);
                 done(std::move(r));
               });
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool hold_users_ = false;
  std::function<void(Error)> session_error_;
};

class CacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<databroker::Backend> backend_ = databroker::makeMemoryBackend();
  std::unique_ptr<databroker::Client> client_ = databroker::makeLocalClient(backend_);
  Time now_ = std::chrono::system_clock::now();

  // Writes a session (and its user) the way sign-in does; returns the handle.
  Handle put(std::string id, Time expires) {
    Session s;
    s.id = id;
    s.user_id = "u1";
    s.issued_at = now_;
    s.expires_at = expires;
    s.claims = flattenClaims({{"email", "a@example.com"}, {"groups", {"admins"}}});
    User u;
    u.id = "u1";
    u.name = "Alice";
    u.email = "a@example.com";
    auto result = backend_->put({toRecord(s), toRecord(u)});
    EXPECT_TRUE(result.ok());
    Handle h;
    h.session_id = id;
    h.user_id = "u1";
    h.server_version = result->server_version;
    h.record_version = result->records[0].version;
    return h;
  }

  // The copy has applied both snapshots: the session `id`, and the user.
  // The user snapshot starts the copy's users over, which supersedes any
  // view read through before it; tests that read through wait for it.
  static bool applied(const Cache& cache, std::string_view id) {
    return cache.contains(id) && cache.userVersion("u1") > 0;
  }

  // Renames u1 (to "Alice Renamed"); the user record's new version.
  uint64_t renameUser() {
    User renamed;
    renamed.id = "u1";
    renamed.name = "Alice Renamed";
    renamed.email = "a@example.com";
    auto written = backend_->put({toRecord(renamed)});
    EXPECT_TRUE(written.ok());
    return written.ok() ? written->records[0].version : 0;
  }

  Lookup run(Cache& cache, const Handle& h) {
    asio::io_context io;
    Lookup out;
    asio::co_spawn(
        io, [&]() -> Task<void> { out = co_await cache.lookup(h, now_); }, asio::detached);
    io.run();
    return out;
  }

  template <typename F>
  bool eventually(F f) {
    for (int i = 0; i < 200; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  std::shared_ptr<const Loaded> load(Cache& cache, std::string id) {
    asio::io_context io;
    std::shared_ptr<const Loaded> out;
    asio::co_spawn(
        io, [&]() -> Task<void> { out = co_await cache.load(id); }, asio::detached);
    io.run();
    return out;
  }
};

TEST_F(CacheTest, SyncedSessionIsIndexedAndParsedWhenUsed) {
  Handle h = put("s1", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return applied(cache, "s1"); }));
  // Indexed, not parsed: only a read-through can answer.
  EXPECT_FALSE(cache.lookupLocal(h, now_).has_value());
  Lookup l = run(cache, h);
  ASSERT_EQ(l.status, LookupStatus::kFound) << l.reason;
  EXPECT_EQ(l.session->email, "a@example.com");
  EXPECT_EQ(l.session->name, "Alice");
  EXPECT_EQ(l.session->groups, std::vector<std::string>{"admins"});
  // Now the copy holds the parsed view, and every lookup shares it.
  std::optional<Lookup> local = cache.lookupLocal(h, now_);
  ASSERT_TRUE(local);
  ASSERT_EQ(local->status, LookupStatus::kFound);
  EXPECT_EQ(local->session, l.session);
  EXPECT_EQ(run(cache, h).session, l.session);
  EXPECT_EQ(load(cache, "s1"), l.session);
  EXPECT_EQ(load(cache, "never"), nullptr);
}

TEST_F(CacheTest, NewerHandleReadsThrough) {
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  // Written after the cache started; looked up before the stream delivers
  // it is possible, and must succeed either way.
  Handle h = put("s2", now_ + 1h);
  Lookup l = run(cache, h);
  EXPECT_EQ(l.status, LookupStatus::kFound) << l.reason;
  // Read through before the stream brought it, it is in the index at once,
  // and the stream's copy of the same record leaves the view in place.
  EXPECT_TRUE(cache.contains("s2"));
  ASSERT_TRUE(
      eventually([&] { return cache.position(kSessionType).record_version >= h.record_version; }));
  std::optional<Lookup> local = cache.lookupLocal(h, now_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->session, l.session);
  EXPECT_FALSE(l.session->superseded.load());
}

TEST_F(CacheTest, ExpiredDeletedAndForeignSessionsAreRefused) {
  Handle expired = put("old", now_ - 1s);
  Handle live = put("s3", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  EXPECT_EQ(run(cache, expired).status, LookupStatus::kNoSession);

  Handle other = live;
  other.user_id = "mallory";
  EXPECT_EQ(run(cache, other).status, LookupStatus::kNoSession);

  // The session is in the copy (waitReady returns once the snapshot is in
  // the syncer, a moment before on_change has filled the view).
  ASSERT_TRUE(eventually([&] { return applied(cache, "s3"); }));
  Lookup found = run(cache, live);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  databroker::Record deletion = sessionDeletion("s3");
  ASSERT_TRUE(backend_->put({deletion}).ok());
  // Signed out: refused as soon as the deletion arrives, and the view a
  // worker may hold is marked.
  ASSERT_TRUE(eventually([&] { return !cache.contains("s3"); }));
  EXPECT_TRUE(found.session->superseded.load());
  std::optional<Lookup> local = cache.lookupLocal(live, now_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, LookupStatus::kNoSession);
  EXPECT_EQ(run(cache, live).status, LookupStatus::kNoSession);

  Handle unknown = live;
  unknown.session_id = "never";
  EXPECT_EQ(run(cache, unknown).status, LookupStatus::kNoSession);
}

TEST_F(CacheTest, AChangedSessionIsReadAgain) {
  Handle h = put("s7", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return applied(cache, "s7"); }));
  Lookup first = run(cache, h);
  ASSERT_EQ(first.status, LookupStatus::kFound);
  // A refresh writes the session again, with new claims.
  Session s = first.session->session;
  s.claims = flattenClaims({{"email", "a@example.com"}, {"groups", {"auditors"}}});
  auto written = backend_->put({toRecord(s)});
  ASSERT_TRUE(written.ok());
  uint64_t version = written->records[0].version;
  ASSERT_TRUE(eventually([&] { return first.session->superseded.load(); }));
  EXPECT_FALSE(cache.lookupLocal(h, now_).has_value());
  Lookup second = run(cache, h);
  ASSERT_EQ(second.status, LookupStatus::kFound);
  EXPECT_EQ(second.session->version, version);
  EXPECT_EQ(second.session->groups, std::vector<std::string>{"auditors"});
}

TEST_F(CacheTest, ParsedViewsLiveWhileRequestsUseThem) {
  Handle idle = put("m0", now_ + 1h);
  Handle busy = put("m1", now_ + 1h);
  Handle late = put("m2", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return cache.size() == 3 && cache.userVersion("u1") > 0; }));
  auto at = [&](const Handle& h, Time when) {
    Lookup l;
    asio::io_context io;
    asio::co_spawn(
        io, [&]() -> Task<void> { l = co_await cache.lookup(h, when); }, asio::detached);
    io.run();
    return l;
  };
  Lookup first = at(idle, now_);
  ASSERT_EQ(first.status, LookupStatus::kFound);
  std::weak_ptr<const Loaded> idle_view = first.session;
  first = Lookup{};
  ASSERT_EQ(at(busy, now_).status, LookupStatus::kFound);
  // The copy keeps both parsed, with nothing else holding them.
  EXPECT_FALSE(idle_view.expired());
  EXPECT_EQ(cache.parsedCount(), 2u);
  EXPECT_EQ(cache.size(), 3u);
  // One is used again ten minutes later, the other not at all.
  std::optional<Lookup> again = cache.lookupLocal(busy, now_ + 10min);
  ASSERT_TRUE(again);
  std::weak_ptr<const Loaded> busy_view = again->session;
  again.reset();
  // Past the retention of the first, the next read-through lets it go.
  ASSERT_EQ(at(late, now_ + Cache::kRetention + 2min).status, LookupStatus::kFound);
  EXPECT_TRUE(idle_view.expired());
  EXPECT_FALSE(busy_view.expired());
  EXPECT_EQ(cache.parsedCount(), 2u);  // the busy one and the late one
  EXPECT_TRUE(cache.contains("m0"));
  EXPECT_FALSE(cache.lookupLocal(idle, now_ + Cache::kRetention + 2min).has_value());
  EXPECT_EQ(at(idle, now_ + Cache::kRetention + 2min).status, LookupStatus::kFound);
}

// A user record changed after a read-through read the old one, and applied
// by the copy before the read-through is adopted: the session is read again
// rather than kept with the old user.
TEST_F(CacheTest, AReadThroughOlderThanTheCopysUserReadsAgain) {
  Handle h = put("r1", now_ + 1h);
  HookedClient hooked(*client_);
  Cache cache(hooked);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return applied(cache, "r1"); }));
  std::atomic<int> user_reads{0};
  hooked.after_get = [&](const std::string& type) {
    if (type != kUserType || user_reads++ != 0) return;
    uint64_t version = renameUser();
    ASSERT_NE(version, 0u);
    ASSERT_TRUE(eventually([&] { return cache.userVersion("u1") >= version; }));
  };
  Lookup l = run(cache, h);
  ASSERT_EQ(l.status, LookupStatus::kFound) << l.reason;
  EXPECT_EQ(user_reads.load(), 2);
  EXPECT_EQ(l.session->name, "Alice Renamed");
  std::optional<Lookup> local = cache.lookupLocal(h, now_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->session, l.session);
}

// Signed out while a read-through was between its reads and its adoption:
// refused, and nothing of it stays in the copy.
TEST_F(CacheTest, ASessionDeletedDuringItsReadThroughIsRefused) {
  Handle h = put("r2", now_ + 1h);
  HookedClient hooked(*client_);
  Cache cache(hooked);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return applied(cache, "r2"); }));
  std::atomic<bool> deleted{false};
  hooked.after_get = [&](const std::string& type) {
    if (type != kSessionType || deleted.exchange(true)) return;
    ASSERT_TRUE(backend_->put({sessionDeletion("r2")}).ok());
    ASSERT_TRUE(eventually([&] { return !cache.contains("r2"); }));
  };
  Lookup l = run(cache, h);
  EXPECT_EQ(l.status, LookupStatus::kNoSession);
  EXPECT_EQ(l.session, nullptr);
  EXPECT_FALSE(cache.contains("r2"));
  std::optional<Lookup> local = cache.lookupLocal(h, now_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, LookupStatus::kNoSession);
}

// A read-through that brings a user newer than the copy's supersedes the
// views of the user's other sessions at once: the stream's copy of that
// user will change nothing when it comes.
TEST_F(CacheTest, AReadThroughOfANewerUserSupersedesItsOtherSessions) {
  Handle first = put("n1", now_ + 1h);
  Handle second = put("n2", now_ + 1h);
  HookedClient hooked(*client_);
  Cache cache(hooked);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return cache.size() == 2 && cache.userVersion("u1") > 0; }));
  Lookup old_view = run(cache, first);
  ASSERT_EQ(old_view.status, LookupStatus::kFound);
  EXPECT_EQ(old_view.session->name, "Alice");

  hooked.holdUsers(true);
  ASSERT_NE(renameUser(), 0u);
  Lookup new_view = run(cache, second);
  ASSERT_EQ(new_view.status, LookupStatus::kFound);
  EXPECT_EQ(new_view.session->name, "Alice Renamed");
  EXPECT_TRUE(old_view.session->superseded.load());
  hooked.holdUsers(false);

  Lookup again = run(cache, first);
  ASSERT_EQ(again.status, LookupStatus::kFound);
  EXPECT_EQ(again.session->name, "Alice Renamed");
  EXPECT_FALSE(new_view.session->superseded.load());
}

// Signed out, and then the copy started over from a snapshot (without the
// session), while a read-through was between its reads and its adoption:
// the read-through must not bring the session back.
TEST_F(CacheTest, AResyncDuringAReadThroughDoesNotBringASignedOutSessionBack) {
  put("other", now_ + 1h);
  Handle h = put("r3", now_ + 1h);
  HookedClient hooked(*client_);
  Cache cache(hooked);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return cache.size() == 2 && cache.userVersion("u1") > 0; }));
  std::atomic<bool> once{false};
  hooked.after_get = [&](const std::string& type) {
    if (type != kSessionType || once.exchange(true)) return;
    ASSERT_TRUE(backend_->put({sessionDeletion("r3")}).ok());
    ASSERT_TRUE(eventually([&] { return !cache.contains("r3"); }));
    uint64_t resyncs = cache.resyncs(kSessionType);
    hooked.breakSessionStream();
    ASSERT_TRUE(eventually(
        [&] { return cache.resyncs(kSessionType) > resyncs && cache.contains("other"); }));
  };
  Lookup l = run(cache, h);
  EXPECT_EQ(l.status, LookupStatus::kNoSession) << l.reason;
  EXPECT_FALSE(cache.contains("r3"));
  // The snapshot's copy cannot tell a deleted session from one it has not
  // seen: the next lookup reads through, and is refused again.
  std::optional<Lookup> local = cache.lookupLocal(h, now_);
  EXPECT_TRUE(!local || local->status == LookupStatus::kNoSession);
  EXPECT_EQ(run(cache, h).status, LookupStatus::kNoSession);
}

TEST_F(CacheTest, WorkerViewSeesReplacementsAndSignOut) {
  Handle h = put("s4", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  ASSERT_TRUE(eventually([&] { return applied(cache, "s4"); }));
  WorkerView view(&cache);
  EXPECT_FALSE(view.lookupLocal(h, now_).has_value());
  ASSERT_EQ(run(cache, h).status, LookupStatus::kFound);
  std::optional<Lookup> first = view.lookupLocal(h, now_);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, LookupStatus::kFound) << first->reason;
  EXPECT_EQ(first->session->name, "Alice");
  // Asked again, the view answers with the very object it kept.
  std::optional<Lookup> again = view.lookupLocal(h, now_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->session, first->session);

  // The user changes: the kept view is superseded, and the next lookup
  // reads the session through with the new name.
  ASSERT_NE(renameUser(), 0u);
  ASSERT_TRUE(eventually([&] { return first->session->superseded.load(); }));
  EXPECT_FALSE(view.lookupLocal(h, now_).has_value());
  Lookup reread = run(cache, h);
  ASSERT_EQ(reread.status, LookupStatus::kFound);
  EXPECT_EQ(reread.session->name, "Alice Renamed");
  std::optional<Lookup> renamed_lookup = view.lookupLocal(h, now_);
  ASSERT_TRUE(renamed_lookup);
  ASSERT_EQ(renamed_lookup->status, LookupStatus::kFound);
  EXPECT_EQ(renamed_lookup->session->name, "Alice Renamed");

  // Another user's handle for the same session is refused from the view.
  Handle other = h;
  other.user_id = "mallory";
  std::optional<Lookup> foreign = view.lookupLocal(other, now_);
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, LookupStatus::kNoSession);

  // Signed out: the view refuses it as soon as the deletion is applied.
  ASSERT_TRUE(backend_->put({sessionDeletion("s4")}).ok());
  EXPECT_TRUE(eventually([&] {
    std::optional<Lookup> l = view.lookupLocal(h, now_);
    return l && l->status == LookupStatus::kNoSession;
  }));
}

TEST_F(CacheTest, WorkerViewLeavesNewerHandlesToTheReadThrough) {
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  WorkerView view(&cache);
  Handle h = put("s5", now_ + 1h);
  h.record_version += 1000;  // a write this copy cannot have seen yet
  EXPECT_FALSE(view.lookupLocal(h, now_).has_value());
  Handle expired = put("s6", now_ - 1s);
  ASSERT_TRUE(eventually([&] { return cache.contains("s6"); }));
  ASSERT_EQ(run(cache, expired).status, LookupStatus::kNoSession);
  std::optional<Lookup> l = view.lookupLocal(expired, now_);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, LookupStatus::kNoSession);
  EXPECT_EQ(l->reason, "session expired");
}

TEST(CacheBuild, UserClaimsMakeASecondTreeOnlyWhenTheyDiffer) {
  Session s;
  s.id = "s";
  s.user_id = "u";
  s.claims = flattenClaims({{"email", "a@example.com"}, {"groups", {"admins"}}});
  auto same = std::make_shared<User>();
  same->id = "u";
  same->claims = s.claims;
  auto loaded = Cache::build(s, same, 1);
  EXPECT_EQ(loaded->merged_claims, nullptr);
  EXPECT_EQ(&loaded->claims(), &loaded->session.claims);
  EXPECT_EQ(loaded->groups, std::vector<std::string>{"admins"});

  auto more = std::make_shared<User>(*same);
  more->claims["department"] = nlohmann::json::array({"eng"});
  more->claims["groups"] = nlohmann::json::array({"users"});
  loaded = Cache::build(s, more, 2);
  ASSERT_NE(loaded->merged_claims, nullptr);
  EXPECT_EQ(loaded->claims()["department"], nlohmann::json::array({"eng"}));
  EXPECT_EQ(loaded->groups, std::vector<std::string>{"users"});
  EXPECT_EQ(loaded->email, "a@example.com");
  // The session's own claims are kept as stored.
  EXPECT_EQ(loaded->session.claims["groups"], nlohmann::json::array({"admins"}));
}

}  // namespace
}  // namespace gatehouse::session

namespace gatehouse::session {
namespace {

// Sessions are ordered by when something can next be due for them, and a
// pass asks only for those due by its horizon; a replaced session moves.
TEST_F(CacheTest, SelectDueWalksOnlyWhatIsDueInOrder) {
  auto put_session = [&](std::string id, Time expires, std::string refresh_token,
                         Time token_expires) {
    Session s;
    s.id = std::move(id);
    s.user_id = "u1";
    s.issued_at = now_;
    s.expires_at = expires;
    s.oauth_token.refresh_token = std::move(refresh_token);
    s.oauth_token.expires_at = token_expires;
    ASSERT_TRUE(backend_->put({toRecord(s)}).ok());
  };
  put_session("later", now_ + 1h, "", Time{});
  put_session("expiring", now_ + 10min, "", Time{});
  put_session("token-soon", now_ + 2h, "rt", now_ + 5min);
  // Without a refresh token a token's expiry is nothing to act on.
  put_session("no-refresh", now_ + 3h, "", now_ + 1min);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  // The snapshot is applied in no particular order.
  ASSERT_TRUE(eventually([&] { return cache.size() == 4; }));

  auto ids = [&](Time horizon) {
    std::vector<std::string> out;
    for (const auto& [id, schedule] :
         cache.selectDue(horizon, [](const Schedule&) { return true; })) {
      out.push_back(id);
    }
    return out;
  };
  EXPECT_EQ(ids(now_ + 15min), (std::vector<std::string>{"token-soon", "expiring"}));
  EXPECT_EQ(ids(now_ + 4h),
            (std::vector<std::string>{"token-soon", "expiring", "later", "no-refresh"}));
  // Records keep times to the second or so.
  auto near = [](Time a, Time b) { return a - b < 2s && b - a < 2s; };
  EXPECT_TRUE(near(Cache::dueBy(*cache.schedule("token-soon")), now_ + 5min));

  // Refreshed: the token now lasts three hours, so the session is no longer
  // among those due within a quarter of an hour.
  put_session("token-soon", now_ + 2h, "rt", now_ + 3h);
  ASSERT_TRUE(
      eventually([&] { return near(Cache::dueBy(*cache.schedule("token-soon")), now_ + 2h); }));
  EXPECT_EQ(ids(now_ + 15min), (std::vector<std::string>{"expiring"}));
  // `pick` still decides among the candidates.
  EXPECT_TRUE(cache.selectDue(now_ + 4h, [](const Schedule&) { return false; }).empty());
}

}  // namespace
}  // namespace gatehouse::session

#include "session/cache.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <thread>

#include "databroker/local_client.h"
#include "databroker/memory_backend.h"

namespace gatehouse::session {
namespace {

using namespace std::chrono_literals;

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
};

TEST_F(CacheTest, SyncedSessionIsFoundLocallyWithItsUser) {
  Handle h = put("s1", now_ + 1h);
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  // The user record comes on its own stream; it is laid over the session
  // whichever arrives first.
  ASSERT_TRUE(eventually([&] {
    auto found = cache.find("s1");
    return found && found->name == "Alice";
  }));
  Lookup l = run(cache, h);
  ASSERT_EQ(l.status, LookupStatus::kFound) << l.reason;
  EXPECT_EQ(l.session->email, "a@example.com");
  EXPECT_EQ(l.session->name, "Alice");
  EXPECT_EQ(l.session->groups, std::vector<std::string>{"admins"});
}

TEST_F(CacheTest, NewerHandleReadsThrough) {
  Cache cache(*client_);
  ASSERT_TRUE(cache.waitReady(5s));
  // Written after the cache started; looked up before the stream delivers
  // it is possible, and must succeed either way.
  Handle h = put("s2", now_ + 1h);
  Lookup l = run(cache, h);
  EXPECT_EQ(l.status, LookupStatus::kFound) << l.reason;
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
  ASSERT_TRUE(eventually([&] { return cache.find("s3") != nullptr; }));
  EXPECT_EQ(run(cache, live).status, LookupStatus::kFound);
  databroker::Record deletion = sessionDeletion("s3");
  ASSERT_TRUE(backend_->put({deletion}).ok());
  // Signed out: refused as soon as the deletion arrives.
  ASSERT_TRUE(eventually([&] { return cache.find("s3") == nullptr; }));
  EXPECT_TRUE(eventually([&] { return run(cache, live).status == LookupStatus::kNoSession; }));

  Handle unknown = live;
  unknown.session_id = "never";
  EXPECT_EQ(run(cache, unknown).status, LookupStatus::kNoSession);
}

}  // namespace
}  // namespace gatehouse::session

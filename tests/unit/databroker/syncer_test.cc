#include "databroker/syncer.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "databroker/local_client.h"
#include "databroker/memory_backend.h"
#include "unit/databroker/forwarding_client.h"
#include "unit/databroker/test_util.h"

namespace gatehouse::databroker::testing {
namespace {

using namespace std::chrono_literals;

// A client whose streams and snapshots can be made to fail, as a databroker
// that restarts or a network that drops would.
class FlakyClient final : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;

  std::atomic<int> failing_snapshots{0};
  std::atomic<int> snapshots{0};

  // Ends every open stream with Unavailable.
  void breakStreams() {
    std::vector<std::shared_ptr<Broken>> streams;
    {
      std::lock_guard lock(mutex_);
      streams = streams_;
    }
    for (auto& s : streams) s->breakNow();
  }

  void syncLatest(std::string type, Callback<Snapshot> done) override {
    ++snapshots;
    if (failing_snapshots > 0) {
      --failing_snapshots;
      std::thread([done] { done(unavailable("databroker is down")); }).detach();
      return;
    }
    inner_.syncLatest(std::move(type), std::move(done));
  }
  std::unique_ptr<SyncStream> sync(SyncPosition from, std::string type,
                                   SyncHandler handler) override {
    auto broken = std::make_shared<Broken>();
    broken->on_error = handler.on_error;
    SyncHandler wrapped{handler.on_records, [broken](Error e) { broken->fail(std::move(e)); }};
    broken->inner = inner_.sync(from, std::move(type), std::move(wrapped));
    std::lock_guard lock(mutex_);
    streams_.push_back(broken);
    return std::make_unique<Handle>(broken);
  }

 private:
  struct Broken {
    std::mutex mutex;
    bool done = false;
    std::function<void(Error)> on_error;
    std::unique_ptr<SyncStream> inner;
    void fail(Error e) {
      std::function<void(Error)> callback;
      {
        std::lock_guard lock(mutex);
        if (done) return;
        done = true;
        callback = on_error;
      }
      callback(std::move(e));
    }
    void breakNow() {
      std::unique_ptr<SyncStream> stream;
      {
        std::lock_guard lock(mutex);
        if (done) return;
        stream = std::move(inner);
      }
      stream.reset();
      fail(unavailable("connection reset"));
    }
  };
  struct Handle : SyncStream {
    explicit Handle(std::shared_ptr<Broken> b) : broken(std::move(b)) {}
    ~Handle() override {
      std::unique_ptr<SyncStream> stream;
      {
        std::lock_guard lock(broken->mutex);
        broken->done = true;
        stream = std::move(broken->inner);
      }
    }
    std::shared_ptr<Broken> broken;
  };

  std::mutex mutex_;
  std::vector<std::shared_ptr<Broken>> streams_;
};

class SyncerTest : public ::testing::Test {
 protected:
  Syncer::Options options(std::vector<std::string> types) {
    Syncer::Options o;
    o.types = std::move(types);
    o.min_backoff = 10ms;
    o.max_backoff = 50ms;
    o.on_change = [this](const Record&) { changed_.notify(); };
    return o;
  }

  std::shared_ptr<Backend> backend_ = makeMemoryBackend();
  std::unique_ptr<Client> local_ = makeLocalClient(backend_);
  FlakyClient client_{*local_};
  Signal changed_;
};

TEST_F(SyncerTest, LoadsASnapshotThenFollowsChanges) {
  ASSERT_TRUE(
      backend_
          ->put({rec("session", "s1", R"({"user_id":"u1"})"), rec("user", "u1"), rec("other", "x")})
          .ok());
  Syncer syncer(client_, options({"session", "user"}));
  ASSERT_TRUE(syncer.waitReady(10s));
  EXPECT_TRUE(syncer.get("session", "s1").has_value());
  EXPECT_TRUE(syncer.get("user", "u1").has_value());
  EXPECT_FALSE(syncer.get("other", "x").has_value());
  EXPECT_EQ(syncer.position("session").server_version, backend_->serverInfo()->server_version);

  auto put = backend_->put({rec("session", "s2"), deletion("session", "s1")});
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(changed_.waitFor([&] {
    return syncer.get("session", "s2").has_value() && !syncer.get("session", "s1").has_value();
  }));
  EXPECT_EQ(syncer.position("session").record_version, put->records[1].version);
  EXPECT_EQ(syncer.records("session").size(), 1u);
  EXPECT_EQ(syncer.resyncs("session"), 0u);
}

TEST_F(SyncerTest, IsReadyOnlyOnceTheSnapshotsCallbacksHaveRun) {
  // A view built from on_change (the session cache) holds the snapshot only
  // after its callbacks: readiness must not come before them.
  ASSERT_TRUE(backend_->put({rec("session", "s1"), rec("session", "s2"), rec("user", "u1")}).ok());
  std::atomic<int> seen{0};
  std::atomic<int> resets{0};
  Syncer::Options o = options({"session", "user"});
  o.keep_records = false;
  o.on_reset = [&](const std::string&) { ++resets; };
  o.on_change = [&](const Record&) {
    std::this_thread::sleep_for(100ms);
    ++seen;
  };
  Syncer syncer(client_, std::move(o));
  ASSERT_TRUE(syncer.waitReady(10s));
  EXPECT_TRUE(syncer.ready());
  EXPECT_EQ(resets.load(), 2);
  EXPECT_EQ(seen.load(), 3);
}

TEST_F(SyncerTest, StartsOverFromASnapshotWhenTheStoreIsCleared) {
  ASSERT_TRUE(backend_->put({rec("session", "old")}).ok());
  Syncer syncer(client_, options({"session"}));
  ASSERT_TRUE(syncer.waitReady(10s));
  ASSERT_TRUE(backend_->clear().ok());
  ASSERT_TRUE(backend_->put({rec("session", "new")}).ok());
  ASSERT_TRUE(changed_.waitFor([&] {
    return syncer.get("session", "new").has_value() && !syncer.get("session", "old").has_value();
  }));
  EXPECT_EQ(syncer.resyncs("session"), 1u);
  EXPECT_EQ(syncer.position("session").server_version, backend_->serverInfo()->server_version);
}

TEST_F(SyncerTest, RetriesAFailedSnapshotWithBackoff) {
  client_.failing_snapshots = 3;
  ASSERT_TRUE(backend_->put({rec("session", "s1")}).ok());
  Syncer syncer(client_, options({"session"}));
  ASSERT_TRUE(syncer.waitReady(10s));
  EXPECT_EQ(client_.snapshots.load(), 4);
  EXPECT_TRUE(syncer.get("session", "s1").has_value());
}

TEST_F(SyncerTest, ResumesWhereItWasAfterAStreamBreaks) {
  Syncer syncer(client_, options({"session"}));
  ASSERT_TRUE(syncer.waitReady(10s));
  client_.breakStreams();
  ASSERT_TRUE(backend_->put({rec("session", "after-break")}).ok());
  ASSERT_TRUE(changed_.waitFor([&] { return syncer.get("session", "after-break").has_value(); }));
  // It resumed the stream; it did not need a new snapshot.
  EXPECT_EQ(client_.snapshots.load(), 1);
  EXPECT_EQ(syncer.resyncs("session"), 0u);
}

}  // namespace
}  // namespace gatehouse::databroker::testing

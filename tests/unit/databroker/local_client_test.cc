#include "databroker/local_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "databroker/memory_backend.h"
#include "unit/databroker/test_util.h"

namespace gatehouse::databroker::testing {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

class LocalClientTest : public ::testing::Test {
 protected:
  std::shared_ptr<Backend> backend_ = makeMemoryBackend();
  std::unique_ptr<Client> client_ = makeLocalClient(backend_);
};

TEST_F(LocalClientTest, AnswersOnItsOwnThreadNeverInline) {
  std::thread::id caller = std::this_thread::get_id();
  std::promise<std::thread::id> answered_on;
  client_->get("t", "missing", [&](Result<Record> result) {
    EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
    answered_on.set_value(std::this_thread::get_id());
  });
  EXPECT_NE(answered_on.get_future().get(), caller);
}

TEST_F(LocalClientTest, WritesAndReadsThroughTheBackend) {
  auto put = call<PutResult>([&](auto done) { client_->put({rec("t", "1", R"({"a":1})")}, done); });
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto got = call<Record>([&](auto done) { client_->get("t", "1", done); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version, put->records[0].version);
  auto patched = call<PutResult>(
      [&](auto done) { client_->patch({rec("t", "1", R"({"b":2})")}, {"b"}, done); });
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(backend_->get("t", "1")->data, R"({"a":1,"b":2})");
  Query query;
  query.type = "t";
  auto queried = call<QueryResult>([&](auto done) { client_->query(query, done); });
  ASSERT_TRUE(queried.ok());
  EXPECT_EQ(queried->total_count, 1u);
  auto info = call<ServerInfo>([&](auto done) { client_->serverInfo(done); });
  EXPECT_EQ(info->latest_record_version, patched->records[0].version);
  auto types = call<std::vector<std::string>>([&](auto done) { client_->listTypes(done); });
  EXPECT_THAT(*types, ElementsAre("t"));
  TypeOptions options;
  options.capacity = 5;
  EXPECT_TRUE(call<void>([&](auto done) { client_->setOptions("t", options, done); }).ok());
  EXPECT_EQ(*call<TypeOptions>([&](auto done) { client_->getOptions("t", done); }), options);
  auto snapshot = call<Snapshot>([&](auto done) { client_->syncLatest("t", done); });
  EXPECT_EQ(snapshot->records.size(), 1u);
  auto cleared = call<ClearResult>([&](auto done) { client_->clear(done); });
  EXPECT_NE(cleared->new_server_version, cleared->old_server_version);
}

TEST_F(LocalClientTest, LeasesHaveIdsAndAreExclusive) {
  auto first = call<std::string>([&](auto done) { client_->acquireLease("job", 1min, done); });
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 32u);
  auto second = call<std::string>([&](auto done) { client_->acquireLease("job", 1min, done); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(call<void>([&](auto done) { client_->renewLease("job", *first, 1min, done); }).ok());
  auto stolen = call<void>([&](auto done) { client_->renewLease("job", "not-mine", 1min, done); });
  EXPECT_EQ(stolen.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(call<void>([&](auto done) { client_->releaseLease("job", *first, done); }).ok());
  EXPECT_TRUE(call<std::string>([&](auto done) { client_->acquireLease("job", 1min, done); }).ok());
}

// Collects what a change stream delivers.
struct Collector {
  std::mutex mutex;
  std::vector<Record> records;
  std::optional<Error> error;
  Signal signal;

  SyncHandler handler() {
    return {[this](std::vector<Record> batch) {
              {
                std::lock_guard lock(mutex);
                for (auto& r : batch) records.push_back(std::move(r));
              }
              signal.notify();
            },
            [this](Error e) {
              {
                std::lock_guard lock(mutex);
                error = std::move(e);
              }
              signal.notify();
            }};
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return records.size();
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.id);
    return out;
  }
  bool failed() {
    std::lock_guard lock(mutex);
    return error.has_value();
  }
};

TEST_F(LocalClientTest, SyncStreamsPastChangesThenNewOnesInOrder) {
  ASSERT_TRUE(backend_->put({rec("s", "1"), rec("other", "x"), rec("s", "2")}).ok());
  auto info = backend_->serverInfo();
  Collector collector;
  auto stream = client_->sync({info->server_version, 0}, "s", collector.handler());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.count() == 2; }));
  ASSERT_TRUE(backend_->put({rec("s", "3")}).ok());
  ASSERT_TRUE(backend_->put({deletion("s", "1")}).ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.count() == 4; }));
  EXPECT_THAT(collector.ids(), ElementsAre("1", "2", "3", "1"));
  std::lock_guard lock(collector.mutex);
  EXPECT_TRUE(collector.records.back().deleted());
  EXPECT_FALSE(collector.error.has_value());
}

TEST_F(LocalClientTest, NothingIsDeliveredAfterTheStreamIsDestroyed) {
  auto info = backend_->serverInfo();
  Collector collector;
  auto stream = client_->sync({info->server_version, 0}, "", collector.handler());
  ASSERT_TRUE(backend_->put({rec("s", "1")}).ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.count() == 1; }));
  stream.reset();
  ASSERT_TRUE(backend_->put({rec("s", "2")}).ok());
  // The client's pool is drained when the client goes away.
  client_.reset();
  EXPECT_EQ(collector.count(), 1u);
}

TEST_F(LocalClientTest, ClearingTheStoreAbortsTheStream) {
  auto info = backend_->serverInfo();
  Collector collector;
  auto stream = client_->sync({info->server_version, 0}, "", collector.handler());
  ASSERT_TRUE(backend_->clear().ok());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.failed(); }));
  std::lock_guard lock(collector.mutex);
  EXPECT_EQ(collector.error->code, ErrorCode::kAborted);
}

TEST_F(LocalClientTest, AStreamFromAnotherServerVersionIsAborted) {
  Collector collector;
  auto stream = client_->sync({12345, 0}, "", collector.handler());
  ASSERT_TRUE(collector.signal.waitFor([&] { return collector.failed(); }));
  std::lock_guard lock(collector.mutex);
  EXPECT_EQ(collector.error->code, ErrorCode::kAborted);
}

}  // namespace
}  // namespace gatehouse::databroker::testing

// The storage conformance suite: every test runs against memory, file and
// postgres, and asserts what a client of the Backend interface can observe.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "conformance/harness.h"

namespace gatehouse::databroker::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

Record rec(std::string type, std::string id, std::string data = "{}") {
  Record r;
  r.type = std::move(type);
  r.id = std::move(id);
  r.data = std::move(data);
  return r;
}

Record deletion(std::string type, std::string id) {
  Record r = rec(std::move(type), std::move(id), "");
  r.deleted_at = now();
  return r;
}

std::vector<std::string> ids(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

nlohmann::json json(const std::string& text) { return nlohmann::json::parse(text); }

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    harness_ = std::make_unique<StoreHarness>(GetParam());
    ASSERT_EQ(harness_->setupError(), "");
    clock_ = std::make_shared<TestClock>();
    reopen();
  }

  void reopen() {
    backend_.reset();
    auto opened = harness_->open(harness_->options(clock_));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    backend_ = std::move(*opened);
  }

  Backend& db() { return *backend_; }

  PutResult put(std::vector<Record> records) {
    auto result = db().put(std::move(records));
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
    return result.ok() ? *result : PutResult{};
  }

  uint64_t serverVersion() {
    auto info = db().serverInfo();
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->server_version : 0;
  }

  ChangeBatch changesAfter(uint64_t version, std::string_view type = "", size_t limit = 1000) {
    auto batch = db().changes({serverVersion(), version}, type, limit);
    EXPECT_TRUE(batch.ok()) << (batch.ok() ? "" : batch.error().message);
    return batch.ok() ? *batch : ChangeBatch{};
  }

  std::unique_ptr<StoreHarness> harness_;
  std::shared_ptr<TestClock> clock_;
  std::unique_ptr<Backend> backend_;
};

// The backends that keep data across a restart and share it between processes.
class PersistentConformance : public Conformance {};

TEST_P(Conformance, PutThenGetReturnsTheStoredRecord) {
  Timestamp before = clock_->now() - 1s;
  PutResult result = put({rec("session", "s1", R"({"user_id": "u1", "n": 1})")});
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.server_version, serverVersion());
  const Record& stored = result.records[0];
  EXPECT_GT(stored.version, 0u);
  EXPECT_GE(stored.modified_at, before);
  EXPECT_FALSE(stored.deleted());

  auto got = db().get("session", "s1");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->type, "session");
  EXPECT_EQ(got->id, "s1");
  EXPECT_EQ(got->version, stored.version);
  EXPECT_EQ(got->modified_at, stored.modified_at);
  EXPECT_EQ(json(got->data), json(R"({"n":1,"user_id":"u1"})"));
  EXPECT_EQ(got->data, stored.data);
}

TEST_P(Conformance, GetOfMissingOrDeletedRecordIsNotFound) {
  EXPECT_EQ(db().get("session", "nope").error().code, ErrorCode::kNotFound);
  put({rec("session", "s1")});
  put({deletion("session", "s1")});
  EXPECT_EQ(db().get("session", "s1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(db().get("user", "s1").error().code, ErrorCode::kNotFound);
}

TEST_P(Conformance, VersionsOnlyGrow) {
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    PutResult result = put({rec("a", "x"), rec("b", "y" + std::to_string(i)), deletion("a", "z")});
    ASSERT_EQ(result.records.size(), 3u);
    for (const auto& r : result.records) {
      EXPECT_GT(r.version, last);
      last = r.version;
    }
  }
  auto info = db().serverInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->latest_record_version, last);
  EXPECT_EQ(db().get("a", "x")->version, last - 2);
}

TEST_P(Conformance, InvalidPutsAreRefusedAndChangeNothing) {
  put({rec("t", "kept", R"({"v":1})")});
  uint64_t latest = db().serverInfo()->latest_record_version;
  auto no_type = db().put({rec("", "x")});
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(no_type.error().message, ::testing::HasSubstr("records[0].type"));
  auto no_id = db().put({rec("t", "ok"), rec("t", "")});
  ASSERT_FALSE(no_id.ok());
  EXPECT_THAT(no_id.error().message, ::testing::HasSubstr("records[1].id"));
  auto bad_data = db().put({rec("t", "kept", R"({"v":2})"), rec("t", "y", "[1,2]")});
  ASSERT_FALSE(bad_data.ok());
  EXPECT_THAT(bad_data.error().message, ::testing::HasSubstr("records[1].data"));
  EXPECT_EQ(db().get("t", "ok").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(json(db().get("t", "kept")->data), json(R"({"v":1})"));
  EXPECT_EQ(db().serverInfo()->latest_record_version, latest);
}

TEST_P(Conformance, DeleteAppearsInSyncWithTheRecordsLastData) {
  uint64_t start = db().serverInfo()->latest_record_version;
  put({rec("session", "s1", R"({"user_id":"u1"})")});
  PutResult deleted = put({deletion("session", "s1")});
  ASSERT_EQ(deleted.records.size(), 1u);
  EXPECT_TRUE(deleted.records[0].deleted());

  ChangeBatch batch = changesAfter(start);
  ASSERT_EQ(batch.records.size(), 2u);
  EXPECT_FALSE(batch.records[0].deleted());
  EXPECT_TRUE(batch.records[1].deleted());
  EXPECT_EQ(batch.records[1].id, "s1");
  EXPECT_EQ(batch.records[1].version, deleted.records[0].version);
  EXPECT_EQ(json(batch.records[1].data), json(R"({"user_id":"u1"})"));
  EXPECT_EQ(batch.record_version, deleted.records[0].version);
  EXPECT_FALSE(batch.more);
}

TEST_P(Conformance, SyncStreamsChangesInOrderFilteredByTypeAndLimited) {
  uint64_t start = db().serverInfo()->latest_record_version;
  for (int i = 0; i < 5; ++i)
    put({rec("a", "a" + std::to_string(i)), rec("b", "b" + std::to_string(i))});

  ChangeBatch all = changesAfter(start);
  ASSERT_EQ(all.records.size(), 10u);
  for (size_t i = 1; i < all.records.size(); ++i) {
    EXPECT_GT(all.records[i].version, all.records[i - 1].version);
  }

  ChangeBatch only_b = changesAfter(start, "b");
  EXPECT_THAT(ids(only_b.records), ElementsAre("b0", "b1", "b2", "b3", "b4"));
  EXPECT_EQ(only_b.record_version, all.records.back().version);

  ChangeBatch first = changesAfter(start, "", 3);
  EXPECT_THAT(ids(first.records), ElementsAre("a0", "b0", "a1"));
  EXPECT_TRUE(first.more);
  EXPECT_EQ(first.record_version, first.records.back().version);
  ChangeBatch rest = changesAfter(first.record_version, "", 100);
  EXPECT_EQ(rest.records.size(), 7u);
  EXPECT_FALSE(rest.more);

  ChangeBatch none = changesAfter(all.record_version);
  EXPECT_THAT(none.records, IsEmpty());
  EXPECT_EQ(none.record_version, all.record_version);
}

TEST_P(Conformance, SyncWithAnotherServerVersionIsAborted) {
  put({rec("a", "1")});
  auto batch = db().changes({serverVersion() + 1, 0}, "", 10);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code, ErrorCode::kAborted);
}

TEST_P(Conformance, SyncFromBeforeTheTrimmedChangeLogIsAborted) {
  PutResult old = put({rec("a", "old1"), rec("a", "old2")});
  clock_->advance(2h);
  PutResult recent = put({rec("a", "new")});
  ASSERT_TRUE(db().clean().ok());

  auto info = db().serverInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->earliest_record_version, recent.records[0].version);
  auto too_old = db().changes({info->server_version, old.records[0].version - 1}, "", 10);
  ASSERT_FALSE(too_old.ok());
  EXPECT_EQ(too_old.error().code, ErrorCode::kAborted);
  // One before the earliest retained change is still a valid position.
  auto ok = db().changes({info->server_version, info->earliest_record_version - 1}, "", 10);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_THAT(ids(ok->records), ElementsAre("new"));
  // Trimming the log does not delete records.
  EXPECT_TRUE(db().get("a", "old1").ok());
}

TEST_P(Conformance, SyncLatestIsASnapshotToContinueFrom) {
  put({rec("a", "2"), rec("a", "1"), rec("b", "x")});
  put({deletion("a", "2")});
  auto snapshot = db().latest("a");
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
  EXPECT_THAT(ids(snapshot->records), ElementsAre("1"));
  EXPECT_EQ(snapshot->server_version, serverVersion());
  EXPECT_EQ(snapshot->record_version, db().serverInfo()->latest_record_version);

  auto everything = db().latest("");
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->records.size(), 2u);

  auto after = db().changes({snapshot->server_version, snapshot->record_version}, "a", 10);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(after->records, IsEmpty());
  put({rec("a", "3")});
  after = db().changes({snapshot->server_version, snapshot->record_version}, "a", 10);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(ids(after->records), ElementsAre("3"));
}

TEST_P(Conformance, PatchReplacesOnlyTheMaskedFields) {
  PutResult first =
      put({rec("user", "u1", R"({"name":"Ann","email":"a@x","claims":{"groups":["g"],"x":1}})")});
  auto patched = db().patch({rec("user", "u1", R"({"name":"Bob","claims":{"groups":["h"]}})"),
                             rec("user", "missing", R"({"name":"Zed"})")},
                            {"name", "claims.groups", "email"});
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  ASSERT_EQ(patched->records.size(), 1u);  // missing records are skipped
  EXPECT_GT(patched->records[0].version, first.records[0].version);
  auto got = db().get("user", "u1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(json(got->data), json(R"({"name":"Bob","claims":{"groups":["h"],"x":1}})"));
  EXPECT_EQ(got->version, patched->records[0].version);
  EXPECT_EQ(db().get("user", "missing").error().code, ErrorCode::kNotFound);

  auto no_mask = db().patch({rec("user", "u1")}, {});
  ASSERT_FALSE(no_mask.ok());
  EXPECT_EQ(no_mask.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(Conformance, QueryOrdersByIdWithOffsetLimitAndTotal) {
  for (const char* id : {"c", "a", "e", "b", "d"}) put({rec("q", id)});
  put({rec("other", "a")});
  Query query;
  query.type = "q";
  auto all = db().query(query);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_THAT(ids(all->records), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(all->total_count, 5u);
  EXPECT_EQ(all->server_version, serverVersion());
  EXPECT_EQ(all->record_version, db().serverInfo()->latest_record_version);

  query.offset = 1;
  query.limit = 2;
  auto page = db().query(query);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(ids(page->records), ElementsAre("b", "c"));
  EXPECT_EQ(page->total_count, 5u);

  query.offset = 10;  // past the end: no records, still the total
  auto beyond = db().query(query);
  ASSERT_TRUE(beyond.ok()) << beyond.error().message;
  EXPECT_THAT(beyond->records, IsEmpty());
  EXPECT_EQ(beyond->total_count, 5u);
  query.search = "d";
  beyond = db().query(query);
  ASSERT_TRUE(beyond.ok()) << beyond.error().message;
  EXPECT_EQ(beyond->total_count, 1u);
  query.search = "";

  Query empty_type;
  EXPECT_EQ(db().query(empty_type).error().code, ErrorCode::kInvalidArgument);
  Query unknown;
  unknown.type = "never-written";
  EXPECT_THAT(db().query(unknown)->records, IsEmpty());
}

TEST_P(Conformance, QuerySearchesIdAndIndexedFieldsAndFiltersByEquality) {
  TypeOptions options;
  options.indexed_fields = {"user_id", "email", "level", "admin"};
  ASSERT_TRUE(db().setOptions("s", options).ok());
  put({rec("s", "sess-AAA", R"({"user_id":"alice","email":"Alice@Example.com","level":3})"),
       rec("s", "sess-BBB", R"({"user_id":"bob","email":"bob@example.com","admin":true})"),
       rec("s", "sess-CCC", R"({"user_id":"alice","note":"bob","level":"3"})")});

  Query query;
  query.type = "s";
  query.search = "example.COM";
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-AAA", "sess-BBB"));
  query.search = "ccc";
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-CCC"));
  query.search = "bob";  // "note" is not indexed, so sess-CCC does not match
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-BBB"));

  query.search = "";
  query.filter = {{"user_id", "alice"}};
  auto alice = db().query(query);
  EXPECT_THAT(ids(alice->records), ElementsAre("sess-AAA", "sess-CCC"));
  EXPECT_EQ(alice->total_count, 2u);
  query.filter = {{"level", "3"}};  // a number and a string with the same text
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-AAA", "sess-CCC"));
  query.filter = {{"admin", "true"}};
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-BBB"));
  query.filter = {{"user_id", "alice"}, {"id", "sess-CCC"}};
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-CCC"));
  query.filter = {{"user_id", "alice"}};
  query.search = "aaa";
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("sess-AAA"));

  query.search = "";
  query.filter = {{"note", "bob"}};
  auto unindexed = db().query(query);
  ASSERT_FALSE(unindexed.ok());
  EXPECT_EQ(unindexed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(unindexed.error().message, ::testing::HasSubstr("note"));
}

TEST_P(Conformance, OptionsRoundTripAndListTypes) {
  auto defaults = db().getOptions("t");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(*defaults, TypeOptions{});
  TypeOptions options;
  options.capacity = 10;
  options.ttl = 15min;
  options.indexed_fields = {"user_id", "session_id"};
  ASSERT_TRUE(db().setOptions("t", options).ok());
  EXPECT_EQ(*db().getOptions("t"), options);
  EXPECT_EQ(db().setOptions("", options).error().code, ErrorCode::kInvalidArgument);

  put({rec("t", "1"), rec("u", "1"), rec("v", "1")});
  put({deletion("v", "1")});
  auto types = db().listTypes();
  ASSERT_TRUE(types.ok()) << types.error().message;
  std::vector<std::string> sorted = *types;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_THAT(sorted, ElementsAre("t", "u"));
}

TEST_P(Conformance, CapacityEvictsTheOldestRecords) {
  TypeOptions options;
  options.capacity = 3;
  ASSERT_TRUE(db().setOptions("cap", options).ok());
  uint64_t start = db().serverInfo()->latest_record_version;
  for (int i = 1; i <= 5; ++i) put({rec("cap", "r" + std::to_string(i))});
  put({rec("cap", "r3", R"({"touched":true})")});  // r3 becomes the newest
  put({rec("cap", "r6")});

  Query query;
  query.type = "cap";
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("r3", "r5", "r6"));
  std::vector<std::string> evicted;
  for (const auto& change : changesAfter(start).records) {
    if (change.deleted()) evicted.push_back(change.id);
  }
  EXPECT_THAT(evicted, ElementsAre("r1", "r2", "r4"));

  // Lowering the capacity applies at once.
  options.capacity = 1;
  ASSERT_TRUE(db().setOptions("cap", options).ok());
  EXPECT_THAT(ids(db().query(query)->records), ElementsAre("r6"));
}

TEST_P(Conformance, TtlRemovesRecordsNotWrittenForThatLong) {
  TypeOptions options;
  options.ttl = 10min;
  ASSERT_TRUE(db().setOptions("ttl", options).ok());
  put({rec("ttl", "old"), rec("other", "old")});
  clock_->advance(6min);
  put({rec("ttl", "fresh")});
  clock_->advance(6min);
  uint64_t before = db().serverInfo()->latest_record_version;
  ASSERT_TRUE(db().clean().ok());

  EXPECT_EQ(db().get("ttl", "old").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(db().get("ttl", "fresh").ok());
  EXPECT_TRUE(db().get("other", "old").ok());
  ChangeBatch batch = changesAfter(before);
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].id, "old");
  EXPECT_TRUE(batch.records[0].deleted());
}

TEST_P(Conformance, ClearStartsANewServerVersion) {
  PutResult put_result = put({rec("a", "1")});
  ASSERT_TRUE(db().acquireLease("job", "me", 1min).ok());
  uint64_t old_server = serverVersion();
  auto cleared = db().clear();
  ASSERT_TRUE(cleared.ok()) << cleared.error().message;
  EXPECT_EQ(cleared->old_server_version, old_server);
  EXPECT_NE(cleared->new_server_version, old_server);
  EXPECT_EQ(serverVersion(), cleared->new_server_version);
  EXPECT_EQ(db().get("a", "1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(db().changes({old_server, 0}, "", 10).error().code, ErrorCode::kAborted);
  EXPECT_EQ(*db().acquireLease("job", "other", 1min), true);

  PutResult after = put({rec("a", "2")});
  EXPECT_GT(after.records[0].version, put_result.records[0].version);
  auto snapshot = db().latest("");
  EXPECT_THAT(ids(snapshot->records), ElementsAre("2"));
  auto stream = db().changes({snapshot->server_version, snapshot->record_version - 1}, "", 10);
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  EXPECT_THAT(ids(stream->records), ElementsAre("2"));
}

TEST_P(Conformance, LeasesAreExclusiveUntilReleasedOrExpired) {
  EXPECT_EQ(*db().acquireLease("job", "a", 30s), true);
  EXPECT_EQ(*db().acquireLease("job", "b", 30s), false);
  EXPECT_EQ(*db().acquireLease("other-job", "b", 30s), true);
  EXPECT_EQ(*db().renewLease("job", "a", 30s), true);
  EXPECT_EQ(*db().renewLease("job", "b", 30s), false);
  ASSERT_TRUE(db().releaseLease("job", "b").ok());  // not the holder: no effect
  EXPECT_EQ(*db().acquireLease("job", "b", 30s), false);
  ASSERT_TRUE(db().releaseLease("job", "a").ok());
  EXPECT_EQ(*db().acquireLease("job", "b", 30s), true);

  clock_->advance(31s);
  EXPECT_EQ(*db().renewLease("job", "b", 30s), false);  // expired
  EXPECT_EQ(*db().acquireLease("job", "c", 30s), true);
  clock_->advance(20s);
  EXPECT_EQ(*db().renewLease("job", "c", 30s), true);
  clock_->advance(20s);
  EXPECT_EQ(*db().acquireLease("job", "d", 30s), false);  // renewed 20s ago for 30s
}

TEST_P(Conformance, LeasesAreExclusiveUnderConcurrency) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto acquired = db().acquireLease("singleton", "holder-" + std::to_string(i), 1min);
      if (acquired.ok() && *acquired) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(Conformance, ConcurrentWritersGetDistinctVersionsAndLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kPuts = 50;
  uint64_t start = db().serverInfo()->latest_record_version;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<uint64_t> versions;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        auto result = db().put({rec("c", std::to_string(t) + "-" + std::to_string(i)),
                                rec("shared", "same", R"({"by":)" + std::to_string(t) + "}")});
        ASSERT_TRUE(result.ok()) << result.error().message;
        std::lock_guard lock(mutex);
        for (const auto& r : result->records) versions.insert(r.version);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(versions.size(), size_t{kThreads * kPuts * 2});
  Query query;
  query.type = "c";
  EXPECT_EQ(db().query(query)->total_count, uint64_t{kThreads * kPuts});
  ChangeBatch batch = changesAfter(start, "", 100000);
  EXPECT_EQ(batch.records.size(), size_t{kThreads * kPuts * 2});
  EXPECT_EQ(db().get("shared", "same")->version, *versions.rbegin());
}

TEST_P(Conformance, ChangeNotifierWakesWaitersOnCommit) {
  uint64_t latest = db().serverInfo()->latest_record_version;
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    put({rec("n", "1")});
  });
  bool woke = db().notifier().waitNewer(latest, std::chrono::steady_clock::now() + 10s);
  writer.join();
  EXPECT_TRUE(woke);
  EXPECT_GT(db().notifier().latest(), latest);
}

TEST_P(PersistentConformance, RecordsVersionsAndServerVersionSurviveReopening) {
  TypeOptions options;
  options.capacity = 100;
  options.indexed_fields = {"user_id"};
  ASSERT_TRUE(db().setOptions("session", options).ok());
  PutResult written = put({rec("session", "s1", R"({"user_id":"u1"})"), rec("session", "s2")});
  put({deletion("session", "s2")});
  ASSERT_TRUE(db().acquireLease("job", "holder", 1h).ok());
  auto info = db().serverInfo();
  ASSERT_TRUE(info.ok());

  reopen();
  auto reopened = db().serverInfo();
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->server_version, info->server_version);
  EXPECT_EQ(reopened->latest_record_version, info->latest_record_version);
  auto got = db().get("session", "s1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, written.records[0]);
  EXPECT_EQ(db().get("session", "s2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*db().getOptions("session"), options);
  EXPECT_EQ(*db().acquireLease("job", "someone-else", 1h), false);
  EXPECT_EQ(changesAfter(written.records[0].version - 1).records.size(), 3u);
  PutResult next = put({rec("session", "s3")});
  EXPECT_GT(next.records[0].version, info->latest_record_version);
}

TEST_P(PersistentConformance, TwoProcessesWritingConcurrentlyLoseNothing) {
  constexpr int kPerProcess = 100;
  uint64_t start = db().serverInfo()->latest_record_version;
  Child first(
      {"write", harness_->kind(), harness_->connection(), "p1", std::to_string(kPerProcess)});
  Child second(
      {"write", harness_->kind(), harness_->connection(), "p2", std::to_string(kPerProcess)});
  // This process writes too, at the same time.
  for (int i = 0; i < kPerProcess; ++i) put({rec("proc", "p0-" + std::to_string(i))});
  std::string line;
  EXPECT_TRUE(first.readLine(line));
  EXPECT_EQ(line, "done");
  EXPECT_TRUE(second.readLine(line));
  EXPECT_EQ(line, "done");
  EXPECT_EQ(first.wait(), 0);
  EXPECT_EQ(second.wait(), 0);

  Query query;
  query.type = "proc";
  EXPECT_EQ(db().query(query)->total_count, uint64_t{3 * kPerProcess});
  ChangeBatch batch = changesAfter(start, "", 100000);
  ASSERT_EQ(batch.records.size(), size_t{3 * kPerProcess});
  std::set<uint64_t> versions;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    versions.insert(batch.records[i].version);
    if (i > 0) EXPECT_GT(batch.records[i].version, batch.records[i - 1].version);
  }
  EXPECT_EQ(versions.size(), batch.records.size());
}

TEST_P(PersistentConformance, AnotherProcessesWriteWakesChangeStreams) {
  uint64_t latest = db().serverInfo()->latest_record_version;
  Child writer({"write", harness_->kind(), harness_->connection(), "w", "1"});
  bool woke = db().notifier().waitNewer(latest, std::chrono::steady_clock::now() + 10s);
  EXPECT_TRUE(woke);
  EXPECT_EQ(writer.wait(), 0);
  ChangeBatch batch = changesAfter(latest);
  EXPECT_THAT(ids(batch.records), ElementsAre("w-0"));
}

TEST_P(PersistentConformance, KillingAWriterLosesNothingItAcknowledged) {
  std::vector<std::pair<std::string, uint64_t>> acknowledged;
  {
    Child writer({"write-forever", harness_->kind(), harness_->connection(), "k"});
    std::string line;
    while (acknowledged.size() < 150 && writer.readLine(line)) {
      auto space = line.find(' ');
      acknowledged.emplace_back(line.substr(0, space), std::stoull(line.substr(space + 1)));
    }
    writer.kill9();
    EXPECT_EQ(writer.wait(), -SIGKILL);
  }
  ASSERT_EQ(acknowledged.size(), 150u);
  reopen();
  for (const auto& [id, version] : acknowledged) {
    auto got = db().get("proc", id);
    ASSERT_TRUE(got.ok()) << id << ": " << got.error().message;
    EXPECT_EQ(got->version, version);
  }
}

std::string backendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Backends, Conformance, ::testing::Values("memory", "file", "postgres"),
                         backendName);
INSTANTIATE_TEST_SUITE_P(Backends, PersistentConformance, ::testing::Values("file", "postgres"),
                         backendName);

}  // namespace
}  // namespace gatehouse::databroker::testing

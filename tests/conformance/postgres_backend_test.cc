// What only the postgres backend promises: errors at start-up that name the
// setting, Unavailable while the server is down and recovery after it comes
// back, change streams across a reconnect, and failover of a multi-host URI.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "conformance/harness.h"

namespace gatehouse::databroker::testing {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::PostgresServer;

Record rec(std::string id) {
  Record r;
  r.type = "t";
  r.id = std::move(id);
  r.data = R"({"v":1})";
  return r;
}

// Retries `attempt` until it succeeds or `timeout` passes: recovery after a
// server restart has no event to wait for.
template <typename Attempt>
auto eventually(Attempt attempt, std::chrono::seconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto result = attempt();
  while (!result.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    result = attempt();
  }
  return result;
}

Result<std::unique_ptr<Backend>> open(const std::string& uri) {
  StorageOptions options;
  options.type = "postgres";
  options.connection_string = uri;
  return openBackend(options);
}

TEST(PostgresBackend, AnUnreachableServerIsAnErrorNamingTheSetting) {
  // A port nothing listens on: the one of a server that was stopped.
  PostgresServer stopped;
  std::string error;
  ASSERT_TRUE(stopped.start(error)) << error;
  std::string uri = stopped.uri("postgres");
  stopped.stop();
  auto opened = open(uri);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(
      opened.error().message,
      ::testing::StartsWith("databroker_storage_connection_string: cannot connect to PostgreSQL"));
}

TEST(PostgresBackend, AMalformedConnectionStringIsAnErrorNamingTheSetting) {
  StorageOptions options;
  options.type = "postgres";
  options.connection_string = "postgresql://host:port:what/db?nonsense_option=1";
  options.connection_setting = "databroker_storage_connection_string_file";
  auto opened = openBackend(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message,
              ::testing::StartsWith("databroker_storage_connection_string_file: "));
}

TEST(PostgresBackend, ProcessesStartingTogetherCreateTheSchemaOnce) {
  StoreHarness harness("postgres");
  ASSERT_EQ(harness.setupError(), "");
  constexpr int kProcesses = 4;
  std::vector<std::unique_ptr<Backend>> backends(kProcesses);
  std::vector<std::string> errors(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      auto opened = open(harness.connection());
      if (opened.ok()) {
        backends[i] = std::move(*opened);
      } else {
        errors[i] = opened.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> server_versions;
  for (int i = 0; i < kProcesses; ++i) {
    ASSERT_TRUE(backends[i]) << errors[i];
    server_versions.insert(backends[i]->serverInfo()->server_version);
  }
  EXPECT_EQ(server_versions.size(), 1u);
}

TEST(PostgresBackend, OperationsFailWithUnavailableWhileTheServerIsDownAndRecoverAfter) {
  PostgresServer server;
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  std::string uri = server.createDatabase("restart");
  ASSERT_NE(uri, "");
  auto opened = open(uri);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Backend& db = **opened;
  auto written = db.put({rec("before")});
  ASSERT_TRUE(written.ok()) << written.error().message;
  uint64_t server_version = written->server_version;

  ASSERT_TRUE(server.stop());
  auto put_while_down = db.put({rec("during")});
  ASSERT_FALSE(put_while_down.ok());
  EXPECT_EQ(put_while_down.error().code, ErrorCode::kUnavailable);
  auto get_while_down = db.get("t", "before");
  ASSERT_FALSE(get_while_down.ok());
  EXPECT_EQ(get_while_down.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(db.changes({server_version, 0}, "", 10).error().code, ErrorCode::kUnavailable);

  ASSERT_TRUE(server.restart(error)) << error;
  auto got = eventually([&] { return db.get("t", "before"); });
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->version, written->records[0].version);
  auto after = db.put({rec("after")});
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->server_version, server_version);
  EXPECT_GT(after->records[0].version, written->records[0].version);

  // The notification connection came back too: a write by another process
  // (here another backend instance) wakes this one's change streams.
  auto other = open(uri);
  ASSERT_TRUE(other.ok()) << other.error().message;
  uint64_t latest = after->records[0].version;
  bool woke = false;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!woke && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*other)->put({rec("from-other")}).ok());
    woke = db.notifier().waitNewer(latest, std::chrono::steady_clock::now() + 1s);
  }
  EXPECT_TRUE(woke);
}

TEST(PostgresBackend, AMultiHostUriFollowsTheWritableServer) {
  PostgresServer primary;
  PostgresServer standby;
  std::string error;
  ASSERT_TRUE(primary.start(error)) << error;
  ASSERT_TRUE(standby.start(error)) << error;
  ASSERT_NE(primary.createDatabase("app"), "");
  ASSERT_NE(standby.createDatabase("app"), "");
  // The standby refuses writes until it is "promoted", as a hot standby does.
  ASSERT_TRUE(standby.execute("postgres", "ALTER SYSTEM SET default_transaction_read_only = on"));
  ASSERT_TRUE(standby.execute("postgres", "SELECT pg_reload_conf()"));

  std::string uri = "postgresql://postgres@127.0.0.1:" + std::to_string(primary.port()) +
                    ",127.0.0.1:" + std::to_string(standby.port()) +
                    "/app?target_session_attrs=read-write";
  auto opened = open(uri);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Backend& db = **opened;
  auto first = db.put({rec("on-primary")});
  ASSERT_TRUE(first.ok()) << first.error().message;

  ASSERT_TRUE(primary.stop());
  auto while_read_only = db.put({rec("nowhere")});
  ASSERT_FALSE(while_read_only.ok());
  EXPECT_EQ(while_read_only.error().code, ErrorCode::kUnavailable);

  ASSERT_TRUE(standby.execute("postgres", "ALTER SYSTEM SET default_transaction_read_only = off"));
  ASSERT_TRUE(standby.execute("postgres", "SELECT pg_reload_conf()"));
  auto promoted = eventually([&] { return db.put({rec("on-standby")}); });
  ASSERT_TRUE(promoted.ok()) << promoted.error().message;
  // The standby here is a separate store, not a replica, so it has its own
  // server version: change streams will start over, as they must.
  EXPECT_NE(promoted->server_version, first->server_version);
  EXPECT_TRUE(db.get("t", "on-standby").ok());
}

}  // namespace
}  // namespace gatehouse::databroker::testing

// What only the file (SQLite) backend promises.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "conformance/harness.h"

namespace gatehouse::databroker::testing {
namespace {

TEST(FileBackend, AnUnusablePathIsAnErrorNamingTheSetting) {
  StorageOptions options;
  options.type = "file";
  options.connection_string = "/nonexistent-dir/sub/databroker.db";
  auto opened = openBackend(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message,
              ::testing::StartsWith("databroker_storage_connection_string: "));
  EXPECT_THAT(opened.error().message, ::testing::HasSubstr("/nonexistent-dir/sub/databroker.db"));

  options.connection_string = "";
  opened = openBackend(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message,
              ::testing::HasSubstr("databroker_storage_connection_string: required"));
}

TEST(FileBackend, AFileThatIsNotADatabaseIsRefused) {
  StoreHarness harness("file");
  {
    FILE* f = std::fopen(harness.connection().c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an SQLite database, just some text that is long enough", f);
    std::fclose(f);
  }
  StorageOptions options;
  options.type = "file";
  options.connection_string = "file://" + harness.connection();
  options.connection_setting = "databroker_storage_connection_string_file";
  auto opened = openBackend(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message,
              ::testing::StartsWith("databroker_storage_connection_string_file: "));
}

TEST(FileBackend, TheDatabaseIsInWalModeAndAcceptsAFileUrl) {
  StoreHarness harness("file");
  StorageOptions options;
  options.type = "file";
  options.connection_string = "file://" + harness.connection();
  auto opened = openBackend(options);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Record record;
  record.type = "t";
  record.id = "1";
  ASSERT_TRUE((*opened)->put({record}).ok());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(harness.connection().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace gatehouse::databroker::testing

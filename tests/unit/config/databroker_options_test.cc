#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(DatabrokerOptionsTest, DefaultsToTheMemoryBackend) {
  Options o = testing::loadOk("");
  EXPECT_EQ(o.databroker.storage_type, "memory");
  EXPECT_EQ(o.databroker.storage_connection_string, "");
  EXPECT_EQ(o.databroker.grpc_address, "");
  EXPECT_THAT(o.databroker.service_urls, IsEmpty());
  EXPECT_EQ(o.extra.count("databroker_storage_type"), 0u);
}

TEST(DatabrokerOptionsTest, ReadsPostgresSettingsAndServiceAddresses) {
  Options o = testing::loadOk(R"(
databroker_storage_type: postgres
databroker_storage_connection_string: postgresql://gatehouse@db1:5432,db2:5432/gatehouse?target_session_attrs=read-write
grpc_address: ":5443"
databroker_service_urls: [http://10.0.0.1:5443, http://10.0.0.2:5443]
)");
  EXPECT_EQ(o.databroker.storage_type, "postgres");
  EXPECT_EQ(o.databroker.storage_connection_string,
            "postgresql://gatehouse@db1:5432,db2:5432/gatehouse?target_session_attrs=read-write");
  EXPECT_EQ(o.databroker.storage_connection_setting, "databroker_storage_connection_string");
  EXPECT_EQ(o.databroker.grpc_address, ":5443");
  EXPECT_THAT(o.databroker.service_urls,
              ElementsAre("http://10.0.0.1:5443", "http://10.0.0.2:5443"));
  EXPECT_EQ(o.extra.count("grpc_address"), 0u);
}

TEST(DatabrokerOptionsTest, AnUnknownStorageTypeNamesTheKey) {
  EXPECT_THAT(testing::load("databroker_storage_type: foo\n").errors,
              ElementsAre("databroker_storage_type: \"foo\" is not one of memory, file, postgres"));
}

TEST(DatabrokerOptionsTest, FileAndPostgresNeedAConnectionString) {
  EXPECT_THAT(testing::load("databroker_storage_type: postgres\n").errors,
              ElementsAre("databroker_storage_connection_string: required when "
                          "databroker_storage_type is postgres"));
  EXPECT_THAT(testing::load("databroker_storage_type: file\n").errors,
              ElementsAre("databroker_storage_connection_string: required when "
                          "databroker_storage_type is file"));
  EXPECT_THAT(testing::load("databroker_storage_type: postgres\n"
                            "databroker_storage_connection_string: db.example.com\n")
                  .errors,
              ElementsAre("databroker_storage_connection_string: expected a postgres:// or "
                          "postgresql:// URI or libpq key=value pairs"));
  Options keywords = testing::loadOk(
      "databroker_storage_type: postgres\n"
      "databroker_storage_connection_string: host=db dbname=gh\n");
  EXPECT_EQ(keywords.databroker.storage_connection_string, "host=db dbname=gh");
}

TEST(DatabrokerOptionsTest, FilePathsResolveAgainstTheConfigFile) {
  testing::TempDir dir;
  std::string config =
      dir.write("etc/gatehouse.yaml",
                "databroker_storage_type: file\n"
                "databroker_storage_connection_string: file://../data/db.sqlite\n");
  LoadResult r = loadFile(config, testing::secretsEnv());
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->databroker.storage_connection_string, dir.str() + "/data/db.sqlite");
}

TEST(DatabrokerOptionsTest, TheConnectionStringCanComeFromAFile) {
  testing::TempDir dir;
  dir.write("secrets/db", "postgres://gatehouse:secret@db/gatehouse\n");
  std::string config = dir.write("gatehouse.yaml",
                                 "databroker_storage_type: postgres\n"
                                 "databroker_storage_connection_string: postgres://ignored\n"
                                 "databroker_storage_connection_string_file: secrets/db\n");
  LoadResult r = loadFile(config, testing::secretsEnv());
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->databroker.storage_connection_string,
            "postgres://gatehouse:secret@db/gatehouse");
  EXPECT_EQ(r.options->databroker.storage_connection_setting,
            "databroker_storage_connection_string_file");
  EXPECT_THAT(r.options->watched_files, ElementsAre(dir.str() + "/secrets/db"));
  EXPECT_THAT(r.warnings,
              ElementsAre(::testing::HasSubstr("databroker_storage_connection_string")));

  LoadResult missing = testing::load(
      "databroker_storage_type: postgres\n"
      "databroker_storage_connection_string_file: /nonexistent/db\n");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_THAT(missing.errors[0],
              ::testing::StartsWith("databroker_storage_connection_string_file: "));
}

TEST(DatabrokerOptionsTest, BadAddressesAndUrlsNameTheirKey) {
  EXPECT_THAT(testing::load("grpc_address: nonsense\n").errors,
              ElementsAre(::testing::StartsWith("grpc_address: invalid address")));
  EXPECT_THAT(testing::load("databroker_service_url: databroker:5443\n").errors,
              ElementsAre("databroker_service_url: \"databroker:5443\" is not an http:// or "
                          "https:// URL"));
}

TEST(DatabrokerOptionsTest, SettingsComeFromTheEnvironmentToo) {
  Options o = testing::loadOk("", {{"DATABROKER_STORAGE_TYPE", "postgres"},
                                   {"DATABROKER_STORAGE_CONNECTION_STRING", "postgres://db/x"}});
  EXPECT_EQ(o.databroker.storage_type, "postgres");
  EXPECT_EQ(o.databroker.storage_connection_string, "postgres://db/x");
}

}  // namespace
}  // namespace gatehouse::config

namespace gatehouse::config {
namespace {

TEST(DatabrokerRetention, DefaultsToOneHourAndIsConfigurable) {
  LoadResult plain = loadText("address: :443\n", "/tmp", {});
  ASSERT_TRUE(plain.options) << (plain.errors.empty() ? "" : plain.errors[0]);
  EXPECT_EQ(plain.options->databroker.change_log_retention, Duration(std::chrono::hours(1)));
  LoadResult set = loadText("databroker_change_log_retention: 10m\n", "/tmp", {});
  ASSERT_TRUE(set.options);
  EXPECT_EQ(set.options->databroker.change_log_retention, Duration(std::chrono::minutes(10)));
  LoadResult zero = loadText("databroker_change_log_retention: 0s\n", "/tmp", {});
  ASSERT_FALSE(zero.options);
  ASSERT_EQ(zero.errors.size(), 1u);
  EXPECT_EQ(zero.errors[0], "databroker_change_log_retention: must be a positive duration");
}

}  // namespace
}  // namespace gatehouse::config

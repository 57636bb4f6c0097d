#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;

TEST(ObservabilityOptionsTest, OffByDefaultWithPomeriumsPrefix) {
  Options o = testing::loadOk("");
  EXPECT_EQ(o.observability.metrics_address, "");
  EXPECT_EQ(o.observability.metrics_credentials, "");
  EXPECT_EQ(o.observability.metrics_prefix, "pomerium_");
  EXPECT_EQ(o.observability.health_check_address, "");
}

TEST(ObservabilityOptionsTest, ReadsTheKeysIntoTypedOptions) {
  Options o = testing::loadOk(R"(
metrics_address: ":9090"
metrics_basic_auth: dXNlcjpwYXNz
metrics_prefix: gatehouse_
health_check_addr: 127.0.0.1:28080
)");
  EXPECT_EQ(o.observability.metrics_address, ":9090");
  EXPECT_EQ(o.observability.metrics_credentials, "user:pass");
  EXPECT_EQ(o.observability.metrics_prefix, "gatehouse_");
  EXPECT_EQ(o.observability.health_check_address, "127.0.0.1:28080");
  EXPECT_EQ(o.extra.count("metrics_address"), 0u);
  EXPECT_EQ(o.extra.count("metrics_basic_auth"), 0u);
  EXPECT_EQ(o.extra.count("health_check_addr"), 0u);
}

TEST(ObservabilityOptionsTest, ComesFromTheEnvironmentToo) {
  Options o = testing::loadOk("", {{"METRICS_ADDRESS", "127.0.0.1:0"}, {"METRICS_PREFIX", "gh_"}});
  EXPECT_EQ(o.observability.metrics_address, "127.0.0.1:0");
  EXPECT_EQ(o.observability.metrics_prefix, "gh_");
}

TEST(ObservabilityOptionsTest, ErrorsNameTheKey) {
  EXPECT_THAT(testing::load("metrics_address: localhost\n").errors,
              ElementsAre("metrics_address: \"localhost\" is not a listen address such as :9090"));
  EXPECT_THAT(testing::load("metrics_basic_auth: dXNlcnBhc3M=\n").errors,
              ElementsAre("metrics_basic_auth: must be base64 of user:password"));
  EXPECT_THAT(testing::load("metrics_prefix: 1x\n").errors,
              ElementsAre("metrics_prefix: \"1x\" is not a metric name prefix (letters, digits, _ "
                          "and :)"));
  EXPECT_THAT(testing::load("health_check_addr: \"[::1]:x\"\n").errors,
              ElementsAre("health_check_addr: \"[::1]:x\" is not a listen address such as "
                          "127.0.0.1:28080"));
}

}  // namespace
}  // namespace gatehouse::config

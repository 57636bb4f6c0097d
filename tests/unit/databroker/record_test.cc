#include "databroker/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "databroker/change_notifier.h"

namespace gatehouse::databroker {
namespace {

using namespace std::chrono_literals;

TEST(NormalizeData, AcceptsObjectsOnlyAndCompacts) {
  EXPECT_EQ(*normalizeData(R"({ "b": 1,  "a": [1, 2] })"), R"({"a":[1,2],"b":1})");
  EXPECT_EQ(*normalizeData(""), "{}");
  EXPECT_FALSE(normalizeData("[1]").ok());
  EXPECT_FALSE(normalizeData("\"text\"").ok());
  EXPECT_FALSE(normalizeData("{bad json").ok());
}

TEST(ApplyFieldMask, ReplacesAddsAndRemovesNamedPaths) {
  std::string current = R"({"a":1,"b":{"c":2,"d":3},"e":4})";
  EXPECT_EQ(*applyFieldMask(current, R"({"a":10})", {"a"}), R"({"a":10,"b":{"c":2,"d":3},"e":4})");
  EXPECT_EQ(*applyFieldMask(current, R"({"b":{"c":20}})", {"b.c"}),
            R"({"a":1,"b":{"c":20,"d":3},"e":4})");
  // Named but absent in the patch: removed.
  EXPECT_EQ(*applyFieldMask(current, R"({})", {"e", "b.d"}), R"({"a":1,"b":{"c":2}})");
  // New nested paths are created.
  EXPECT_EQ(*applyFieldMask(R"({})", R"({"x":{"y":{"z":1}}})", {"x.y.z"}),
            R"({"x":{"y":{"z":1}}})");
  // Unnamed fields of the patch are ignored.
  EXPECT_EQ(*applyFieldMask(R"({"a":1})", R"({"a":2,"b":3})", {"a"}), R"({"a":2})");
  EXPECT_FALSE(applyFieldMask("[]", "{}", {"a"}).ok());
}

TEST(ValidateFieldMask, RefusesEmptyMasksAndPaths) {
  EXPECT_FALSE(validateFieldMask({}).ok());
  EXPECT_FALSE(validateFieldMask({"a..b"}).ok());
  EXPECT_FALSE(validateFieldMask({""}).ok());
  EXPECT_TRUE(validateFieldMask({"a", "b.c"}).ok());
}

TEST(FieldText, ScalarsAsText) {
  std::string data = R"({"s":"x","n":5,"f":1.5,"b":false,"o":{},"a":[],"z":null})";
  EXPECT_EQ(fieldText(data, "s"), "x");
  EXPECT_EQ(fieldText(data, "n"), "5");
  EXPECT_EQ(fieldText(data, "f"), "1.5");
  EXPECT_EQ(fieldText(data, "b"), "false");
  EXPECT_EQ(fieldText(data, "o"), std::nullopt);
  EXPECT_EQ(fieldText(data, "a"), std::nullopt);
  EXPECT_EQ(fieldText(data, "z"), std::nullopt);
  EXPECT_EQ(fieldText(data, "missing"), std::nullopt);
}

TEST(ValidatePut, NamesTheRecordAtFault) {
  std::vector<Record> records(2);
  records[0].type = "t";
  records[0].id = "1";
  records[1].type = "t";
  records[1].id = "2";
  records[1].data = "not json";
  auto result = validatePut(records);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "records[1].data: not a JSON object");
}

TEST(ServerVersion, IsNeverZeroAndFitsASignedInteger) {
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = newServerVersion();
    EXPECT_NE(v, 0u);
    EXPECT_LT(v, uint64_t{1} << 63);
  }
}

TEST(ChangeNotifier, WakesWaitersAndWatches) {
  ChangeNotifier notifier;
  int calls = 0;
  auto watch = notifier.watch([&] { ++calls; });
  notifier.publish(3);
  notifier.publish(2);  // never goes down, and does not wake anyone
  EXPECT_EQ(notifier.latest(), 3u);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(notifier.waitNewer(2, std::chrono::steady_clock::now()));
  EXPECT_FALSE(notifier.waitNewer(3, std::chrono::steady_clock::now() + 10ms));
  notifier.wakeAll();
  EXPECT_EQ(calls, 2);
  watch.reset();
  notifier.publish(4);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace gatehouse::databroker

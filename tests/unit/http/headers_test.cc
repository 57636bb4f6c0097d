#include "http/headers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::http {
namespace {

std::vector<std::string> names(const Headers& h) {
  std::vector<std::string> out;
  for (const auto& f : h.fields()) out.push_back(f.name);
  return out;
}

TEST(Headers, RemovingKeepsTheOrderOfTheRest) {
  Headers h;
  for (const char* n : {"a", "x-drop", "b", "x-drop", "c", "d"}) h.add(n, "v");
  EXPECT_EQ(h.remove("X-Drop"), 2u);
  EXPECT_EQ(names(h), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(h.removeIf([](const Field& f) { return f.name == "a" || f.name == "d"; }), 2u);
  EXPECT_EQ(names(h), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(h.size(), 2u);
}

TEST(Headers, FieldsAddedAfterAClearOrARemovalAreNewFields) {
  Headers h;
  h.add("x-long-name-that-does-not-fit", "a value longer than the small string buffer");
  h.add("second", "2");
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.get("second"));
  h.add("host", "example.com");
  EXPECT_EQ(names(h), (std::vector<std::string>{"host"}));
  EXPECT_EQ(h.get("host"), "example.com");
  EXPECT_FALSE(h.has("x-long-name-that-does-not-fit"));
  h.set("host", "other.example");
  EXPECT_EQ(h.count("host"), 1u);
  EXPECT_EQ(h.get("host"), "other.example");
}

TEST(Headers, SetReplacesEveryFieldOfTheNameOrAddsOne) {
  Headers h;
  h.add("a", "1");
  h.add("X-Frame-Options", "DENY");
  h.add("b", "2");
  h.add("x-frame-options", "ALLOW-FROM x");
  h.set("x-frame-options", "SAMEORIGIN");
  EXPECT_EQ(names(h), (std::vector<std::string>{"a", "b", "x-frame-options"}));
  EXPECT_EQ(h.get("X-Frame-Options"), "SAMEORIGIN");
  h.set("c", "3");  // absent: added at the end
  EXPECT_EQ(names(h), (std::vector<std::string>{"a", "b", "x-frame-options", "c"}));
  h.remove("c");  // a spare field after the live ones is not a match
  h.set("d", "4");
  EXPECT_EQ(names(h), (std::vector<std::string>{"a", "b", "x-frame-options", "d"}));
  EXPECT_EQ(h.get("d"), "4");
}

TEST(Headers, AddFirstPutsTheFieldBeforeTheOthers) {
  Headers h;
  h.add("b", "2");
  h.add("c", "3");
  h.remove("c");  // a spare field after the live ones
  h.addFirst("a", "1");
  EXPECT_EQ(names(h), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.get("a"), "1");
}

TEST(Headers, ACopyHoldsTheLiveFieldsOnly) {
  Headers h;
  h.add("a", "1");
  h.add("b", "2");
  h.remove("b");
  Headers copy = h;
  EXPECT_EQ(names(copy), (std::vector<std::string>{"a"}));
  Headers assigned;
  assigned.add("z", "9");
  assigned = h;
  EXPECT_EQ(names(assigned), (std::vector<std::string>{"a"}));
  Headers moved = std::move(copy);
  EXPECT_EQ(names(moved), (std::vector<std::string>{"a"}));
}

TEST(Headers, AMovedFromListIsEmptyAndUsable) {
  Headers h;
  h.add("a", "1");
  h.add("b", "2");
  Headers moved = std::move(h);
  EXPECT_EQ(names(moved), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(h.empty());  // NOLINT(bugprone-use-after-move): the state after a move is the point
  h.add("c", "3");
  EXPECT_EQ(names(h), (std::vector<std::string>{"c"}));
  Headers assigned;
  assigned.add("z", "9");
  assigned = std::move(moved);
  EXPECT_EQ(names(assigned), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  moved.add("d", "4");
  EXPECT_EQ(names(moved), (std::vector<std::string>{"d"}));
}

TEST(Headers, RetainedBytesCountSpareFieldsToo) {
  Headers h;
  size_t empty = h.retainedBytes();
  h.add("cookie", std::string(10000, 'c'));
  EXPECT_GE(h.retainedBytes(), empty + 10000);
  h.clear();
  EXPECT_GE(h.retainedBytes(), 10000u);  // kept for the next field
}

}  // namespace
}  // namespace gatehouse::http

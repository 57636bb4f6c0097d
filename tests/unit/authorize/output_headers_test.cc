#include "authorize/output_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::authorize {
namespace {

TEST(OutputHeaders, AClearedListRefillsItsEntriesInPlace) {
  const std::string jwt(700, 'j');
  OutputHeaders list;
  list.emplace_back("x-pomerium-jwt-assertion", jwt);
  list.add("x-pomerium-claim-email") += "alice@example.com";
  ASSERT_EQ(list.size(), 2u);
  const char* jwt_storage = list[0].second.data();

  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.begin(), list.end());
  list.emplace_back("x-pomerium-jwt-assertion", std::string(650, 'k'));
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].second, std::string(650, 'k'));
  EXPECT_EQ(list[0].second.data(), jwt_storage);  // no new allocation
  // The entry past the end is not part of the list.
  EXPECT_EQ(list, (OutputHeaders{{"x-pomerium-jwt-assertion", std::string(650, 'k')}}));

  // add() hands out an empty value even where a longer one was kept.
  list.add("x-pomerium-claim-email") += "bob@example.com";
  EXPECT_EQ(list[1].second, "bob@example.com");
}

TEST(OutputHeaders, CopiesHoldTheEntriesAndAMovedFromListIsEmpty) {
  OutputHeaders a{{"a", "1"}, {"b", "2"}};
  a.clear();
  a.emplace_back("c", "3");
  OutputHeaders copy = a;
  EXPECT_EQ(copy, (OutputHeaders{{"c", "3"}}));
  OutputHeaders moved = std::move(a);
  EXPECT_EQ(moved, (OutputHeaders{{"c", "3"}}));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): specified as empty
  a.emplace_back("d", "4");
  EXPECT_EQ(a, (OutputHeaders{{"d", "4"}}));
  EXPECT_FALSE(moved == a);
}

}  // namespace
}  // namespace gatehouse::authorize

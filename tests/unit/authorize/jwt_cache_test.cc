#include "authorize/jwt_cache.h"

#include <gtest/gtest.h>

#include "authorize/jwks_document.h"
#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

using std::chrono::seconds;
using testing::User;

const auto kStart = std::chrono::system_clock::time_point(seconds(1700000000));

class JwtCacheTest : public ::testing::Test {
 protected:
  IdentityJwt jwt_{testing::ecKey(), std::vector<std::string>{"department"}};
  JwtCache cache_;
  User user_;

  std::string get(const User& user, std::chrono::system_clock::time_point now,
                  std::string_view host = "app.example.com",
                  IssuerFormat format = IssuerFormat::kHostOnly) {
    auto token = cache_.get(jwt_, user.identity(), host, format, now);
    EXPECT_TRUE(token) << token.error().message;
    return token ? std::string(token->jwt) : std::string();
  }
};

TEST_F(JwtCacheTest, SecondRequestOfASessionIsAHit) {
  std::string first = get(user_, kStart);
  std::string second = get(user_, kStart + seconds(10));
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache_.stats().misses, 1U);
  EXPECT_EQ(cache_.stats().hits, 1U);
  EXPECT_FALSE(testing::verifiedPayload(second, jwt_.signingKey().jwksJson()).is_null());
}

TEST_F(JwtCacheTest, ReSignsWhenLessThanAMinuteIsLeft) {
  std::string first = get(user_, kStart);
  EXPECT_EQ(get(user_, kStart + seconds(239)), first);      // 61 s left
  std::string renewed = get(user_, kStart + seconds(240));  // 60 s left
  EXPECT_NE(renewed, first);
  auto payload = testing::verifiedPayload(renewed, jwt_.signingKey().jwksJson());
  EXPECT_EQ(payload["iat"], 1700000240);
  EXPECT_EQ(payload["exp"], 1700000540);
  EXPECT_EQ(cache_.size(), 1U);  // replaced, not added
}

TEST_F(JwtCacheTest, TokenStampMatchesThePayload) {
  auto token = cache_.get(jwt_, user_.identity(), "app.example.com", IssuerFormat::kHostOnly,
                          kStart + std::chrono::milliseconds(1500));
  ASSERT_TRUE(token);
  auto payload = testing::verifiedPayload(token->jwt, jwt_.signingKey().jwksJson());
  EXPECT_EQ(payload["jti"], std::string(token->jti));
  EXPECT_EQ(payload["iat"], token->issued_at);
  EXPECT_EQ(payload["exp"], token->expires_at);
  EXPECT_EQ(token->issued_at, 1700000001);
}

TEST_F(JwtCacheTest, ANewSessionVersionMisses) {
  std::string first = get(user_, kStart);
  User changed = user_;
  changed.session_version = 8;
  EXPECT_NE(get(changed, kStart + seconds(1)), first);
  EXPECT_EQ(cache_.stats().misses, 2U);
  EXPECT_EQ(cache_.size(), 1U);
}

TEST_F(JwtCacheTest, ChangedIdentityUnderTheSameVersionMisses) {
  std::string first = get(user_, kStart);
  User changed = user_;
  changed.groups = {"admins"};
  std::string second = get(changed, kStart + seconds(1));
  EXPECT_NE(second, first);
  EXPECT_EQ(testing::verifiedPayload(second, jwt_.signingKey().jwksJson())["groups"],
            nlohmann::json::array({"admins"}));
  changed.claims = {{"department", "sales"}};
  std::string third = get(changed, kStart + seconds(2));
  EXPECT_NE(third, second);
  EXPECT_EQ(cache_.stats().misses, 3U);
}

TEST_F(JwtCacheTest, TheSameViewIsTheSameContent) {
  // An identity from the view the token was signed for is not compared
  // again: the view's content cannot change (a changed record is a new
  // view). Shown here by changing the content behind the same view.
  user_.view = 41;
  std::string first = get(user_, kStart);
  User same_view = user_;
  same_view.groups = {"admins"};
  EXPECT_EQ(get(same_view, kStart + seconds(1)), first);
  EXPECT_EQ(cache_.stats().hits, 1U);

  // Another view is compared: the same content is a hit, and from then on
  // that view is the one known equal.
  User next_view = user_;
  next_view.view = 42;
  EXPECT_EQ(get(next_view, kStart + seconds(2)), first);
  EXPECT_EQ(cache_.stats().hits, 2U);
  // Changed content under another view re-signs.
  User changed = user_;
  changed.view = 43;
  changed.groups = {"admins"};
  std::string second = get(changed, kStart + seconds(3));
  EXPECT_NE(second, first);
  EXPECT_EQ(testing::verifiedPayload(second, jwt_.signingKey().jwksJson())["groups"],
            nlohmann::json::array({"admins"}));
  // Going back to the first view's content compares again (the token is
  // now the changed one's).
  EXPECT_NE(get(user_, kStart + seconds(4)), second);
  EXPECT_EQ(cache_.stats().misses, 3U);
}

TEST_F(JwtCacheTest, WithoutAViewTheContentIsComparedEveryTime) {
  std::string first = get(user_, kStart);
  EXPECT_EQ(get(user_, kStart + seconds(1)), first);
  User changed = user_;
  changed.email = "alice@example.org";
  EXPECT_NE(get(changed, kStart + seconds(2)), first);
  EXPECT_EQ(cache_.stats().misses, 2U);
}

TEST_F(JwtCacheTest, DerivedHeadersAreMadeOncePerTokenAndRenderer) {
  int renders = 0;
  auto render = [&](std::string label) {
    return [&renders, label](OutputHeaders& out) {
      ++renders;
      EXPECT_TRUE(out.empty());
      out.emplace_back("x-made-by", label);
    };
  };
  auto token =
      cache_.get(jwt_, user_.identity(), "app.example.com", IssuerFormat::kHostOnly, kStart);
  ASSERT_TRUE(token);
  EXPECT_EQ(cache_.derived(*token, 1, render("one")), OutputHeaders({{"x-made-by", "one"}}));
  token = cache_.get(jwt_, user_.identity(), "app.example.com", IssuerFormat::kHostOnly,
                     kStart + seconds(1));
  EXPECT_EQ(cache_.derived(*token, 1, render("one again")), OutputHeaders({{"x-made-by", "one"}}));
  EXPECT_EQ(renders, 1);
  // Another renderer replaces them.
  EXPECT_EQ(cache_.derived(*token, 2, render("two")), OutputHeaders({{"x-made-by", "two"}}));
  EXPECT_EQ(renders, 2);
  // Each token has its own.
  auto other = cache_.get(jwt_, user_.identity(), "other.example.com", IssuerFormat::kHostOnly,
                          kStart + seconds(1));
  EXPECT_EQ(cache_.derived(*other, 2, render("other")), OutputHeaders({{"x-made-by", "other"}}));
  EXPECT_EQ(renders, 3);
  // A token signed anew has none until they are made again.
  token = cache_.get(jwt_, user_.identity(), "app.example.com", IssuerFormat::kHostOnly,
                     kStart + seconds(240));
  EXPECT_EQ(cache_.stats().misses, 3U);
  EXPECT_EQ(cache_.derived(*token, 2, render("renewed")),
            OutputHeaders({{"x-made-by", "renewed"}}));
  EXPECT_EQ(renders, 4);
}

TEST_F(JwtCacheTest, KeyedByHostSessionAndIssuerFormat) {
  std::string a = get(user_, kStart, "a.example.com");
  std::string b = get(user_, kStart, "b.example.com");
  EXPECT_NE(a, b);
  EXPECT_EQ(testing::verifiedPayload(b, jwt_.signingKey().jwksJson())["aud"], "b.example.com");
  std::string uri = get(user_, kStart, "a.example.com", IssuerFormat::kUri);
  EXPECT_NE(uri, a);
  User other = user_;
  other.session_id = "session-2";
  EXPECT_NE(get(other, kStart, "a.example.com"), a);
  EXPECT_EQ(get(user_, kStart, "a.example.com"), a);
  EXPECT_EQ(cache_.size(), 4U);
}

TEST_F(JwtCacheTest, AnotherMinterConfigurationMisses) {
  std::string first = get(user_, kStart);
  IdentityJwt other(testing::ecKey(), std::vector<std::string>{"department", "team"});
  auto token = cache_.get(other, user_.identity(), "app.example.com", IssuerFormat::kHostOnly,
                          kStart + seconds(1));
  ASSERT_TRUE(token);
  EXPECT_NE(std::string(token->jwt), first);
  IdentityJwt same(testing::ecKey(), std::vector<std::string>{"department"});
  auto again = cache_.get(same, user_.identity(), "app.example.com", IssuerFormat::kHostOnly,
                          kStart + seconds(2));
  EXPECT_EQ(std::string(again->jwt), first);
}

TEST_F(JwtCacheTest, ClockGoingBackReSigns) {
  std::string first = get(user_, kStart);
  EXPECT_NE(get(user_, kStart - seconds(5)), first);
}

TEST(JwtCache, StaysWithinCapacityAndKeepsRecentlyUsedTokens) {
  IdentityJwt jwt(testing::ecKey(), {});
  JwtCache cache({.capacity = 4});
  std::vector<User> users(6);
  for (size_t i = 0; i < users.size(); ++i) users[i].session_id = "s" + std::to_string(i);
  auto get = [&](size_t i) {
    return std::string(
        cache.get(jwt, users[i].identity(), "h", IssuerFormat::kHostOnly, kStart)->jwt);
  };
  std::string first = get(0);
  for (size_t i = 1; i < 4; ++i) get(i);
  EXPECT_EQ(cache.size(), 4U);
  get(4);  // evicts one
  EXPECT_EQ(cache.size(), 4U);
  EXPECT_EQ(cache.stats().evictions, 1U);
  get(0);  // s0 was a victim or is still there; either way the cache stays bounded
  get(5);
  EXPECT_EQ(cache.size(), 4U);
  // A token used between sweeps survives the next eviction.
  std::string kept = get(5);
  get(1);
  get(2);
  EXPECT_EQ(get(5), kept);
}

}  // namespace
}  // namespace gatehouse::authorize

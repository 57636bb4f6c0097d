#include "authenticate/refresher.h"

#include <gtest/gtest.h>

namespace gatehouse::authenticate {
namespace {

using namespace std::chrono_literals;
using session::Time;

session::Session sample() {
  session::Session s;
  s.id = "s";
  s.issued_at = Time(std::chrono::seconds(1'700'000'000));
  s.expires_at = s.issued_at + 14h;
  s.oauth_token.access_token = "at";
  s.oauth_token.refresh_token = "rt";
  s.oauth_token.expires_at = s.issued_at + 1h;
  s.id_token_expires_at = s.issued_at + 2h;
  return s;
}

TEST(RefresherTest, RefreshesAMinuteBeforeTheFirstTokenExpires) {
  Refresher::Options options;
  session::Session s = sample();
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.issued_at + 1h - 60s);
  s.id_token_expires_at = s.issued_at + 30min;
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.issued_at + 30min - 60s);
}

TEST(RefresherTest, NeverSoonerThanTheMinimumGap) {
  Refresher::Options options;
  session::Session s = sample();
  s.oauth_token.expires_at = s.issued_at + 5s;  // short-lived tokens
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.issued_at + 10s);
  s.refreshed_at = s.issued_at + 100s;
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.issued_at + 110s);
}

TEST(RefresherTest, WithoutARefreshTokenOnlyTheExpiryIsDue) {
  Refresher::Options options;
  session::Session s = sample();
  s.oauth_token.refresh_token.clear();
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.expires_at);
  // And the session ends with its access token, as Pomerium's Validate says.
  EXPECT_TRUE(s.valid(s.issued_at + 59min));
  EXPECT_FALSE(s.valid(s.issued_at + 61min));
}

TEST(RefresherTest, TheSessionEndsAtItsExpiryWhateverTheTokens) {
  Refresher::Options options;
  session::Session s = sample();
  s.oauth_token.expires_at = s.issued_at + 20h;
  s.id_token_expires_at = {};
  EXPECT_EQ(Refresher::nextRefresh(s, options), s.expires_at);
  EXPECT_FALSE(s.valid(s.expires_at));
}

}  // namespace
}  // namespace gatehouse::authenticate

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "session/cookie.h"
#include "session/handle.h"
#include "session/records.h"

namespace gatehouse::session {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret(32, 'k');
const std::string kOtherSecret(32, 'o');

Handle sampleHandle() {
  Handle h;
  h.session_id = "c1b6e4c2-4bde-4a8a-9e55-000000000001";
  h.user_id = "user-1";
  h.issuer = "authenticate.example.com";
  h.audience = {"authenticate.example.com", "app.example.com"};
  h.issued_at = 1700000000;
  h.idp_id = "idp1";
  h.server_version = 42;
  h.record_version = 7;
  return h;
}

TEST(HandleTest, SignVerifyRoundTrip) {
  auto codec = HandleCodec::create(kSecret);
  ASSERT_TRUE(codec.ok());
  std::string jwt = codec->sign(sampleHandle());
  auto h = codec->verify(jwt);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->session_id, "c1b6e4c2-4bde-4a8a-9e55-000000000001");
  EXPECT_EQ(h->user_id, "user-1");
  EXPECT_THAT(h->audience, ElementsAre("authenticate.example.com", "app.example.com"));
  EXPECT_EQ(h->issued_at, 1700000000);
  EXPECT_EQ(h->idp_id, "idp1");
  EXPECT_EQ(h->server_version, 42u);
  EXPECT_EQ(h->record_version, 7u);
}

TEST(HandleTest, EveryChangedByteIsRefused) {
  auto codec = HandleCodec::create(kSecret);
  std::string jwt = codec->sign(sampleHandle());
  for (size_t i = 0; i < jwt.size(); ++i) {
    std::string changed = jwt;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec->verify(changed).ok()) << "byte " << i;
  }
}

TEST(HandleTest, OtherSecretIsUnauthenticated) {
  auto ours = HandleCodec::create(kSecret);
  auto theirs = HandleCodec::create(kOtherSecret);
  auto h = ours->verify(theirs->sign(sampleHandle()));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(ours->open(theirs->seal(sampleHandle())).ok());
}

TEST(HandleTest, GarbageIsInvalid) {
  auto codec = HandleCodec::create(kSecret);
  for (std::string_view bad :
       {"", "x", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.AAAA"}) {
    EXPECT_FALSE(codec->verify(bad).ok()) << bad;
  }
  EXPECT_FALSE(codec->verify(std::string(10000, 'a')).ok());
}

TEST(HandleTest, SealOpenRoundTripAndTamper) {
  auto codec = HandleCodec::create(kSecret);
  std::string sealed = codec->seal(sampleHandle());
  EXPECT_EQ(sealed.find('.'), std::string::npos);  // not readable as a JWT
  auto h = codec->open(sealed);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->user_id, "user-1");
  std::string changed = sealed;
  changed[5] = changed[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(codec->open(changed).ok());
}

TEST(RecordsTest, SessionRoundTrip) {
  Session s;
  s.id = "s1";
  s.user_id = "u1";
  s.idp_id = "idp";
  s.issued_at = Time(std::chrono::seconds(1700000000));
  s.expires_at = s.issued_at + std::chrono::hours(14);
  s.oauth_token.access_token = "at";
  s.oauth_token.refresh_token = "rt";
  s.oauth_token.expires_at = s.issued_at + std::chrono::minutes(5);
  s.id_token = "a.b.c";
  s.claims = flattenClaims(nlohmann::json{{"email", "a@example.com"}, {"groups", {"x", "y"}}});
  s.audience = {"a", "b"};
  auto back = Session::fromJson(s.toJson());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->id, "s1");
  EXPECT_EQ(back->expires_at, s.expires_at);
  EXPECT_EQ(back->oauth_token, s.oauth_token);
  EXPECT_EQ(back->id_token, "a.b.c");
  EXPECT_EQ(firstClaim(back->claims, "email"), "a@example.com");
  EXPECT_EQ(back->claims["groups"], nlohmann::json({"x", "y"}));
  EXPECT_TRUE(back->valid(s.issued_at + std::chrono::hours(1)));
  EXPECT_FALSE(back->valid(s.expires_at));
  EXPECT_THAT(s.toJson(), Not(HasSubstr("@type")));
}

TEST(RecordsTest, WrongTypeAndGarbageRefused) {
  EXPECT_FALSE(
      Session::fromJson("{\"@type\":\"type.googleapis.com/user.User\",\"id\":\"x\"}").ok());
  EXPECT_FALSE(Session::fromJson("[]").ok());
  EXPECT_FALSE(Session::fromJson("{\"id\":\"x\",\"expiresAt\":\"yesterday\"}").ok());
  User u;
  u.id = "u";
  u.email = "e@x";
  auto back = User::fromJson(u.toJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->email, "e@x");
}

// The schedule read alone is the one of the whole record, and is refused
// exactly when the whole record is.
TEST(RecordsTest, ScheduleAloneMatchesTheWholeRecord) {
  Session s;
  s.id = "s1";
  s.user_id = "u1";
  s.issued_at = Time(std::chrono::seconds(1700000000));
  s.expires_at = s.issued_at + std::chrono::hours(14);
  s.refreshed_at = s.issued_at + std::chrono::minutes(1);
  s.oauth_token.refresh_token = "rt";
  s.oauth_token.expires_at = s.issued_at + std::chrono::minutes(5);
  s.id_token = "a.b.c";
  s.id_token_expires_at = s.issued_at + std::chrono::minutes(6);
  s.claims = flattenClaims(nlohmann::json{{"expiresAt", "not a time"}, {"oauthToken", {1, 2}}});
  std::string stored = s.toJson();
  const char* cases[] = {
      stored.c_str(),
      R"({"@type":"type.googleapis.com/session.Session","id":"x"})",
      R"({"@type":"type.googleapis.com/user.User","id":"x"})",
      R"({"@type":null,"id":"x"})",
      R"({"id":""})",
      R"({"id":5})",
      R"({"id":"x","id":""})",
      R"({"id":"","id":"x"})",
      R"({"expiresAt":"2026-01-02T03:04:05Z"})",
      R"({"id":"x","expiresAt":null,"issuedAt":"2026-01-02T03:04:05.5Z"})",
      R"({"id":"x","expiresAt":"yesterday"})",
      R"({"id":"x","expiresAt":"yesterday","expiresAt":"2026-01-02T03:04:05Z"})",
      R"({"id":"x","expiresAt":"2026-01-02T03:04:05Z","expiresAt":"yesterday"})",
      R"({"id":"x","accessedAt":7})",
      R"({"id":"x","refreshedAt":["2026-01-02T03:04:05Z"]})",
      R"({"id":"x","oauthToken":{"refreshToken":"r","expiresAt":"2026-01-02T03:04:05Z"}})",
      R"({"id":"x","oauthToken":{"refreshToken":"","expiresAt":null}})",
      R"({"id":"x","oauthToken":{"refreshToken":{"r":1},"expiresAt":"bad"}})",
      R"({"id":"x","oauthToken":{"refreshToken":"r"},"oauthToken":{"expiresAt":"2026-01-02T03:04:05Z"}})",
      R"({"id":"x","oauthToken":{"expiresAt":"bad"},"oauthToken":"gone"})",
      R"({"id":"x","oauthToken":[{"expiresAt":"bad"}]})",
      R"({"id":"x","oauthToken":{"inner":{"expiresAt":"bad","refreshToken":"r"}}})",
      R"({"id":"x","idToken":{"expiresAt":"2026-01-02T03:04:05Z","raw":"a"}})",
      R"({"id":"x","idToken":{"expiresAt":{}}})",
      R"({"id":"x","claims":{"expiresAt":"bad","oauthToken":{"refreshToken":"r"}}})",
      R"([{"id":"x"}])",
      R"("x")",
      R"({"id":"x"} trailing)",
      R"({"id":"x")",
      "",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    auto whole = Session::fromJson(text);
    auto alone = Schedule::fromJson(text);
    ASSERT_EQ(whole.ok(), alone.ok());
    if (whole) EXPECT_TRUE(Schedule::of(*whole) == *alone);
  }
  auto read = Schedule::fromJson(stored);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->expires_at, s.expires_at);
  EXPECT_EQ(read->token_expires_at, s.oauth_token.expires_at);
  EXPECT_EQ(read->id_token_expires_at, s.id_token_expires_at);
  EXPECT_EQ(read->refreshed_at, s.refreshed_at);
  EXPECT_TRUE(read->refreshable);
}

TEST(RecordsTest, TimeFormat) {
  Time t(std::chrono::microseconds(1700000000123456));
  EXPECT_EQ(formatTime(t), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(parseTime("2023-11-14T22:13:20.123456Z"), t);
  EXPECT_EQ(parseTime("2023-11-14T22:13:20Z"), Time(std::chrono::seconds(1700000000)));
  EXPECT_FALSE(parseTime("2023-13-14T22:13:20Z"));
  EXPECT_FALSE(parseTime("2023-11-14 22:13:20Z"));
}

TEST(CookieTest, FindCookies) {
  EXPECT_THAT(findCookies("a=1; _pomerium=x.y.z; b=2; _pomerium=\"q\"", "_pomerium"),
              ElementsAre("x.y.z", "q"));
  EXPECT_TRUE(findCookies("a=1;b", "_pomerium").empty());
  EXPECT_TRUE(findCookies("", "_pomerium").empty());
  EXPECT_THAT(findCookies("_pomerium_csrf=1; _pomerium=2", "_pomerium"), ElementsAre("2"));
  // Appending: across several Cookie headers, in order.
  std::vector<std::string_view> all;
  findCookies("_pomerium=a", "_pomerium", all);
  findCookies("x=1", "_pomerium", all);
  findCookies("_pomerium=b; _pomerium=c", "_pomerium", all);
  EXPECT_THAT(all, ElementsAre("a", "b", "c"));
}

TEST(CookieTest, SetCookieAttributes) {
  CookieAttributes a;
  a.domain = "example.com";
  a.max_age = std::chrono::hours(14);
  a.same_site = "lax";
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  EXPECT_EQ(setCookie("_pomerium", "v", a, now),
            "_pomerium=v; Expires=Wed, 15 Nov 2023 12:13:20 GMT; Max-Age=50400; Path=/; "
            "Domain=example.com; Secure; HttpOnly; SameSite=Lax");
  EXPECT_EQ(clearCookie("_pomerium", a),
            "_pomerium=; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; Path=/; "
            "Domain=example.com; Secure; HttpOnly; SameSite=Lax");
  EXPECT_TRUE(isCookieValue("abc-_.~"));
  EXPECT_FALSE(isCookieValue("a b"));
  EXPECT_FALSE(isCookieValue("a;b"));
}

}  // namespace
}  // namespace gatehouse::session

#include "crypto/jwt_claims.h"

#include <gtest/gtest.h>

namespace gatehouse::crypto {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr int64_t kNow = 1700000000;

system_clock::time_point at(int64_t unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

ClaimsRequirements idToken() {
  ClaimsRequirements r;
  r.issuer = "https://idp.example.com";
  r.audiences = {"client-id"};
  r.authorized_party = "client-id";
  r.require_issued_at = true;
  r.leeway = seconds(60);
  return r;
}

std::string claims(std::string_view extra) {
  return R"({"iss":"https://idp.example.com","aud":"client-id","sub":"u1","iat":1700000000,"exp":1700000600)" +
         std::string(extra) + "}";
}

TEST(JwtClaims, AcceptsAValidIdToken) {
  auto verified = JwtClaims::verify(claims(R"(,"email":"a@example.com")"), idToken(), at(kNow));
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(verified->stringClaim("sub"), "u1");
  EXPECT_EQ(verified->stringClaim("email"), "a@example.com");
  EXPECT_EQ(verified->stringClaim("missing"), "");
  EXPECT_EQ(verified->stringClaim("exp"), "");
  EXPECT_EQ(verified->audiences(), std::vector<std::string>{"client-id"});
  EXPECT_EQ(verified->json()["exp"], 1700000600);
}

TEST(JwtClaims, ExpiryWithLeeway) {
  const auto r = idToken();
  // exp = kNow + 600, leeway 60: valid while now < exp + 60.
  EXPECT_TRUE(JwtClaims::verify(claims(""), r, at(kNow + 659)).ok());
  EXPECT_TRUE(JwtClaims::verify(claims(""), r, at(kNow + 659) + milliseconds(999)).ok());
  auto expired = JwtClaims::verify(claims(""), r, at(kNow + 660));
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
  // Fractional NumericDates are allowed.
  EXPECT_FALSE(JwtClaims::verify(R"({"exp":1700000000.5})", {}, at(kNow + 61)).ok());
  EXPECT_TRUE(JwtClaims::verify(R"({"exp":1700000000.5})", {}, at(kNow + 60)).ok());
}

TEST(JwtClaims, NotBeforeAndIssuedAtWithLeeway) {
  const auto r = idToken();
  EXPECT_TRUE(JwtClaims::verify(claims(R"(,"nbf":1700000100)"), r, at(kNow + 40)).ok());
  EXPECT_FALSE(JwtClaims::verify(claims(R"(,"nbf":1700000100)"), r, at(kNow + 39)).ok());
  // Issued in the future beyond the leeway.
  EXPECT_TRUE(JwtClaims::verify(claims(""), r, at(kNow - 60)).ok());
  EXPECT_FALSE(JwtClaims::verify(claims(""), r, at(kNow - 61)).ok());
}

TEST(JwtClaims, RequiredTimes) {
  auto r = idToken();
  const std::string no_exp =
      R"({"iss":"https://idp.example.com","aud":"client-id","iat":1700000000})";
  EXPECT_FALSE(JwtClaims::verify(no_exp, r, at(kNow)).ok());
  const std::string no_iat =
      R"({"iss":"https://idp.example.com","aud":"client-id","exp":1700000600})";
  EXPECT_FALSE(JwtClaims::verify(no_iat, r, at(kNow)).ok());
  // A session handle: no exp, no iat requirement.
  ClaimsRequirements handle;
  handle.require_expiry = false;
  EXPECT_TRUE(JwtClaims::verify(R"({"sub":"u1","jti":"s1"})", handle, at(kNow)).ok());
}

TEST(JwtClaims, IssuerMustMatchExactly) {
  const auto r = idToken();
  EXPECT_FALSE(
      JwtClaims::verify(
          R"({"iss":"https://idp.example.com/","aud":"client-id","iat":1700000000,"exp":1700000600})",
          r, at(kNow))
          .ok());
  EXPECT_FALSE(
      JwtClaims::verify(R"({"aud":"client-id","iat":1700000000,"exp":1700000600})", r, at(kNow))
          .ok());
  EXPECT_FALSE(
      JwtClaims::verify(
          R"({"iss":["https://idp.example.com"],"aud":"client-id","iat":1700000000,"exp":1700000600})",
          r, at(kNow))
          .ok());
}

TEST(JwtClaims, AudienceAsStringOrArray) {
  auto r = idToken();
  r.authorized_party.clear();
  auto with_aud = [&](std::string_view aud) {
    return JwtClaims::verify(
        R"({"iss":"https://idp.example.com","iat":1700000000,"exp":1700000600,"aud":)" +
            std::string(aud) + "}",
        r, at(kNow));
  };
  EXPECT_TRUE(with_aud(R"("client-id")").ok());
  EXPECT_TRUE(with_aud(R"(["other","client-id"])").ok());
  EXPECT_FALSE(with_aud(R"("other")").ok());
  EXPECT_FALSE(with_aud(R"(["other"])").ok());
  EXPECT_FALSE(with_aud(R"([])").ok());
  auto wrong_type = with_aud(R"(["client-id",1])");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(with_aud(R"({"client-id":true})").ok());
  EXPECT_FALSE(with_aud("null").ok());
  auto multi = with_aud(R"(["other","client-id"])");
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->audiences(), (std::vector<std::string>{"other", "client-id"}));
}

TEST(JwtClaims, AuthorizedParty) {
  const auto r = idToken();
  EXPECT_TRUE(JwtClaims::verify(claims(R"(,"azp":"client-id")"), r, at(kNow)).ok());
  EXPECT_FALSE(JwtClaims::verify(claims(R"(,"azp":"someone-else")"), r, at(kNow)).ok());
  EXPECT_FALSE(JwtClaims::verify(claims(R"(,"azp":7)"), r, at(kNow)).ok());
  const std::string several =
      R"({"iss":"https://idp.example.com","aud":["client-id","api"],"iat":1700000000,"exp":1700000600)";
  EXPECT_FALSE(JwtClaims::verify(several + "}", r, at(kNow)).ok());
  EXPECT_TRUE(JwtClaims::verify(several + R"(,"azp":"client-id"})", r, at(kNow)).ok());
}

TEST(JwtClaims, MalformedPayloads) {
  const auto r = idToken();
  for (const char* payload : {"", "[]", "\"x\"", "{", R"({"exp":"1700000600"})", R"({"exp":null})",
                              R"({"nbf":true})", R"({"iat":{}})"}) {
    EXPECT_FALSE(JwtClaims::verify(payload, r, at(kNow)).ok()) << payload;
  }
  // Duplicate claims: one parser would see "admin", another "user".
  EXPECT_FALSE(JwtClaims::verify(claims(R"(,"role":"user","role":"admin")"), r, at(kNow)).ok());
  std::string deep = claims(R"(,"x":)");
  deep.pop_back();
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  EXPECT_FALSE(JwtClaims::verify(deep, r, at(kNow)).ok());
}

TEST(JwtClaims, ExtremeTimesDoNotOverflow) {
  ClaimsRequirements r;
  EXPECT_TRUE(JwtClaims::verify(R"({"exp":1e300})", r, at(kNow)).ok());
  EXPECT_FALSE(JwtClaims::verify(R"({"exp":-1e300})", r, at(kNow)).ok());
  EXPECT_FALSE(JwtClaims::verify(R"({"exp":18446744073709551615,"nbf":1e300})", r, at(kNow)).ok());
  EXPECT_TRUE(
      JwtClaims::verify(R"({"exp":18446744073709551615,"nbf":-9223372036854775808})", r, at(kNow))
          .ok());
}

}  // namespace
}  // namespace gatehouse::crypto

#include "authorize/identity_jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authorize/jwks_document.h"
#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

using testing::User;
using testing::verifiedPayload;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

nlohmann::json mintAndVerify(const IdentityJwt& jwt, const User& user,
                             IssuerFormat format = IssuerFormat::kHostOnly,
                             std::string_view host = "app.example.com") {
  auto minted = jwt.mint(user.identity(), host, format, kNow);
  if (!minted) {
    ADD_FAILURE() << minted.error().message;
    return nullptr;
  }
  auto payload = verifiedPayload(minted->token, JwksDocument::build(jwt.signingKey()).body);
  EXPECT_EQ(payload.value("jti", ""), minted->jti);
  return payload;
}

TEST(IdentityJwt, ClaimsAreExactlyPomeriums) {
  IdentityJwt jwt(testing::ecKey(), {});
  User user;
  user.groups = {"admins", "group-id-1"};
  user.name = "Alice Example";
  nlohmann::json payload = mintAndVerify(jwt, user);
  std::string jti = payload.value("jti", "");
  EXPECT_EQ(jti.size(), 36U);
  EXPECT_EQ(jti[14], '4');  // a version 4 UUID
  nlohmann::json expected = {
      {"iss", "app.example.com"},
      {"aud", "app.example.com"},
      {"jti", jti},
      {"iat", 1700000000},
      {"exp", 1700000300},
      {"sub", "user-1"},
      {"user", "user-1"},
      {"email", "alice@example.com"},
      {"groups", {"admins", "group-id-1"}},
      {"sid", "session-1"},
      {"name", "Alice Example"},
  };
  EXPECT_EQ(payload, expected);
}

TEST(IdentityJwt, HeaderNamesTheSigningKey) {
  IdentityJwt jwt(testing::ecKey(), {});
  auto minted = jwt.mint(User{}.identity(), "app.example.com", IssuerFormat::kHostOnly, kNow);
  ASSERT_TRUE(minted);
  auto jws = crypto::Jws::parse(minted->token);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->header().algorithm, crypto::JwsAlgorithm::kEs256);
  EXPECT_EQ(jws->header().key_id,
            "d591aa6e01e57ea8b80f349dc5de8517aa7b1f12f77700d89cbdba83938c0c61");
  EXPECT_EQ(jws->header().type, "JWT");
}

TEST(IdentityJwt, RsaKeysSignWithRs256) {
  IdentityJwt jwt(testing::rsaKey(), {});
  auto minted = jwt.mint(User{}.identity(), "app.example.com", IssuerFormat::kHostOnly, kNow);
  ASSERT_TRUE(minted);
  auto jws = crypto::Jws::parse(minted->token);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->header().algorithm, crypto::JwsAlgorithm::kRs256);
  EXPECT_FALSE(verifiedPayload(minted->token, testing::rsaKey()->jwksJson()).is_null());
}

TEST(IdentityJwt, NoGroupsIsAnEmptyArrayNotNull) {
  IdentityJwt jwt(testing::ecKey(), {});
  auto minted = jwt.mint(User{}.identity(), "app.example.com", IssuerFormat::kHostOnly, kNow);
  ASSERT_TRUE(minted);
  auto jws = crypto::Jws::parse(minted->token);
  ASSERT_TRUE(jws);
  EXPECT_NE(jws->payload().find("\"groups\":[]"), std::string::npos) << jws->payload();
}

TEST(IdentityJwt, PayloadKeysAreSortedAsGoWritesAMap) {
  IdentityJwt jwt(testing::ecKey(), {});
  auto minted = jwt.mint(User{}.identity(), "app.example.com", IssuerFormat::kHostOnly, kNow);
  ASSERT_TRUE(minted);
  auto jws = crypto::Jws::parse(minted->token);
  std::string payload = jws->payload();
  std::vector<std::string> keys = {"aud", "email", "exp", "groups", "iat", "iss",
                                   "jti", "name",  "sid", "sub",    "user"};
  size_t at = 0;
  for (const auto& key : keys) {
    size_t found = payload.find("\"" + key + "\":", at);
    ASSERT_NE(found, std::string::npos) << key << " in " << payload;
    at = found;
  }
}

TEST(IdentityJwt, IssuerFormats) {
  IdentityJwt jwt(testing::ecKey(), {});
  EXPECT_EQ(mintAndVerify(jwt, User{}, IssuerFormat::kHostOnly)["iss"], "app.example.com");
  auto uri = mintAndVerify(jwt, User{}, IssuerFormat::kUri);
  EXPECT_EQ(uri["iss"], "https://app.example.com/");
  EXPECT_EQ(uri["aud"], "app.example.com");
}

TEST(IdentityJwt, IssuerFormatNames) {
  EXPECT_EQ(parseIssuerFormat("hostOnly"), IssuerFormat::kHostOnly);
  EXPECT_EQ(parseIssuerFormat("IssuerHostOnly"), IssuerFormat::kHostOnly);
  EXPECT_EQ(parseIssuerFormat("uri"), IssuerFormat::kUri);
  EXPECT_EQ(parseIssuerFormat("IssuerURI"), IssuerFormat::kUri);
  EXPECT_EQ(parseIssuerFormat("url"), std::nullopt);
  EXPECT_EQ(parseIssuerFormat(""), std::nullopt);
  EXPECT_EQ(issuerFormatName(IssuerFormat::kUri), "uri");
}

TEST(IdentityJwt, NameComesFromTheClaimsWhenNotGiven) {
  IdentityJwt jwt(testing::ecKey(), {});
  User user;
  user.claims = {{"name", {"Alice", "A."}}};
  EXPECT_EQ(mintAndVerify(jwt, user)["name"], "Alice,A.");
  user.claims = {{"name", "Alice"}};
  EXPECT_EQ(mintAndVerify(jwt, user)["name"], "Alice");
  user.claims = nullptr;
  EXPECT_EQ(mintAndVerify(jwt, user)["name"], "");
}

TEST(IdentityJwt, ExtraClaimsFromJwtClaimsHeadersAreCommaJoinedStrings) {
  std::vector<std::string> names = {"email", "department", "roles", "level", "missing", "groups"};
  IdentityJwt jwt(testing::ecKey(), names);
  EXPECT_EQ(jwt.extraClaims(),
            (std::vector<std::string>{"department", "roles", "level", "missing"}));
  User user;
  user.claims = {{"department", "R&D"},
                 {"roles", {"a", "b", 3, true, nullptr}},
                 {"level", 1000000},
                 {"email", "other@example.com"}};
  nlohmann::json payload = mintAndVerify(jwt, user);
  EXPECT_EQ(payload["department"], "R&D");
  EXPECT_EQ(payload["roles"], "a,b,3,true");
  EXPECT_EQ(payload["level"], "1e+06");  // Go's fmt.Sprint of a float64
  EXPECT_FALSE(payload.contains("missing"));
  EXPECT_EQ(payload["email"], "alice@example.com");  // base claims are not overridden
}

TEST(IdentityJwt, NumbersPrintAsGoPrintsAFloat64) {
  IdentityJwt jwt(testing::ecKey(), std::vector<std::string>{"n"});
  auto render = [&](nlohmann::json value) {
    User user;
    user.claims = {{"n", value}};
    return mintAndVerify(jwt, user)["n"].get<std::string>();
  };
  EXPECT_EQ(render(1), "1");
  EXPECT_EQ(render(-42), "-42");
  EXPECT_EQ(render(123456), "123456");
  EXPECT_EQ(render(1234567), "1.234567e+06");
  EXPECT_EQ(render(1.5), "1.5");
  EXPECT_EQ(render(0.0001), "0.0001");
  EXPECT_EQ(render(0.00001), "1e-05");
  EXPECT_EQ(render(3.25e-7), "3.25e-07");
  EXPECT_EQ(render(1e21), "1e+21");
}

TEST(IdentityJwt, StringsAreEscapedAsGoEscapesThem) {
  IdentityJwt jwt(testing::ecKey(), {});
  User user;
  user.email = "a<b>&\"c\"\n\xe2\x80\xa8\xff";
  auto minted = jwt.mint(user.identity(), "app.example.com", IssuerFormat::kHostOnly, kNow);
  ASSERT_TRUE(minted);
  auto jws = crypto::Jws::parse(minted->token);
  EXPECT_NE(jws->payload().find(R"("email":"a\u003cb\u003e\u0026\"c\"\n\u2028\ufffd")"),
            std::string::npos)
      << jws->payload();
}

TEST(IdentityClaims, HeaderValues) {
  User user;
  user.groups = {"g1", "g2"};
  user.claims = {{"roles", {"x", "y"}}};
  std::vector<std::string> extra = {"roles", "absent"};
  Identity identity = user.identity();
  IdentityClaims claims(
      identity,
      {.issuer = "https://h/", .audience = "h", .jti = "J", .issued_at = 10, .expires_at = 310},
      extra);
  auto value = [&](std::string_view claim) -> std::optional<std::string> {
    std::string out;
    if (!claims.appendHeaderValue(claim, out)) return std::nullopt;
    return out;
  };
  EXPECT_EQ(value("iss"), "https://h/");
  EXPECT_EQ(value("aud"), "h");
  EXPECT_EQ(value("jti"), "J");
  EXPECT_EQ(value("iat"), "10");
  EXPECT_EQ(value("exp"), "310");
  EXPECT_EQ(value("sub"), "user-1");
  EXPECT_EQ(value("user"), "user-1");
  EXPECT_EQ(value("email"), "alice@example.com");
  EXPECT_EQ(value("groups"), "g1,g2");
  EXPECT_EQ(value("sid"), "session-1");
  EXPECT_EQ(value("name"), "");
  EXPECT_EQ(value("roles"), "x,y");
  EXPECT_EQ(value("absent"), std::nullopt);
  EXPECT_EQ(value("not-configured"), std::nullopt);
}

TEST(JwksDocument, ListsEveryKeyWithAnFnv1ETag) {
  JwksDocument document = JwksDocument::build(*testing::ecKey());
  EXPECT_EQ(document.body, testing::ecKey()->jwksJson());
  auto parsed = nlohmann::json::parse(document.body);
  ASSERT_EQ(parsed["keys"].size(), 1U);
  char expected[32];
  std::snprintf(expected, sizeof(expected), "\"%llx\"",
                static_cast<unsigned long long>(fnv1Hash64(document.body)));
  EXPECT_EQ(document.etag, expected);
}

TEST(JwksDocument, Fnv1KnownValues) {
  // FNV-1 (not FNV-1a) 64-bit test vectors.
  EXPECT_EQ(fnv1Hash64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1Hash64("a"), 0xaf63bd4c8601b7beULL);
  EXPECT_EQ(fnv1Hash64("foobar"), 0x340d8765a4dda9c2ULL);
}

}  // namespace
}  // namespace gatehouse::authorize

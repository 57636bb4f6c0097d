#include "session/urls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gatehouse::session {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(UrlsTest, QueryRoundTrip) {
  Params params = {{"pomerium_redirect_uri", "https://app.example.com/x?a=1&b=2"}, {"k", "a b+c%"}};
  std::string encoded = encodeQuery(params);
  EXPECT_EQ(
      encoded,
      "pomerium_redirect_uri=https%3A%2F%2Fapp.example.com%2Fx%3Fa%3D1%26b%3D2&k=a%20b%2Bc%25");
  EXPECT_EQ(parseQuery(encoded), params);
  EXPECT_THAT(parseQuery("a=1&&b&c=%zz&d=+"),
              ElementsAre(Pair("a", "1"), Pair("b", ""), Pair("c", "%zz"), Pair("d", " ")));
  EXPECT_EQ(parseQuery(std::string(1000, '&') + "a=1").size(), 1u);
  EXPECT_EQ(findParam(parseQuery("x=1&x=2"), "x"), "1");
}

TEST(UrlsTest, AbsoluteUrls) {
  auto url = parseAbsoluteUrl("HTTPS://App.Example.com:8443/x/y?q=1#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "app.example.com");
  EXPECT_EQ(url->authority, "App.Example.com:8443");
  EXPECT_EQ(url->path_and_query, "/x/y?q=1");
  EXPECT_EQ(parseAbsoluteUrl("http://[::1]:80")->host, "::1");
  EXPECT_EQ(parseAbsoluteUrl("https://a.example.com")->path_and_query, "/");
  for (std::string_view bad :
       {"//evil.example", "/\\evil.example", "https://ok@evil.example", "javascript:alert(1)",
        "https://evil.example\\@ok", "https:/evil.example", "https://", "https://a b",
        "https://a\tb", "ftp://a.example.com", "/relative", "https://[::1"}) {
    EXPECT_FALSE(parseAbsoluteUrl(bad)) << bad;
  }
}

TEST(UrlsTest, IdpIdDependsOnEverySetting) {
  std::string id = idpId("oidc", "https://idp", "client");
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id, idpId("oidc", "https://idp", "client"));
  EXPECT_NE(id, idpId("oidc", "https://idp", "client2"));
  EXPECT_NE(id, idpId("google", "https://idp", "client"));
}

}  // namespace
}  // namespace gatehouse::session

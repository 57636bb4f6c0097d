#include "common/base64.h"
#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::load;
using testing::loadOk;

MATCHER_P2(Header, name, value, "") { return arg.name == name && arg.value == value; }

std::string certificateKeys() {
  return "certificate: " + base64Encode(testing::kCertPem) +
         "\ncertificate_key: " + base64Encode(testing::kKeyPem) + "\n";
}

TEST(ResponseHeadersTest, DefaultsWithoutCertificatesHaveNoHsts) {
  EXPECT_THAT(loadOk("").http.set_response_headers,
              ElementsAre(Header("X-Frame-Options", "SAMEORIGIN"),
                          Header("X-XSS-Protection", "1; mode=block")));
}

TEST(ResponseHeadersTest, DefaultsWithCertificatesAddHsts) {
  EXPECT_THAT(
      loadOk(certificateKeys()).http.set_response_headers,
      ElementsAre(
          Header("X-Frame-Options", "SAMEORIGIN"), Header("X-XSS-Protection", "1; mode=block"),
          Header("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")));
}

TEST(ResponseHeadersTest, NoHstsOnAnInsecureServer) {
  EXPECT_THAT(loadOk(certificateKeys() + "insecure_server: true\n").http.set_response_headers,
              ElementsAre(Header("X-Frame-Options", "SAMEORIGIN"),
                          Header("X-XSS-Protection", "1; mode=block")));
}

// As in Pomerium (Options.GetSetResponseHeadersForPolicy), a configured map
// replaces the defaults rather than merging into them.
TEST(ResponseHeadersTest, ConfiguredMapReplacesDefaults) {
  EXPECT_THAT(loadOk(certificateKeys() +
                     "set_response_headers:\n  X-Frame-Options: DENY\n  X-Custom: '1'\n")
                  .http.set_response_headers,
              ElementsAre(Header("X-Frame-Options", "DENY"), Header("X-Custom", "1")));
  EXPECT_THAT(loadOk("set_response_headers: {}").http.set_response_headers, IsEmpty());
}

TEST(ResponseHeadersTest, DisableClearsEverything) {
  EXPECT_THAT(loadOk(certificateKeys() + "set_response_headers:\n  disable: true\n  X-A: b\n")
                  .http.set_response_headers,
              IsEmpty());
  EXPECT_THAT(loadOk("set_response_headers: {Disable: whatever}").http.set_response_headers,
              IsEmpty());
}

TEST(ResponseHeadersTest, RouteLevelHeadersAndDisable) {
  Options o = loadOk(R"(
routes:
  - from: https://a.example.com
    to: http://a
    set_response_headers: {X-Route: a}
  - from: https://b.example.com
    to: http://b
    set_response_headers: {disable: 'true', X-Route: b}
)");
  ASSERT_EQ(o.routes.size(), 2u);
  EXPECT_THAT(o.routes[0].set_response_headers, ElementsAre(Header("X-Route", "a")));
  EXPECT_FALSE(o.routes[0].disable_response_headers);
  EXPECT_THAT(o.routes[1].set_response_headers, IsEmpty());
  EXPECT_TRUE(o.routes[1].disable_response_headers);
}

TEST(ResponseHeadersTest, InvalidHeaders) {
  EXPECT_THAT(load("set_response_headers: {\"Bad Name\": x}").errors,
              ElementsAre("set_response_headers: invalid header name \"Bad Name\""));
  EXPECT_THAT(load("set_response_headers: {X-A: \"a\\r\\nSet-Cookie: x=y\"}").errors,
              ElementsAre("set_response_headers.X-A: header value must not contain CR, LF or NUL"));
  EXPECT_THAT(load("set_response_headers: [a, b]").errors,
              ElementsAre("set_response_headers: expected a map of header names to values, got a "
                          "list"));
}

TEST(ResponseHeadersTest, EnvironmentForms) {
  EXPECT_THAT(
      loadOk("", {{"HEADERS", R"({"X-A":"1","X-B":"two words"})"}}).http.set_response_headers,
      ElementsAre(Header("X-A", "1"), Header("X-B", "two words")));
  EXPECT_THAT(loadOk("", {{"HEADERS", "X-A:1,X-B: b:c"}}).http.set_response_headers,
              ElementsAre(Header("X-A", "1"), Header("X-B", "b:c")));
  EXPECT_THAT(loadOk("set_response_headers: {X-File: f}", {{"SET_RESPONSE_HEADERS", "X-Env:e"}})
                  .http.set_response_headers,
              ElementsAre(Header("X-Env", "e")));
  // HEADERS, Pomerium's variable, wins over the key's own name.
  EXPECT_THAT(loadOk("", {{"SET_RESPONSE_HEADERS", "X-A:1"}, {"HEADERS", "X-B:2"}})
                  .http.set_response_headers,
              ElementsAre(Header("X-B", "2")));
  EXPECT_THAT(load("", {{"HEADERS", "nonsense"}}).errors,
              ElementsAre("set_response_headers: invalid header \"nonsense\" (expected Name:Value) "
                          "(from environment variable HEADERS)"));
}

}  // namespace
}  // namespace gatehouse::config

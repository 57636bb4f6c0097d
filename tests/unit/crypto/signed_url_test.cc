#include "crypto/signed_url.h"

#include <gtest/gtest.h>

namespace gatehouse::crypto {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point at(int64_t unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

// Pomerium's TestSignedURL (internal/urlutil/signed_test.go): the same key,
// URL and time give the same signed URL, byte for byte.
constexpr std::string_view kPomeriumSigned =
    "https://pomerium.io?pomerium_expiry=1574118151&pomerium_issued=1574117851&pomerium_signature="
    "XtvM-Y-oPvoGGV2Q5G0vrQ_CgNeYhVyTG5dHIqLsBOU%3D";

TEST(SignedUrl, SignsExactlyAsPomerium) {
  EXPECT_EQ(SignedUrl("test-key").sign("https://pomerium.io", at(1574117851)), kPomeriumSigned);
}

// Pomerium's TestSignedURL_Validate cases.
TEST(SignedUrl, ValidatesAsPomerium) {
  const SignedUrl good("test-key");
  EXPECT_TRUE(good.verify(kPomeriumSigned, at(1574117851)).ok());
  EXPECT_FALSE(SignedUrl("bad-key").verify(kPomeriumSigned, at(1574117851)).ok());
  EXPECT_FALSE(good.verify("https://pomerium.io?pomerium_issued=1574117851&pomerium_signature="
                           "XtvM-Y-oPvoGGV2Q5G0vrQ_CgNeYhVyTG5dHIqLsBOU%3D",
                           at(1574117851))
                   .ok());
  EXPECT_FALSE(good.verify("https://pomerium.io?pomerium_expiry=1574118151&pomerium_signature="
                           "XtvM-Y-oPvoGGV2Q5G0vrQ_CgNeYhVyTG5dHIqLsBOU%3D",
                           at(1574117851))
                   .ok());
  EXPECT_FALSE(good.verify("https://pomerium.io?pomerium_expiry=1574118151&pomerium_issued="
                           "1574117851&pomerium_signature=^",
                           at(1574117851))
                   .ok());
  EXPECT_FALSE(good.verify(kPomeriumSigned, at(1574117851 + 3600)).ok());
  EXPECT_FALSE(good.verify(kPomeriumSigned, at(1574117851 - 3600)).ok());
}

// A sign-in URL whose query needs escaping; the expected value was computed
// independently (Python's hmac with SHA-512/256 and quote_plus, which
// escapes the same bytes as Go's url.QueryEscape).
TEST(SignedUrl, CanonicalisesTheQueryAsGoDoes) {
  const SignedUrl signer("0123456789abcdef0123456789abcdef");
  const std::string signed_url = signer.sign(
      "https://authenticate.example.com/.pomerium/sign_in?pomerium_redirect_uri=https://"
      "app.example.com/x%3Fy%3D1%26z%3Da+b&pomerium_idp_id=idp~1",
      at(1700000000));
  EXPECT_EQ(signed_url,
            "https://authenticate.example.com/.pomerium/"
            "sign_in?pomerium_expiry=1700000300&pomerium_idp_id=idp~1&pomerium_issued=1700000000&"
            "pomerium_redirect_uri=https%3A%2F%2Fapp.example.com%2Fx%3Fy%3D1%26z%3Da+b&pomerium_"
            "signature=d6Dzcm2Ren1WkT0KIcb-OZDiur4uEUR_bI0sjpqwrfA%3D");
  EXPECT_TRUE(signer.verify(signed_url, at(1700000000)).ok());
}

TEST(SignedUrl, ParameterOrderAndEscapingDoNotMatter) {
  // Pomerium re-encodes the query before checking, so the same parameters in
  // another order, or with '=' unescaped, still verify.
  EXPECT_TRUE(SignedUrl("test-key")
                  .verify("https://pomerium.io?pomerium_signature=XtvM-Y-oPvoGGV2Q5G0vrQ_"
                          "CgNeYhVyTG5dHIqLsBOU=&pomerium_issued=1574117851&pomerium_expiry="
                          "1574118151",
                          at(1574117851))
                  .ok());
}

TEST(SignedUrl, RoundTripsAndKeepsPathAndFragment) {
  const SignedUrl signer(std::string(32, 's'));
  const std::string url =
      signer.sign("HTTPS://app.example.com/a/b?x=1&x=2&y=#frag", at(1700000000));
  // Scheme lower-cased as Go does; keys sorted, values of a key in order.
  EXPECT_EQ(url.substr(0, 44), "https://app.example.com/a/b?pomerium_expiry=") << url;
  EXPECT_EQ(url.substr(url.size() - 16), "&x=1&x=2&y=#frag") << url;
  EXPECT_TRUE(signer.verify(url, at(1700000000)).ok());
}

TEST(SignedUrl, SigningAgainReplacesTheOldParameters) {
  const SignedUrl signer("key");
  const std::string first = signer.sign("https://app.example.com/", at(1700000000));
  const std::string second = signer.sign(first, at(1700000100));
  EXPECT_EQ(second, signer.sign("https://app.example.com/", at(1700000100)));
  EXPECT_TRUE(signer.verify(second, at(1700000100)).ok());
}

TEST(SignedUrl, LeewayBoundaries) {
  const SignedUrl signer("key");
  const std::string url = signer.sign("https://app.example.com/", at(1700000000));
  const int64_t expiry = 1700000000 + 300;
  EXPECT_TRUE(signer.verify(url, at(expiry + 300)).ok());
  EXPECT_FALSE(signer.verify(url, at(expiry + 300) + std::chrono::milliseconds(1)).ok());
  EXPECT_FALSE(signer.verify(url, at(expiry + 301)).ok());
  EXPECT_TRUE(signer.verify(url, at(1700000000 - 300)).ok());
  EXPECT_FALSE(signer.verify(url, at(1700000000 - 301)).ok());
  auto expired = signer.verify(url, at(expiry + 301));
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
}

TEST(SignedUrl, RejectsTampering) {
  const SignedUrl signer("key");
  const auto now = at(1700000000);
  const std::string url = signer.sign("https://app.example.com/path?next=%2Fhome", now);
  ASSERT_TRUE(signer.verify(url, now).ok());
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string copy = url;
    copy.replace(copy.find(from), from.size(), to);
    return copy;
  };
  EXPECT_FALSE(signer.verify(replace("/path", "/other"), now).ok());
  EXPECT_FALSE(signer.verify(replace("app.example.com", "evil.example.com"), now).ok());
  EXPECT_FALSE(signer.verify(replace("next=%2Fhome", "next=%2F%2Fevil"), now).ok());
  EXPECT_FALSE(signer.verify(replace("next=", "extra=1&next="), now).ok());
  EXPECT_FALSE(
      signer.verify(replace("pomerium_expiry=1700000300", "pomerium_expiry=1800000300"), now).ok());
  EXPECT_FALSE(
      signer.verify(replace("pomerium_issued=1700000000", "pomerium_issued=1700000001"), now).ok());
  EXPECT_FALSE(signer.verify(url + "#x", now).ok());
  EXPECT_FALSE(SignedUrl("other").verify(url, now).ok());
}

TEST(SignedUrl, MalformedTimesAndSignatures) {
  const SignedUrl signer("key");
  const auto now = at(1700000000);
  for (const char* query : {"pomerium_issued=x&pomerium_expiry=1700000300&pomerium_signature=AAAA",
                            "pomerium_issued=1700000000&pomerium_expiry=&pomerium_signature=AAAA",
                            "pomerium_issued=1700000000&pomerium_expiry=99999999999999999999&"
                            "pomerium_signature=AAAA",
                            "pomerium_issued=1700000000&pomerium_expiry=1700000300",
                            "pomerium_issued=1700000000&pomerium_expiry=1700000300&pomerium_"
                            "signature=a+b/"}) {
    auto result = signer.verify(std::string("https://app.example.com/?") + query, now);
    ASSERT_FALSE(result.ok()) << query;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << query;
  }
  // Extreme but well-formed times neither overflow nor pass.
  EXPECT_FALSE(signer
                   .verify("https://app.example.com/?pomerium_issued=-9223372036854775808&pomerium_"
                           "expiry=9223372036854775807&pomerium_signature=AAAA",
                           now)
                   .ok());
}

}  // namespace
}  // namespace gatehouse::crypto

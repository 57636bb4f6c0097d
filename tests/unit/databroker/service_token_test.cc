#include "databroker/service_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"

namespace gatehouse::databroker {
namespace {

using namespace std::chrono_literals;

const std::string kSecret(32, 'k');

std::string sign(const std::string& header, const std::string& payload, const std::string& key) {
  std::string input = base64UrlEncode(header) + "." + base64UrlEncode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64UrlEncode(std::string(reinterpret_cast<char*>(mac), length));
}

std::string expIn(std::chrono::seconds from_now) {
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch() + from_now);
  return std::to_string(exp.count());
}

TEST(ServiceToken, AMintedTokenVerifiesWithTheSameSecretOnly) {
  std::string token = mintServiceToken(kSecret, now());
  EXPECT_TRUE(verifyServiceToken(token, kSecret, now()).ok());
  auto wrong = verifyServiceToken(token, std::string(32, 'x'), now());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
}

TEST(ServiceToken, TheOnlyClaimIsExp) {
  std::string token = mintServiceToken(kSecret, now());
  auto payload =
      base64Decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
  ASSERT_TRUE(payload);
  EXPECT_THAT(*payload, ::testing::MatchesRegex(R"(\{"exp":[0-9]+\})"));
}

TEST(ServiceToken, ExpiredTokensAreRefusedAfterAMinuteOfLeeway) {
  std::string token = mintServiceToken(kSecret, now(), 1min);
  EXPECT_TRUE(verifyServiceToken(token, kSecret, now() + 90s).ok());
  auto expired = verifyServiceToken(token, kSecret, now() + 3min);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().message, "jwt expired");
}

TEST(ServiceToken, RefusesEverythingElse) {
  std::string header = R"({"alg":"HS256","typ":"JWT"})";
  EXPECT_TRUE(
      verifyServiceToken(sign(header, R"({"exp":)" + expIn(60s) + "}", kSecret), kSecret, now())
          .ok());
  // Extra claims, a missing or non-numeric exp.
  EXPECT_FALSE(
      verifyServiceToken(sign(header, R"({"exp":)" + expIn(60s) + R"(,"sub":"x"})", kSecret),
                         kSecret, now())
          .ok());
  EXPECT_FALSE(verifyServiceToken(sign(header, R"({"iat":1})", kSecret), kSecret, now()).ok());
  EXPECT_FALSE(verifyServiceToken(sign(header, R"({"exp":"soon"})", kSecret), kSecret, now()).ok());
  // Other algorithms, "none" included.
  EXPECT_FALSE(
      verifyServiceToken(sign(R"({"alg":"HS512"})", R"({"exp":)" + expIn(60s) + "}", kSecret),
                         kSecret, now())
          .ok());
  std::string unsigned_token = base64UrlEncode(R"({"alg":"none"})") + "." +
                               base64UrlEncode(R"({"exp":)" + expIn(60s) + "}") + ".";
  EXPECT_FALSE(verifyServiceToken(unsigned_token, kSecret, now()).ok());
  // Garbage.
  EXPECT_FALSE(verifyServiceToken("", kSecret, now()).ok());
  EXPECT_FALSE(verifyServiceToken("a.b", kSecret, now()).ok());
  EXPECT_FALSE(verifyServiceToken("a.b.c.d", kSecret, now()).ok());
  EXPECT_FALSE(verifyServiceToken("!!.??.**", kSecret, now()).ok());
  // A flipped signature byte.
  std::string token = mintServiceToken(kSecret, now());
  char& c = token[token.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyServiceToken(token, kSecret, now()).ok());
}

TEST(ServiceTokenTest, SourceReusesOneValidTokenForAWhile) {
  ServiceTokenSource source{std::string(kSecret)};
  std::string first = source.current();
  EXPECT_EQ(source.current(), first);
  EXPECT_TRUE(verifyServiceToken(first, kSecret, now()).ok());
}

TEST(ServiceTokenTest, VerifierRemembersOnlyWhatVerified) {
  ServiceTokenVerifier verifier{std::string(kSecret)};
  std::string token = mintServiceToken(kSecret, now());
  EXPECT_TRUE(verifier.verify(token, now()).ok());
  EXPECT_TRUE(verifier.verify(token, now()).ok());  // from memory
  // A remembered token does not let a tampered or foreign one through.
  std::string tampered = token;
  char& c = tampered[tampered.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifier.verify(tampered, now()).ok());
  EXPECT_FALSE(
      verifier.verify(mintServiceToken("another-secret-of-32-bytes-long!", now()), now()).ok());
  // Past its expiry and the leeway it is refused, remembered or not.
  EXPECT_FALSE(verifier.verify(token, now() + std::chrono::minutes(3)).ok());
}

}  // namespace
}  // namespace gatehouse::databroker

#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// No secrets from the environment here: each test sets exactly what it means.
LoadResult loadBare(std::string_view text, const std::string& base_dir = "/nonexistent",
                    Environment env = {}) {
  return loadText(text, base_dir, env);
}

constexpr std::string_view kCookie =
    "cookie_secret: Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n";

TEST(SecretsTest, InlineSecrets) {
  LoadResult r = loadBare(
      "shared_secret: U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n"
      "cookie_secret: Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_EQ(r.options->secrets.shared_secret, "SharedSecretForTheExampleConfig!");
  EXPECT_FALSE(r.options->secrets.shared_secret_generated);
  EXPECT_EQ(r.options->secrets.cookie_secret, "CookieSecretForTheExampleConfig!");
  EXPECT_FALSE(r.options->secrets.cookie_secret_generated);
}

TEST(SecretsTest, WrongLength) {
  EXPECT_THAT(loadBare(std::string(kCookie) + "shared_secret: aGVsbG8gd29ybGQh\n").errors,
              ElementsAre("shared_secret: must be base64 of 32 bytes (got 12)"));
}

TEST(SecretsTest, InvalidBase64) {
  EXPECT_THAT(loadBare(std::string(kCookie) + "shared_secret: 'not*base64'\n").errors,
              ElementsAre("shared_secret: must be base64 of 32 bytes (not valid base64)"));
}

TEST(SecretsTest, WhitespaceIsRefused) {
  EXPECT_THAT(loadBare(std::string(kCookie) +
                       "shared_secret: \"U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE= \"\n")
                  .errors,
              ElementsAre("shared_secret: must not contain whitespace"));
  EXPECT_THAT(loadBare("cookie_secret: \"Q29va2llU2VjcmV0Rm9y VGhlRXhhbXBsZUNvbmZpZyE=\"\n").errors,
              ElementsAre("cookie_secret: must not contain whitespace"));
}

TEST(SecretsTest, FilesMayEndInANewline) {
  testing::TempDir dir;
  dir.write("secrets/shared", "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n");
  dir.write("secrets/cookie", "Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\r\n");
  LoadResult r = loadBare(
      "shared_secret_file: secrets/shared\ncookie_secret_file: secrets/cookie\n", dir.str());
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->secrets.shared_secret, "SharedSecretForTheExampleConfig!");
  EXPECT_EQ(r.options->secrets.cookie_secret, "CookieSecretForTheExampleConfig!");
  EXPECT_THAT(r.options->watched_files,
              ElementsAre(dir.str() + "/secrets/shared", dir.str() + "/secrets/cookie"));
}

TEST(SecretsTest, FileErrorsNameTheFileKey) {
  testing::TempDir dir;
  dir.write("short", "aGVsbG8=\n");
  EXPECT_THAT(loadBare(std::string(kCookie) + "shared_secret_file: short\n", dir.str()).errors,
              ElementsAre("shared_secret_file: must be base64 of 32 bytes (got 5)"));
  EXPECT_THAT(loadBare(std::string(kCookie) + "shared_secret_file: missing\n", dir.str()).errors,
              ElementsAre("shared_secret_file: cannot read \"" + dir.str() +
                          "/missing\": No such file or directory"));
}

TEST(SecretsTest, FileWinsOverInlineValue) {
  testing::TempDir dir;
  dir.write("shared", "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=");
  LoadResult r = loadBare(std::string(kCookie) +
                              "shared_secret: Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n"
                              "shared_secret_file: shared\n",
                          dir.str());
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->secrets.shared_secret, "SharedSecretForTheExampleConfig!");
  EXPECT_THAT(r.warnings, ElementsAre("shared_secret: ignored because shared_secret_file is set"));
}

TEST(SecretsTest, SplitServicesNeedTheSharedSecret) {
  EXPECT_THAT(loadBare("services: proxy\n").errors,
              ElementsAre("shared_secret: required when services is not \"all\""));
  EXPECT_THAT(loadBare("services: authenticate\n"
                       "shared_secret: U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n")
                  .errors,
              ElementsAre("cookie_secret: required when services is not \"all\""));
  LoadResult r = loadBare(
      "services: proxy\n"
      "shared_secret: U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=\n");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_TRUE(r.options->secrets.cookie_secret_generated);
}

TEST(SecretsTest, GeneratedSecretsDifferPerLoad) {
  LoadResult a = loadBare("");
  LoadResult b = loadBare("");
  ASSERT_TRUE(a.options && b.options);
  EXPECT_NE(a.options->secrets.shared_secret, b.options->secrets.shared_secret);
  EXPECT_TRUE(a.options->secrets.shared_secret_generated);
}

TEST(SecretsTest, SecretsFromTheEnvironment) {
  LoadResult r = loadBare("shared_secret: aGVsbG8=\n", "/nonexistent",
                          {{"SHARED_SECRET", "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE="},
                           {"COOKIE_SECRET", "c2hvcnQ="}});
  EXPECT_THAT(r.errors, ElementsAre("cookie_secret: must be base64 of 32 bytes (got 5) (from "
                                    "environment variable COOKIE_SECRET)"));
}

}  // namespace
}  // namespace gatehouse::config

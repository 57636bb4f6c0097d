#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/loader.h"

namespace gatehouse::config::testing {

// 32-byte secrets, base64: most tests set them so that the loader does not
// generate random ones (and warn about it).
inline constexpr std::string_view kSharedSecret = "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=";
inline constexpr std::string_view kCookieSecret = "Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE=";

inline Environment secretsEnv(Environment env = {}) {
  env.emplace("SHARED_SECRET", std::string(kSharedSecret));
  env.emplace("COOKIE_SECRET", std::string(kCookieSecret));
  return env;
}

// Loads YAML text with the secrets set and no other environment.
inline LoadResult load(std::string_view text, Environment env = {}) {
  return loadText(text, "/nonexistent", secretsEnv(std::move(env)));
}

// Loads text that must be valid; fails the test with the errors otherwise.
inline Options loadOk(std::string_view text, Environment env = {}) {
  LoadResult result = load(text, std::move(env));
  EXPECT_THAT(result.errors, ::testing::IsEmpty());
  EXPECT_TRUE(result.options.has_value());
  return result.options.value_or(Options{});
}

inline std::filesystem::path examplesDir() {
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "examples" / "config";
}

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh directory under the system temp dir, removed with its content.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-config-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    path_ = made ? std::filesystem::path(made) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Writes `content` to `name` (sub-directories are created) and returns the
  // absolute path.
  std::string write(const std::string& name, std::string_view content) const {
    std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

inline constexpr std::string_view kCertPem =
    "-----BEGIN CERTIFICATE-----\nTUlJQmZha2U=\n-----END CERTIFICATE-----\n";
inline constexpr std::string_view kKeyPem =
    "-----BEGIN PRIVATE KEY-----\nTUlJQmZha2VLZXk=\n-----END PRIVATE KEY-----\n";

}  // namespace gatehouse::config::testing

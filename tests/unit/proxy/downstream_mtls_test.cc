#include "proxy/downstream_mtls.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "support/test_pki.h"

namespace gatehouse::proxy {
namespace {

using gatehouse::testing::TestPki;
using Enforcement = net::ClientCertificateVerifier::Enforcement;

class DownstreamMtlsTest : public ::testing::Test {
 protected:
  DownstreamMtlsTest() : ca_pem_(TestPki::makeCa("Client CA").certPem()) {}
  ~DownstreamMtlsTest() override {
    for (const auto& path : files_) std::remove(path.c_str());
  }

  std::string writeFile(const std::string& content) {
    std::string path = ::testing::TempDir() + "downstream_mtls_" + std::to_string(getpid()) +
                       "_" + std::to_string(files_.size());
    std::ofstream(path) << content;
    files_.push_back(path);
    return path;
  }

  std::string ca_pem_;
  std::vector<std::string> files_;
};

TEST_F(DownstreamMtlsTest, NotConfiguredOrWithoutACaIsOff) {
  auto off = DownstreamMtls::parse("");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->verifier, nullptr);
  EXPECT_FALSE(off->deny_invalid_certificates);
  auto no_ca = DownstreamMtls::parse(R"({"enforcement":"reject_connection"})");
  ASSERT_TRUE(no_ca.ok());
  EXPECT_EQ(no_ca->verifier, nullptr);
  EXPECT_FALSE(no_ca->deny_invalid_certificates);
}

TEST_F(DownstreamMtlsTest, CaAsBase64DefaultsToPolicyWithDefaultDeny) {
  nlohmann::json settings = {{"ca", base64Encode(ca_pem_)}};
  auto mtls = DownstreamMtls::parse(settings.dump());
  ASSERT_TRUE(mtls.ok()) << mtls.error().message;
  ASSERT_NE(mtls->verifier, nullptr);
  EXPECT_EQ(mtls->verifier->enforcement(), Enforcement::kPolicyWithDefaultDeny);
  EXPECT_TRUE(mtls->deny_invalid_certificates);
}

TEST_F(DownstreamMtlsTest, CaFileAndEnforcement) {
  nlohmann::json settings = {{"ca_file", writeFile(ca_pem_)}, {"enforcement", "policy"}};
  auto mtls = DownstreamMtls::parse(settings.dump());
  ASSERT_TRUE(mtls.ok()) << mtls.error().message;
  EXPECT_EQ(mtls->verifier->enforcement(), Enforcement::kPolicy);
  EXPECT_FALSE(mtls->deny_invalid_certificates);

  settings["enforcement"] = "reject_connection";
  mtls = DownstreamMtls::parse(settings.dump());
  ASSERT_TRUE(mtls.ok());
  EXPECT_EQ(mtls->verifier->enforcement(), Enforcement::kRejectConnection);
  EXPECT_FALSE(mtls->deny_invalid_certificates);
}

TEST_F(DownstreamMtlsTest, ErrorsNameTheKey) {
  auto error = [](const nlohmann::json& settings) {
    auto mtls = DownstreamMtls::parse(settings.dump());
    return mtls.ok() ? std::string("ok") : mtls.error().message;
  };
  std::string ca64 = base64Encode(ca_pem_);
  EXPECT_EQ(error({{"ca", ca64}, {"ca_file", "/x"}}),
            "downstream_mtls: cannot set both ca and ca_file");
  EXPECT_EQ(error({{"ca", "!!!"}}), "downstream_mtls.ca: is neither base64 nor PEM");
  EXPECT_EQ(error({{"ca", base64Encode("hello")}}).rfind("downstream_mtls.ca: ", 0), 0u);
  EXPECT_EQ(error({{"ca_file", "/nonexistent/ca.pem"}}).rfind("downstream_mtls.ca_file: cannot read", 0), 0u);
  EXPECT_EQ(error({{"ca_file", writeFile("junk")}}).rfind("downstream_mtls.ca_file: ", 0), 0u);
  EXPECT_EQ(error({{"ca", ca64}, {"crl", base64Encode("junk")}}).rfind("downstream_mtls.crl: ", 0), 0u);
  EXPECT_EQ(error({{"ca", ca64}, {"match_subject_alt_names", {{{"phone", "x"}}}}})
                .rfind("downstream_mtls.match_subject_alt_names[0]: unknown SAN type", 0),
            0u);
  EXPECT_EQ(error({{"ca", ca64}, {"match_subject_alt_names", {{{"dns", "("}}}}})
                .rfind("downstream_mtls.match_subject_alt_names[0]: invalid regular expression", 0),
            0u);
}

TEST_F(DownstreamMtlsTest, SubjectAltNameMatchersAsAListOrAMap) {
  for (const nlohmann::json& matchers :
       {nlohmann::json::array({{{"email", ".*@example\\.com"}}, {{"DNS", "a\\.test"}}}),
        nlohmann::json({{"email", ".*@example\\.com"}})}) {
    nlohmann::json settings = {{"ca", ca_pem_}, {"match_subject_alt_names", matchers}};
    auto mtls = DownstreamMtls::parse(settings.dump());
    ASSERT_TRUE(mtls.ok()) << mtls.error().message;
    auto ca = TestPki::makeCa("unused");
    auto alice = TestPki::issue(ca, "alice", {"subjectAltName=email:alice@example.com"});
    auto bob = TestPki::issue(ca, "bob", {"subjectAltName=email:bob@example.org"});
    EXPECT_TRUE(mtls->verifier->subjectAltNamesMatch(alice.cert.get()));
    EXPECT_FALSE(mtls->verifier->subjectAltNamesMatch(bob.cert.get()));
  }
}

}  // namespace
}  // namespace gatehouse::proxy

#include "common/base64.h"
#include "config/loader.h"
#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FilesTest, RelativePathsResolveAgainstTheConfigFile) {
  testing::TempDir dir;
  dir.write("tls/cert.pem", testing::kCertPem);
  dir.write("tls/key.pem", testing::kKeyPem);
  dir.write("ca/upstream.pem", testing::kCertPem);
  std::string config = dir.write("etc/gatehouse.yaml",
                                 "certificate_file: ../tls/cert.pem\n"
                                 "certificate_key_file: ../tls/key.pem\n"
                                 "routes:\n"
                                 "  - from: https://a.example.com\n"
                                 "    to: https://a.internal\n"
                                 "    tls_custom_ca_file: ../ca/upstream.pem\n");
  LoadResult r = loadFile(config, testing::secretsEnv());
  ASSERT_THAT(r.errors, IsEmpty());
  const Options& o = *r.options;
  ASSERT_EQ(o.listener.certificates.size(), 1u);
  EXPECT_EQ(o.listener.certificates[0].cert_pem, testing::kCertPem);
  EXPECT_EQ(o.listener.certificates[0].key_pem, testing::kKeyPem);
  EXPECT_EQ(o.listener.certificates[0].origin, "certificate_file");
  EXPECT_EQ(o.routes[0].tls_custom_ca_pem, testing::kCertPem);
  EXPECT_THAT(o.watched_files,
              ElementsAre(dir.str() + "/ca/upstream.pem", dir.str() + "/tls/cert.pem",
                          dir.str() + "/tls/key.pem"));
}

TEST(FilesTest, CertificatesListTakesFilesOrInlineBase64) {
  testing::TempDir dir;
  dir.write("a.pem", testing::kCertPem);
  dir.write("a-key.pem", testing::kKeyPem);
  std::string inline_cert = base64Encode(testing::kCertPem);
  std::string inline_key = base64Encode(testing::kKeyPem);
  LoadResult r = loadText(
      "certificates:\n"
      "  - cert: a.pem\n"
      "    key: " +
          dir.str() +
          "/a-key.pem\n"
          "  - cert: " +
          inline_cert +
          "\n"
          "    key: " +
          inline_key + "\n",
      dir.str(), testing::secretsEnv());
  ASSERT_THAT(r.errors, IsEmpty());
  const auto& certs = r.options->listener.certificates;
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0].cert_pem, testing::kCertPem);
  EXPECT_EQ(certs[0].origin, "certificates[0]");
  EXPECT_EQ(certs[1].key_pem, testing::kKeyPem);
  EXPECT_EQ(certs[1].origin, "certificates[1]");
  EXPECT_THAT(r.options->watched_files,
              ElementsAre(dir.str() + "/a.pem", dir.str() + "/a-key.pem"));
}

TEST(FilesTest, CertificateErrors) {
  testing::TempDir dir;
  dir.write("notpem.txt", "hello");
  auto errors = [&](const std::string& text) {
    return loadText(text, dir.str(), testing::secretsEnv()).errors;
  };
  EXPECT_THAT(errors("certificates:\n  - cert: missing.pem\n    key: notpem.txt\n"),
              ElementsAre("certificates[0].cert: cannot read \"" + dir.str() +
                              "/missing.pem\": No such file or directory",
                          "certificates[0].key: \"" + dir.str() +
                              "/notpem.txt\" does not contain PEM data"));
  EXPECT_THAT(errors("certificates:\n  - cert: aGVsbG8=\n    key: aGVsbG8=\n"),
              ElementsAre("certificates[0].cert: neither a readable file nor base64-encoded PEM",
                          "certificates[0].key: neither a readable file nor base64-encoded PEM"));
  EXPECT_THAT(errors("certificates:\n  - cert: a.pem\n"),
              ElementsAre("certificates[0].key: required"));
  EXPECT_THAT(errors("certificate_file: notpem.txt\n"),
              ElementsAre("certificate_key_file: certificate_file and certificate_key_file must be "
                          "set together"));
  EXPECT_THAT(
      errors("certificate_file: gone.pem\ncertificate_key_file: notpem.txt\n"),
      ElementsAre(
          "certificate_file: cannot read \"" + dir.str() + "/gone.pem\": No such file or directory",
          "certificate_key_file: \"" + dir.str() + "/notpem.txt\" does not contain PEM data"));
  EXPECT_THAT(
      errors("certificate: '%%'\ncertificate_key: " + base64Encode(testing::kKeyPem) + "\n"),
      ElementsAre("certificate: invalid base64"));
  EXPECT_THAT(errors("certificate_file: .\ncertificate_key_file: notpem.txt\n"),
              ElementsAre("certificate_file: cannot read \"" + dir.str() + "\": not a regular file",
                          "certificate_key_file: \"" + dir.str() +
                              "/notpem.txt\" does not contain PEM data"));
}

TEST(FilesTest, ClientCertificateFiles) {
  testing::TempDir dir;
  dir.write("client.pem", testing::kCertPem);
  dir.write("client-key.pem", testing::kKeyPem);
  LoadResult r = loadText(
      "routes:\n"
      "  - from: https://a.example.com\n"
      "    to: https://a.internal\n"
      "    tls_client_cert_file: client.pem\n"
      "    tls_client_key_file: client-key.pem\n",
      dir.str(), testing::secretsEnv());
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.options->routes[0].tls_client_cert_pem, testing::kCertPem);
  EXPECT_EQ(r.options->routes[0].tls_client_key_pem, testing::kKeyPem);
  EXPECT_THAT(loadText("routes:\n"
                       "  - from: https://a.example.com\n"
                       "    to: https://a.internal\n"
                       "    tls_client_key_file: client-key.pem\n",
                       dir.str(), testing::secretsEnv())
                  .errors,
              ElementsAre("routes[0]: tls_client_cert_file and tls_client_key_file must be set "
                          "together"));
}

TEST(FilesTest, LoadFileResolvesAgainstItsOwnDirectoryNotTheWorkingDirectory) {
  testing::TempDir dir;
  dir.write("conf/shared", std::string(testing::kSharedSecret));
  std::string config = dir.write("conf/gatehouse.yaml", "shared_secret_file: shared\n");
  LoadResult r = loadFile(config, {});
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.options->watched_files, ElementsAre(dir.str() + "/conf/shared"));
}

}  // namespace
}  // namespace gatehouse::config

#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

constexpr std::string_view kFingerprint =
    "17859273e8a980631d367b2d5a6a6635412b0f22835f69e47b3f65624546a704";
constexpr std::string_view kLongFingerprint =
    "17:85:92:73:E8:A9:80:63:1D:36:7B:2D:5A:6A:66:35:41:2B:0F:22:83:5F:69:E4:7B:3F:65:62:45:46:"
    "A7:04";
constexpr std::string_view kSpki = "FsDbM0rUYIiL3V339eIKqiz6HPSB+Pz2WeAWhqlqh8U=";
constexpr std::string_view kOtherSpki = "pbdFxDXEtpabt3MZiik71farokMg6ZIn2azvsdXtZYA=";

Request withCertificate() {
  Request r;
  r.cert_presented = true;
  r.cert_valid = true;
  r.cert_fingerprint = std::string(kFingerprint);
  r.cert_spki = std::string(kSpki);
  r.san_email = {"alice@yourdomain.com"};
  r.san_dns = {"client.internal", "backup.internal"};
  r.san_uri = {"spiffe://example.org/workload"};
  return r;
}

Decision decide(std::string_view matcher, Request r) {
  Policy policy =
      compileOk("allow:\n  and:\n    - client_certificate: " + std::string(matcher) + "\n");
  return policy.evaluate(r.input());
}

TEST(ClientCertificateCriterion, Fingerprint) {
  Decision d = decide("{fingerprint: '" + std::string(kFingerprint) + "'}", withCertificate());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"client-certificate-ok"});
  EXPECT_TRUE(decide("{fingerprint: '" + std::string(kLongFingerprint) + "'}", withCertificate())
                  .allowed());
  EXPECT_TRUE(
      decide("{fingerprint: ['" + std::string(64, 'a') + "', '" + std::string(kFingerprint) + "']}",
             withCertificate())
          .allowed());
  Decision no = decide("{fingerprint: '" + std::string(64, 'a') + "'}", withCertificate());
  EXPECT_FALSE(no.allowed());
  EXPECT_EQ(names(no.allow_reasons), Names{"client-certificate-unauthorized"});
}

TEST(ClientCertificateCriterion, SpkiHash) {
  EXPECT_TRUE(decide("{spki_hash: '" + std::string(kSpki) + "'}", withCertificate()).allowed());
  EXPECT_TRUE(
      decide("{spki_hash: ['" + std::string(kOtherSpki) + "', '" + std::string(kSpki) + "']}",
             withCertificate())
          .allowed());
  EXPECT_FALSE(
      decide("{spki_hash: '" + std::string(kOtherSpki) + "'}", withCertificate()).allowed());
}

TEST(ClientCertificateCriterion, SanMatchers) {
  EXPECT_TRUE(decide("{san_email: {ends_with: '@yourdomain.com'}}", withCertificate()).allowed());
  EXPECT_FALSE(decide("{san_email: {ends_with: '@other.com'}}", withCertificate()).allowed());
  EXPECT_TRUE(decide("{san_dns: backup.internal}", withCertificate()).allowed());
  EXPECT_TRUE(
      decide("{san_uri: {starts_with: 'spiffe://example.org/'}}", withCertificate()).allowed());
  // Each operator needs some SAN, not necessarily the same one (Pomerium).
  EXPECT_TRUE(
      decide("{san_dns: {starts_with: client, ends_with: backup.internal}}", withCertificate())
          .allowed());
  Request no_sans = withCertificate();
  no_sans.san_dns.clear();
  EXPECT_FALSE(decide("{san_dns: {not: x}}", no_sans).allowed());
}

TEST(ClientCertificateCriterion, AllKeysMustHold) {
  std::string both = "{fingerprint: '" + std::string(kFingerprint) + "', san_dns: nope.internal}";
  EXPECT_FALSE(decide(both, withCertificate()).allowed());
}

TEST(ClientCertificateCriterion, NoCertificate) {
  Request r;
  Decision d = decide("{}", r);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"client-certificate-unauthorized"});
  EXPECT_TRUE(decide("{}", withCertificate()).allowed());
}

TEST(ClientCertificateCriterion, InvalidData) {
  auto error = [](std::string_view data) {
    return compileError("allow:\n  and:\n    - client_certificate: " + std::string(data) + "\n");
  };
  EXPECT_THAT(error("abc"), ::testing::HasSubstr("expected object for certificate matcher"));
  EXPECT_THAT(error("{fingerprint: abc}"),
              ::testing::HasSubstr("unsupported certificate fingerprint format (abc)"));
  EXPECT_THAT(error("{fingerprint: ''}"), ::testing::HasSubstr("must not be empty"));
  EXPECT_THAT(error("{fingerprint: 5}"),
              ::testing::HasSubstr("expects a string or array of strings"));
  EXPECT_THAT(error("{spki_hash: abc}"),
              ::testing::HasSubstr("must be a base64-encoded SHA-256 hash"));
  EXPECT_THAT(error("{serial: 1}"),
              ::testing::HasSubstr("unsupported certificate matcher condition: serial"));
  EXPECT_THAT(error("{san_dns: {iss: x}}"),
              ::testing::HasSubstr("san_dns: unknown string matcher operator"));
  // Upper-case short form and lower-case long form are not fingerprints.
  std::string upper = "{fingerprint: '" + std::string(64, 'A') + "'}";
  EXPECT_THAT(error(upper), ::testing::HasSubstr("unsupported certificate fingerprint format"));
}

}  // namespace
}  // namespace gatehouse::policy::testing

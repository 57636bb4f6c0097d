#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

constexpr std::string_view kPolicy =
    "- allow:\n    or: [{accept: true}]\n- deny:\n    or: [{invalid_client_certificate: true}]\n";

TEST(InvalidClientCertificateCriterion, ValidCertificateIsNotDenied) {
  Policy policy = compileOk(kPolicy);
  Request r;
  r.cert_presented = true;
  r.cert_valid = true;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"valid-client-certificate"});
}

TEST(InvalidClientCertificateCriterion, MissingCertificateIsRequired) {
  Policy policy = compileOk(kPolicy);
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.deny);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"client-certificate-required"});
}

TEST(InvalidClientCertificateCriterion, UntrustedCertificateIsInvalid) {
  Policy policy = compileOk(kPolicy);
  Request r;
  r.cert_presented = true;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.deny);
  EXPECT_EQ(names(d.deny_reasons), Names{"invalid-client-certificate"});
}

TEST(InvalidClientCertificateCriterion, NoClientCaMeansValid) {
  // Callers set valid when no client CA is configured, as Pomerium does:
  // then no certificate is needed.
  Policy policy = compileOk(kPolicy);
  Request r;
  r.cert_valid = true;
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

TEST(InvalidClientCertificateCriterion, DefaultDenyRuleFromCompileOptions) {
  CompileOptions options;
  options.deny_invalid_client_certificate = true;
  Policy policy = compileOk("allow:\n  or: [{accept: true}]\n", options);
  Request without;
  Decision d = policy.evaluate(without.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"client-certificate-required"});
  Request with;
  with.cert_presented = true;
  with.cert_valid = true;
  EXPECT_TRUE(policy.evaluate(with.input()).allowed());
  // Without the option the same policy allows.
  Policy plain = compileOk("allow:\n  or: [{accept: true}]\n");
  EXPECT_TRUE(plain.evaluate(without.input()).allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

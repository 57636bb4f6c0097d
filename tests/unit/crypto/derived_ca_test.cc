#include "crypto/derived_ca.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

using detail::Deleter;
using detail::PkeyPtr;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

constexpr std::string_view kSecret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456";

X509Ptr parseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

PkeyPtr parseKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

std::string der(X509* cert, int (*encode)(X509*, unsigned char**)) {
  unsigned char* out = nullptr;
  int length = encode(cert, &out);
  std::string bytes(reinterpret_cast<char*>(out), static_cast<size_t>(std::max(length, 0)));
  OPENSSL_free(out);
  return bytes;
}

std::string publicKeyDer(X509* cert) {
  unsigned char* out = nullptr;
  int length = i2d_PUBKEY(X509_get0_pubkey(cert), &out);
  std::string bytes(reinterpret_cast<char*>(out), static_cast<size_t>(std::max(length, 0)));
  OPENSSL_free(out);
  return bytes;
}

std::string serialHex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string text(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  return text;
}

std::string subjectText(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  return buf;
}

// OpenSSL's chain verification of `leaf` for `host` (a TLS server) with
// `ca_pem` as the only trust anchor: X509_V_OK or the error. An empty
// `host` checks no name.
int verify(const std::string& ca_pem, const std::string& leaf_pem, const std::string& host) {
  X509Ptr ca = parseCert(ca_pem);
  X509Ptr leaf = parseCert(leaf_pem);
  if (!ca || !leaf) return -1;
  StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (!host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

std::unique_ptr<DerivedCa> derive(std::string_view secret) {
  auto ca = DerivedCa::create(secret);
  EXPECT_TRUE(ca.ok()) << ca.error().message;
  return ca.ok() ? std::move(*ca) : nullptr;
}

TEST(DerivedCa, TheSameSecretGivesTheSameCaInEveryDerivation) {
  auto first = derive(kSecret);
  auto second = derive(kSecret);
  ASSERT_TRUE(first && second);
  X509Ptr a = parseCert(first->certificatePem());
  X509Ptr b = parseCert(second->certificatePem());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(publicKeyDer(a.get()), publicKeyDer(b.get()));
  EXPECT_EQ(subjectText(a.get()), "/O=Pomerium/CN=Pomerium PSK CA");
  EXPECT_EQ(subjectText(a.get()), subjectText(b.get()));
  EXPECT_EQ(serialHex(a.get()), serialHex(b.get()));
  // Everything but the (randomised) ECDSA signature is the same bytes.
  EXPECT_EQ(der(a.get(), i2d_re_X509_tbs), der(b.get(), i2d_re_X509_tbs));
  EXPECT_EQ(X509_check_ca(a.get()), 1);
  EXPECT_EQ(X509_check_issued(a.get(), a.get()), X509_V_OK);

  auto other = derive("another secret of thirty-two byt");
  ASSERT_TRUE(other);
  X509Ptr c = parseCert(other->certificatePem());
  EXPECT_NE(publicKeyDer(a.get()), publicKeyDer(c.get()));
}

TEST(DerivedCa, AServerCertificateVerifiesAgainstTheCaForItsDomainOnly) {
  auto ca = derive(kSecret);
  ASSERT_TRUE(ca);
  auto leaf = ca->issueServerCertificate("Grpc.Internal.Example");
  ASSERT_TRUE(leaf.ok()) << leaf.error().message;
  EXPECT_EQ(verify(ca->certificatePem(), leaf->cert_pem, "grpc.internal.example"), X509_V_OK);
  EXPECT_EQ(verify(ca->certificatePem(), leaf->cert_pem, "other.example"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  // The key goes with the certificate.
  X509Ptr cert = parseCert(leaf->cert_pem);
  PkeyPtr key = parseKey(leaf->key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  // Not a CA: it cannot issue certificates of its own.
  EXPECT_EQ(X509_check_ca(cert.get()), 0);

  // Another process with the same secret trusts it: its own CA, derived
  // anew, verifies the leaf.
  auto again = derive(kSecret);
  ASSERT_TRUE(again);
  EXPECT_EQ(verify(again->certificatePem(), leaf->cert_pem, "grpc.internal.example"), X509_V_OK);
  // And the leaf key is the same in every process.
  auto leaf_again = again->issueServerCertificate("grpc.internal.example");
  ASSERT_TRUE(leaf_again.ok());
  X509Ptr cert_again = parseCert(leaf_again->cert_pem);
  EXPECT_EQ(publicKeyDer(cert.get()), publicKeyDer(cert_again.get()));
}

TEST(DerivedCa, AProcessWithAnotherSecretDoesNotVerifyTheCertificate) {
  auto ca = derive(kSecret);
  auto other = derive("another secret of thirty-two byt");
  ASSERT_TRUE(ca && other);
  auto leaf = ca->issueServerCertificate("grpc.internal.example");
  ASSERT_TRUE(leaf.ok());
  int result = verify(other->certificatePem(), leaf->cert_pem, "grpc.internal.example");
  // Same issuer name, but the leaf's authority key identifier names
  // another key, so this CA is not even a candidate issuer.
  EXPECT_EQ(result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(DerivedCa, AnIpLiteralBecomesAnIpAddressName) {
  auto ca = derive(kSecret);
  ASSERT_TRUE(ca);
  auto leaf = ca->issueServerCertificate("127.0.0.1");
  ASSERT_TRUE(leaf.ok()) << leaf.error().message;
  X509Ptr cert = parseCert(leaf->cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
}

TEST(DerivedCa, ADomainThatIsNotANameIsRefused) {
  auto ca = derive(kSecret);
  ASSERT_TRUE(ca);
  for (std::string bad : {std::string(), std::string("a.example,DNS:evil.example"),
                          std::string("a b"), std::string("a\0b", 3)}) {
    EXPECT_FALSE(ca->issueServerCertificate(bad).ok()) << bad;
  }
  EXPECT_FALSE(DerivedCa::create("").ok());
}

// Pomerium's own test (config/config_test.go, TestGenerateCatchAllCertificate)
// expects this certificate for "*" from the same secret, issued by its
// pkg/derivecert. It verifies against the CA derived here, and a
// certificate derived here for "*" has the same key and serial number.
constexpr const char* kPomeriumCatchAllCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBlzCCAT2gAwIBAgIRAPmKEV01Qa1gBWn9yUQPCFgwCgYIKoZIzj0EAwIwLTER
MA8GA1UEChMIUG9tZXJpdW0xGDAWBgNVBAMTD1BvbWVyaXVtIFBTSyBDQTAgFw0y
MjEyMDEwMDAwMDBaGA8yMDUwMTIwMTAwMDAwMFowEzERMA8GA1UEChMIUG9tZXJp
dW0wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASkOynLyo4bsBFKiTN87zqoGe4x
62tdRaE+g5Trxqqv8qWwhb4q9fUWI+pNQigBe2HsGJFsneA2M0S11RXVG2ffo1Yw
VDAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHwYDVR0jBBgw
FoAU384OyoQVoqmKbzZbfHny25RhyqcwDAYDVR0RBAUwA4IBKjAKBggqhkjOPQQD
AgNIADBFAiEAitjxkg8yM/OWXGrzdUOA0gAh/c53/+7Gr45XEFCBMNQCIB3OzfDM
z/tcTCNUHYSh638283eNtxzfadbEhEjJ1Bpe
-----END CERTIFICATE-----
)";

TEST(DerivedCa, MatchesPomeriumsDerivation) {
  auto ca = derive(kSecret);
  ASSERT_TRUE(ca);
  EXPECT_EQ(verify(ca->certificatePem(), kPomeriumCatchAllCertificate, ""), X509_V_OK);
  auto leaf = ca->issueServerCertificate("*");
  ASSERT_TRUE(leaf.ok()) << leaf.error().message;
  X509Ptr ours = parseCert(leaf->cert_pem);
  X509Ptr theirs = parseCert(kPomeriumCatchAllCertificate);
  ASSERT_TRUE(ours && theirs);
  EXPECT_EQ(publicKeyDer(ours.get()), publicKeyDer(theirs.get()));
  EXPECT_EQ(serialHex(ours.get()), "F98A115D3541AD600569FDC9440F0858");
  EXPECT_EQ(serialHex(ours.get()), serialHex(theirs.get()));
}

}  // namespace
}  // namespace gatehouse::crypto

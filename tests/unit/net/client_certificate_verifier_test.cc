#include "net/client_certificate_verifier.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "support/test_pki.h"

namespace gatehouse::net {
namespace {

using testing::TestCertificate;
using testing::TestPki;
using Enforcement = ClientCertificateVerifier::Enforcement;
using SanType = ClientCertificateVerifier::SanType;

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// What a server saw of one handshake driven over an in-memory BIO pair.
struct Handshake {
  bool server_ok = false;
  ClientCertificate certificate;
};

class ClientCertificateVerifierTest : public ::testing::Test {
 protected:
  ClientCertificateVerifierTest()
      : ca_(TestPki::makeCa("Client CA")),
        other_ca_(TestPki::makeCa("Other CA")),
        server_(TestPki::issue(ca_, "server", {"basicConstraints=CA:FALSE",
                                               "extendedKeyUsage=serverAuth",
                                               "subjectAltName=DNS:server.test"})) {}

  std::shared_ptr<const ClientCertificateVerifier> verifier(
      ClientCertificateVerifier::Settings settings) {
    if (settings.ca_pem.empty()) settings.ca_pem = ca_.certPem();
    auto v = ClientCertificateVerifier::create(settings);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : nullptr;
  }

  // Runs a TLS handshake between a server context configured by `v` and a
  // client presenting `client` (with `chain` after it), or none.
  Handshake handshake(const ClientCertificateVerifier& v, const TestCertificate* client,
                      const std::vector<const TestCertificate*>& chain = {}) {
    CtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(server_ctx.get(), server_.cert.get());
    SSL_CTX_use_PrivateKey(server_ctx.get(), server_.key.get());
    EXPECT_TRUE(v.configure(server_ctx.get()).ok());
    CtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);
    if (client) {
      SSL_CTX_use_certificate(client_ctx.get(), client->cert.get());
      SSL_CTX_use_PrivateKey(client_ctx.get(), client->key.get());
      for (const TestCertificate* c : chain) SSL_CTX_add1_chain_cert(client_ctx.get(), c->cert.get());
    }
    SslPtr server(SSL_new(server_ctx.get()));
    SslPtr client_ssl(SSL_new(client_ctx.get()));
    BIO* server_bio = nullptr;
    BIO* client_bio = nullptr;
    BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_bio(client_ssl.get(), client_bio, client_bio);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client_ssl.get());

    Handshake result;
    bool client_done = false;
    for (int round = 0; round < 20; ++round) {
      if (!client_done) {
        int rc = SSL_do_handshake(client_ssl.get());
        if (rc == 1) client_done = true;
        int err = SSL_get_error(client_ssl.get(), rc);
        if (rc != 1 && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
      }
      int rc = SSL_do_handshake(server.get());
      if (rc == 1) {
        result.server_ok = true;
        break;
      }
      int err = SSL_get_error(server.get(), rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
    }
    ERR_clear_error();
    if (result.server_ok) result.certificate = v.inspect(server.get());
    return result;
  }

  TestCertificate ca_;
  TestCertificate other_ca_;
  TestCertificate server_;
};

TEST_F(ClientCertificateVerifierTest, PolicyModeAcceptsAHandshakeWithoutACertificate) {
  auto v = verifier({});
  Handshake h = handshake(*v, nullptr);
  ASSERT_TRUE(h.server_ok);
  EXPECT_FALSE(h.certificate.presented);
  EXPECT_FALSE(h.certificate.valid);
  EXPECT_TRUE(h.certificate.fingerprint_sha256.empty());
}

TEST_F(ClientCertificateVerifierTest, ValidCertificateIsDescribed) {
  auto v = verifier({});
  TestCertificate client =
      TestPki::issue(ca_, "alice", {"basicConstraints=CA:FALSE", "extendedKeyUsage=clientAuth",
                                    "subjectAltName=DNS:alice.test,email:alice@example.com,"
                                    "URI:spiffe://example/alice"});
  Handshake h = handshake(*v, &client);
  ASSERT_TRUE(h.server_ok);
  EXPECT_TRUE(h.certificate.presented);
  EXPECT_TRUE(h.certificate.valid) << h.certificate.verify_error;
  EXPECT_EQ(h.certificate.verify_error, "");
  EXPECT_EQ(h.certificate.fingerprint_sha256, client.derSha256Hex());
  EXPECT_EQ(h.certificate.spki_sha256_base64.size(), 44u);
  EXPECT_EQ(h.certificate.san_dns, std::vector<std::string>{"alice.test"});
  EXPECT_EQ(h.certificate.san_email, std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(h.certificate.san_uri, std::vector<std::string>{"spiffe://example/alice"});
  EXPECT_EQ(h.certificate.leaf_pem, client.certPem());
}

TEST_F(ClientCertificateVerifierTest, PolicyModeRecordsAnUntrustedCertificate) {
  auto v = verifier({});
  TestCertificate stranger = TestPki::issue(other_ca_, "mallory");
  Handshake h = handshake(*v, &stranger);
  ASSERT_TRUE(h.server_ok);
  EXPECT_TRUE(h.certificate.presented);
  EXPECT_FALSE(h.certificate.valid);
  EXPECT_NE(h.certificate.verify_error, "");
  EXPECT_EQ(h.certificate.fingerprint_sha256, stranger.derSha256Hex());
}

TEST_F(ClientCertificateVerifierTest, RejectConnectionFailsTheHandshakeWithoutAValidCertificate) {
  ClientCertificateVerifier::Settings settings;
  settings.enforcement = Enforcement::kRejectConnection;
  auto v = verifier(settings);
  EXPECT_FALSE(handshake(*v, nullptr).server_ok);
  TestCertificate stranger = TestPki::issue(other_ca_, "mallory");
  EXPECT_FALSE(handshake(*v, &stranger).server_ok);
  TestCertificate client = TestPki::issue(ca_, "alice");
  Handshake h = handshake(*v, &client);
  ASSERT_TRUE(h.server_ok);
  EXPECT_TRUE(h.certificate.valid);
}

TEST_F(ClientCertificateVerifierTest, RevokedCertificateIsInvalid) {
  TestCertificate revoked = TestPki::issue(ca_, "revoked");
  TestCertificate good = TestPki::issue(ca_, "good");
  ClientCertificateVerifier::Settings settings;
  settings.crl_pem = TestPki::crlPem(ca_, {&revoked});
  auto v = verifier(settings);
  Handshake bad = handshake(*v, &revoked);
  ASSERT_TRUE(bad.server_ok);
  EXPECT_TRUE(bad.certificate.presented);
  EXPECT_FALSE(bad.certificate.valid);
  EXPECT_NE(bad.certificate.verify_error.find("revoked"), std::string::npos)
      << bad.certificate.verify_error;
  Handshake ok = handshake(*v, &good);
  ASSERT_TRUE(ok.server_ok);
  EXPECT_TRUE(ok.certificate.valid) << ok.certificate.verify_error;
}

TEST_F(ClientCertificateVerifierTest, MaxVerifyDepthCountsTheCertificatesAboveTheLeaf) {
  TestCertificate intermediate =
      TestPki::issue(ca_, "Intermediate", {"basicConstraints=critical,CA:TRUE",
                                           "keyUsage=critical,keyCertSign,cRLSign"});
  TestCertificate client = TestPki::issue(intermediate, "bob");
  ClientCertificateVerifier::Settings settings;
  // The default (1): only certificates issued by a CA in the bundle.
  Handshake h = handshake(*verifier(settings), &client, {&intermediate});
  ASSERT_TRUE(h.server_ok);
  EXPECT_FALSE(h.certificate.valid);
  settings.max_verify_depth = 2;
  h = handshake(*verifier(settings), &client, {&intermediate});
  ASSERT_TRUE(h.server_ok);
  EXPECT_TRUE(h.certificate.valid) << h.certificate.verify_error;
  settings.max_verify_depth = 0;  // no limit
  h = handshake(*verifier(settings), &client, {&intermediate});
  EXPECT_TRUE(h.certificate.valid) << h.certificate.verify_error;
  // An intermediate in the bundle is a trust anchor itself.
  settings.max_verify_depth = 1;
  settings.ca_pem = intermediate.certPem();
  h = handshake(*verifier(settings), &client);
  EXPECT_TRUE(h.certificate.valid) << h.certificate.verify_error;
}

TEST_F(ClientCertificateVerifierTest, SubjectAltNameMatchersDecideValidity) {
  ClientCertificateVerifier::Settings settings;
  settings.match_subject_alt_names = {{SanType::kEmail, R"(.*@example\.com)"},
                                      {SanType::kDns, R"(svc\.internal)"}};
  auto v = verifier(settings);
  TestCertificate alice = TestPki::issue(
      ca_, "alice", {"extendedKeyUsage=clientAuth", "subjectAltName=email:alice@example.com"});
  TestCertificate svc = TestPki::issue(
      ca_, "svc", {"extendedKeyUsage=clientAuth", "subjectAltName=DNS:svc.internal"});
  // Full matches only: "svc.internal.evil" does not match "svc\.internal".
  TestCertificate evil = TestPki::issue(
      ca_, "evil", {"extendedKeyUsage=clientAuth",
                    "subjectAltName=email:eve@example.com.evil,DNS:svc.internal.evil"});
  TestCertificate none = TestPki::issue(ca_, "none");
  EXPECT_TRUE(handshake(*v, &alice).certificate.valid);
  EXPECT_TRUE(handshake(*v, &svc).certificate.valid);
  Handshake h = handshake(*v, &evil);
  ASSERT_TRUE(h.server_ok);
  EXPECT_TRUE(h.certificate.presented);
  EXPECT_FALSE(h.certificate.valid);
  EXPECT_NE(h.certificate.verify_error.find("match_subject_alt_names"), std::string::npos);
  EXPECT_FALSE(handshake(*v, &none).certificate.valid);

  settings.enforcement = Enforcement::kRejectConnection;
  auto reject = verifier(settings);
  EXPECT_FALSE(handshake(*reject, &evil).server_ok);
  EXPECT_TRUE(handshake(*reject, &alice).server_ok);
}

TEST_F(ClientCertificateVerifierTest, IpAddressAndUserPrincipalNameMatchers) {
  ClientCertificateVerifier::Settings settings;
  settings.match_subject_alt_names = {{SanType::kIpAddress, R"(10\.0\.0\.\d+)"},
                                      {SanType::kUserPrincipalName, R"(.*@corp\.example)"}};
  auto v = verifier(settings);
  TestCertificate ip = TestPki::issue(ca_, "ip", {"subjectAltName=IP:10.0.0.7"});
  TestCertificate ip6 = TestPki::issue(ca_, "ip6", {"subjectAltName=IP:2001:db8::1"});
  TestCertificate upn = TestPki::issue(
      ca_, "upn", {"subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@corp.example"});
  TestCertificate dns = TestPki::issue(ca_, "dns", {"subjectAltName=DNS:10.0.0.7"});
  EXPECT_TRUE(v->subjectAltNamesMatch(ip.cert.get()));
  EXPECT_FALSE(v->subjectAltNamesMatch(ip6.cert.get()));
  EXPECT_TRUE(v->subjectAltNamesMatch(upn.cert.get()));
  EXPECT_FALSE(v->subjectAltNamesMatch(dns.cert.get()));
}

TEST(ClientCertificateVerifierCreate, ErrorsNameTheSetting) {
  ClientCertificateVerifier::Settings settings;
  settings.ca_pem = "not a certificate";
  auto v = ClientCertificateVerifier::create(settings);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("ca: ", 0), 0u) << v.error().message;

  settings.ca_pem = TestPki::makeCa("CA").certPem();
  settings.crl_pem = "garbage";
  v = ClientCertificateVerifier::create(settings);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("crl: ", 0), 0u) << v.error().message;

  settings.crl_pem.clear();
  settings.match_subject_alt_names = {{SanType::kDns, "ok"}, {SanType::kDns, "(unclosed"}};
  v = ClientCertificateVerifier::create(settings);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("match_subject_alt_names[1]: ", 0), 0u)
      << v.error().message;
}

}  // namespace
}  // namespace gatehouse::net

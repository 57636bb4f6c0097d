// GrpcServerCertificate: the certificate a gRPC service presents, replaced
// while a real gRPC server runs.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "databroker/grpc_client.h"
#include "databroker/grpc_tls.h"
#include "proto/databroker.grpc.pb.h"
#include "support/test_pki.h"

namespace gatehouse::databroker {
namespace {

using gatehouse::testing::TestCertificate;
using gatehouse::testing::TestPki;

TestCertificate serverCertificate(const TestCertificate& ca, const std::string& name) {
  return TestPki::issue(
      ca, name,
      {"basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1"});
}

// The certificate a new TLS connection to 127.0.0.1:`port` is shown,
// verified against `ca` (SHA-256 of its DER, hex); empty if the handshake
// fails.
std::string presented(int port, const TestCertificate& ca) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.cert.get());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string digest;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      X509* peer = SSL_get1_peer_certificate(ssl);
      TestCertificate seen{std::shared_ptr<X509>(peer, X509_free), nullptr};
      digest = seen.derSha256Hex();
    }
    SSL_free(ssl);
  }
  close(fd);
  SSL_CTX_free(ctx);
  return digest;
}

class GrpcServerCertificateTest : public ::testing::Test {
 protected:
  GrpcLibraryScope scope_;
  TestCertificate ca_ = TestPki::makeCa("rotation test CA");
  TestCertificate first_ = serverCertificate(ca_, "first");
  TestCertificate second_ = serverCertificate(ca_, "second");
};

TEST_F(GrpcServerCertificateTest, AnUpdateIsCheckedAndTellsWhetherItChangedAnything) {
  auto certificate =
      GrpcServerCertificate::create(first_.certPem(), first_.keyPem(), "certificate_file");
  ASSERT_TRUE(certificate.ok()) << certificate.error().message;
  auto same = (*certificate)->update(first_.certPem(), first_.keyPem(), "certificate_file");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same);
  // A key that is not the certificate's is refused, naming where it came
  // from, and the pair presented does not change.
  auto mismatched = (*certificate)->update(second_.certPem(), first_.keyPem(), "certificates[0]");
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().message.find("certificates[0]"), std::string::npos)
      << mismatched.error().message;
  EXPECT_EQ((*certificate)->origin(), "certificate_file");
  auto changed = (*certificate)->update(second_.certPem(), second_.keyPem(), "certificate");
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ((*certificate)->origin(), "certificate");

  EXPECT_FALSE(GrpcServerCertificate::create(first_.certPem(), second_.keyPem(), "x").ok());
}

TEST_F(GrpcServerCertificateTest, NewConnectionsSeeTheNewCertificateWithinTheRefreshInterval) {
  auto certificate = GrpcServerCertificate::create(first_.certPem(), first_.keyPem(), "first");
  ASSERT_TRUE(certificate.ok()) << certificate.error().message;
  // A service, so that the server has something to serve; it answers
  // UNIMPLEMENTED, and only the handshake matters here.
  ::databroker::DataBrokerService::Service service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", (*certificate)->credentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_TRUE(server && port != 0);
  EXPECT_EQ(presented(port, ca_), first_.derSha256Hex());

  auto changed = (*certificate)->update(second_.certPem(), second_.keyPem(), "second");
  ASSERT_TRUE(changed.ok() && *changed);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + GrpcServerCertificate::kRefreshInterval + std::chrono::seconds(2);
  std::string seen;
  while ((seen = presented(port, ca_)) != second_.derSha256Hex() &&
         std::chrono::steady_clock::now() < deadline) {
    // Every connection in between got one of the two, never a failed
    // handshake (a key with the other's certificate).
    EXPECT_EQ(seen, first_.derSha256Hex());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(seen, second_.derSha256Hex());
  server->Shutdown();
}

}  // namespace
}  // namespace gatehouse::databroker

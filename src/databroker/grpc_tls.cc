#include "databroker/grpc_tls.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "net/tls.h"

namespace gatehouse::databroker {
namespace {

// The system's trust store as one PEM bundle (OpenSSL's default file, or
// SSL_CERT_FILE); empty if there is none.
std::string systemRootsPem() {
  const char* path = std::getenv(X509_get_default_cert_file_env());
  std::ifstream in(path != nullptr ? path : X509_get_default_cert_file(), std::ios::binary);
  std::stringstream pem;
  pem << in.rdbuf();
  return pem.str();
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> grpcServerCredentials(const GrpcTls& tls) {
  if (tls.cert_pem.empty() && tls.key_pem.empty()) return grpc::InsecureServerCredentials();
  // gRPC only says that the port could not be bound when a pair is bad;
  // loading it into an OpenSSL context first gives an error that names it.
  std::string origin = tls.origin.empty() ? "certificate" : tls.origin;
  auto checked = net::ServerTlsContext::create({{tls.cert_pem, tls.key_pem, origin}}, false);
  if (!checked) return checked.error();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> grpcChannelCredentials(const GrpcTarget& target,
                                                                 const GrpcTls& tls,
                                                                 grpc::ChannelArguments& args) {
  if (!target.tls) return grpc::InsecureChannelCredentials();
  const std::string& name =
      tls.override_certificate_name.empty() ? target.tls_name : tls.override_certificate_name;
  if (!name.empty()) args.SetSslTargetNameOverride(name);
  grpc::SslCredentialsOptions options;
  // `certificate_authority` is trusted in addition to the system's roots,
  // as in Pomerium (and as for the identity provider). Without it, gRPC
  // loads the system's roots itself.
  if (!tls.ca_pem.empty()) options.pem_root_certs = systemRootsPem() + "\n" + tls.ca_pem;
  return grpc::SslCredentials(options);
}

}  // namespace gatehouse::databroker

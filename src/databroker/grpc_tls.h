#pragma once

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "databroker/grpc_target.h"

// gRPC's credential types, named here so that this header stays plain C++.
namespace grpc {
class ChannelArguments;
class ChannelCredentials;
class ServerCredentials;
namespace experimental {
class CertificateProviderInterface;
}  // namespace experimental
}  // namespace grpc

namespace gatehouse::databroker {

// The certificate a gRPC service presents, replaceable while the service
// runs: after update(), connections accepted within kRefreshInterval
// present the new certificate; connections already open keep theirs.
//
// gRPC 1.51 can only refresh a server's certificate from files (its
// FileWatcherCertificateProvider polls them), so the pair lives in an
// anonymous in-memory file (memfd_create) that gRPC reads through
// /proc/self/fd: the private key is never written to a file system, and
// the certificate may come from anywhere (files, inline PEM, tls_derive).
// Key and certificate share one file that update() swaps in with a single
// dup2, with a modification time one second after the previous one at
// least, so that gRPC (which rereads a pair whose modification time
// changed while it read) never takes a key with another key's certificate.
//
// Must outlive every server whose credentials it made: gRPC reads the
// file on its own thread until the server is gone.
class GrpcServerCertificate {
 public:
  // How often gRPC looks for a new certificate.
  static constexpr std::chrono::seconds kRefreshInterval{1};

  // Fails, naming `origin`, if the PEM does not parse or the key does not
  // match the certificate; or if this system has no memfd or /proc.
  static Result<std::shared_ptr<GrpcServerCertificate>> create(const std::string& cert_pem,
                                                               const std::string& key_pem,
                                                               const std::string& origin);
  ~GrpcServerCertificate();
  GrpcServerCertificate(const GrpcServerCertificate&) = delete;
  GrpcServerCertificate& operator=(const GrpcServerCertificate&) = delete;

  // Presents this pair from now on (within kRefreshInterval). Checks it
  // first, as create() does, and keeps the current one if it fails.
  // Returns false when the pair is the one presented already.
  Result<bool> update(const std::string& cert_pem, const std::string& key_pem,
                      const std::string& origin);

  // Where the current pair came from ("certificate_file", "tls_derive").
  std::string origin() const;

  // TLS server credentials (1.2+, no client certificates) that present
  // the current pair.
  std::shared_ptr<grpc::ServerCredentials> credentials() const;

 private:
  GrpcServerCertificate() = default;
  Result<void> install(const std::string& cert_pem, const std::string& key_pem);

  mutable std::mutex mutex_;
  int fd_ = -1;  // the descriptor gRPC reads through /proc/self/fd
  std::string content_;
  std::string origin_;
  std::time_t modified_ = 0;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
};

// TLS on the gRPC connections between Gatehouse services (`grpc_insecure`,
// https:// service URLs), shared by the databroker and authorize services
// and their clients.
struct GrpcTls {
  // Server side (`grpc_insecure: false`): the certificate the service
  // presents, replaceable while it runs. Takes the place of the fixed
  // pair below when set.
  std::shared_ptr<GrpcServerCertificate> certificate;
  // A fixed certificate. No certificate at all: the service listens in
  // plaintext.
  std::string cert_pem;  // leaf first, then the chain
  std::string key_pem;
  std::string origin;  // the key it came from, for messages ("certificates[0]")

  // Client side, for https:// service URLs.
  // PEM certificates of CAs that may sign the service's certificate
  // (`certificate_authority`), trusted in addition to the system's.
  std::string ca_pem;
  // The name checked against the service's certificate instead of the
  // URL's host (`override_certificate_name`); empty = the URL's host.
  std::string override_certificate_name;
};

// Whether the first certificate in `cert_pem` names `host` (a DNS name,
// wildcards as TLS clients match them, or an IP address).
bool certificateNames(const std::string& cert_pem, const std::string& host);

// Plaintext credentials without a certificate, TLS (1.2+) with it. Fails,
// naming the certificate's origin, if the PEM does not parse or the key
// does not match the certificate, so that a bad pair is a config error at
// start rather than a port that cannot be bound.
Result<std::shared_ptr<grpc::ServerCredentials>> grpcServerCredentials(const GrpcTls& tls);

// The channel arguments of every client of another Gatehouse service:
// round-robin over every address, skipping those whose grpc.health.v1
// check does not say SERVING, and a keep-alive ping every 30 s (10 s to
// answer), even with no call in flight.
void setServiceChannelArguments(grpc::ChannelArguments& args);

// The channel credentials for `target`: plaintext for http:// URLs. For
// https:// ones the service's certificate is verified against the system's
// roots and `tls.ca_pem`, and must name `tls.override_certificate_name`
// when set, else the URL's host (the first URL's, with several); `args`
// gets the name to check when it is not the one gRPC takes from the target.
std::shared_ptr<grpc::ChannelCredentials> grpcChannelCredentials(const GrpcTarget& target,
                                                                 const GrpcTls& tls,
                                                                 grpc::ChannelArguments& args);

}  // namespace gatehouse::databroker

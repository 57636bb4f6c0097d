#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "databroker/grpc_target.h"

// gRPC's credential types, named here so that this header stays plain C++.
namespace grpc {
class ChannelArguments;
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace gatehouse::databroker {

// TLS on the gRPC connections between Gatehouse services (`grpc_insecure`,
// https:// service URLs), shared by the databroker and authorize services
// and their clients.
struct GrpcTls {
  // Server side (`grpc_insecure: false`): the certificate the service
  // presents. Both empty: the service listens in plaintext.
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

// Plaintext credentials without a certificate, TLS (1.2+) with it. Fails,
// naming the certificate's origin, if the PEM does not parse or the key
// does not match the certificate, so that a bad pair is a config error at
// start rather than a port that cannot be bound.
Result<std::shared_ptr<grpc::ServerCredentials>> grpcServerCredentials(const GrpcTls& tls);

// The channel credentials for `target`: plaintext for http:// URLs. For
// https:// ones the service's certificate is verified against the system's
// roots and `tls.ca_pem`, and must name `tls.override_certificate_name`
// when set, else the URL's host (the first URL's, with several); `args`
// gets the name to check when it is not the one gRPC takes from the target.
std::shared_ptr<grpc::ChannelCredentials> grpcChannelCredentials(const GrpcTarget& target,
                                                                 const GrpcTls& tls,
                                                                 grpc::ChannelArguments& args);

}  // namespace gatehouse::databroker

#include "server/grpc_tls_config.h"

#include "common/log.h"

namespace gatehouse::server {

Result<databroker::GrpcTls> grpcServerTls(const config::Options& options, bool serves_http,
                                          const char* urls_key,
                                          const std::vector<std::string>& urls) {
  auto it = options.extra.find("grpc_insecure");
  bool explicit_value = it != options.extra.end();
  // Beside a proxy or authenticate the service is reached in-process or on
  // loopback; on its own it is reached across the network, so it defaults
  // to TLS, as Pomerium does.
  bool insecure = explicit_value ? it->second == "true" : serves_http;
  databroker::GrpcTls tls;
  if (!insecure) {
    if (options.listener.certificates.empty()) {
      return Error::invalid(
          std::string("grpc_insecure: ") +
          (explicit_value ? "false"
                          : "unset, so false in a process without proxy or authenticate,") +
          " needs a certificate for the gRPC service: set certificate, certificate_file or "
          "certificates, or grpc_insecure: true");
    }
    const auto& pair = options.listener.certificates.front();
    tls.cert_pem = pair.cert_pem;
    tls.key_pem = pair.key_pem;
    tls.origin = pair.origin;
  }
  for (const auto& url : urls) {
    bool https = url.rfind("https://", 0) == 0;
    if (https == !insecure) continue;
    std::string served =
        insecure ? "in plaintext (grpc_insecure is true)" : "with TLS (grpc_insecure is false)";
    log::warn("config").str("warning", std::string(urls_key) + ": \"" + url + "\" is " +
                                           (https ? "https" : "http") +
                                           ":// but this process serves gRPC " + served +
                                           ": clients using it will not connect");
    break;
  }
  return tls;
}

databroker::GrpcTls grpcClientTls(const config::Options& options) {
  databroker::GrpcTls tls;
  tls.ca_pem = options.authenticate.certificate_authority_pem;
  if (auto it = options.extra.find("override_certificate_name"); it != options.extra.end()) {
    tls.override_certificate_name = it->second;
  }
  return tls;
}

}  // namespace gatehouse::server

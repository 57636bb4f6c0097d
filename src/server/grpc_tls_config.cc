#include "server/grpc_tls_config.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/log.h"
#include "crypto/derived_ca.h"

namespace gatehouse::server {
namespace {

// `tls_derive`, lower-cased as Pomerium's GetDeriveInternalDomain does;
// nullopt when unset.
std::optional<std::string> derivedDomain(const config::Options& options) {
  auto it = options.extra.find("tls_derive");
  if (it == options.extra.end()) return std::nullopt;
  std::string domain = it->second;
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return domain;
}

Result<std::unique_ptr<crypto::DerivedCa>> derivedCa(const config::Options& options) {
  auto ca = crypto::DerivedCa::create(options.secrets.shared_secret);
  if (!ca) return Error::invalid("tls_derive: " + ca.error().message);
  return ca;
}

}  // namespace

Result<std::optional<config::CertificatePair>> serverCertificate(const config::Options& options) {
  using Chosen = std::optional<config::CertificatePair>;
  const auto& configured = options.listener.certificates;
  auto domain = derivedDomain(options);
  if (!domain) return configured.empty() ? Chosen() : Chosen(configured.front());
  for (const auto& pair : configured) {
    if (databroker::certificateNames(pair.cert_pem, *domain)) return Chosen(pair);
  }
  auto ca = derivedCa(options);
  if (!ca) return ca.error();
  auto leaf = (*ca)->issueServerCertificate(*domain);
  if (!leaf) return Error::invalid("tls_derive: " + leaf.error().message);
  return Chosen(
      config::CertificatePair{std::move(leaf->cert_pem), std::move(leaf->key_pem), "tls_derive"});
}

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
    auto pair = serverCertificate(options);
    if (!pair) return pair.error();
    if (!*pair) {
      return Error::invalid(
          std::string("grpc_insecure: ") +
          (explicit_value ? "false"
                          : "unset, so false in a process without proxy or authenticate,") +
          " needs a certificate for the gRPC service: set certificate, certificate_file, "
          "certificates or tls_derive, or grpc_insecure: true");
    }
    const config::CertificatePair& chosen = **pair;
    auto certificate =
        databroker::GrpcServerCertificate::create(chosen.cert_pem, chosen.key_pem, chosen.origin);
    if (!certificate) return certificate.error();
    tls.certificate = std::move(*certificate);
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

void reloadGrpcServerCertificate(databroker::GrpcServerCertificate& certificate,
                                 const config::Options& options) {
  auto pair = serverCertificate(options);
  if (pair && !*pair) {
    pair = Error::invalid(
        "no certificate: set certificate, certificate_file, certificates or tls_derive");
  }
  if (!pair) {
    log::error("gRPC certificate not reloaded, keeping the previous one")
        .str("error", pair.error().message);
    return;
  }
  const config::CertificatePair& chosen = **pair;
  auto changed = certificate.update(chosen.cert_pem, chosen.key_pem, chosen.origin);
  if (!changed) {
    log::error("gRPC certificate not reloaded, keeping the previous one")
        .str("error", changed.error().message);
    return;
  }
  if (*changed) {
    log::info("gRPC certificate reloaded")
        .str("origin", chosen.origin)
        .num("takes-effect-within-seconds",
             static_cast<int64_t>(databroker::GrpcServerCertificate::kRefreshInterval.count()));
  }
}

Result<databroker::GrpcTls> grpcClientTls(const config::Options& options) {
  databroker::GrpcTls tls;
  tls.ca_pem = options.authenticate.certificate_authority_pem;
  if (auto it = options.extra.find("override_certificate_name"); it != options.extra.end()) {
    tls.override_certificate_name = it->second;
  }
  if (auto domain = derivedDomain(options)) {
    // Only a process with the same shared secret derives this CA, so a
    // service with another secret fails the handshake: fail closed.
    auto ca = derivedCa(options);
    if (!ca) return ca.error();
    if (!tls.ca_pem.empty() && tls.ca_pem.back() != '\n') tls.ca_pem += '\n';
    tls.ca_pem += (*ca)->certificatePem();
    if (tls.override_certificate_name.empty()) tls.override_certificate_name = *domain;
  }
  return tls;
}

}  // namespace gatehouse::server

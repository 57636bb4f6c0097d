#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/options.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::server {

// TLS on the gRPC connections between services, from the config.

// What this process's gRPC service (databroker or authorize) presents, as
// Pomerium's GetGRPCInsecure decides: `grpc_insecure` when it is set, else
// plaintext only in a process that also runs the proxy or authenticate
// (`serves_http`). TLS presents the certificate serverCertificate() picks,
// through a databroker::GrpcServerCertificate that a config reload can
// replace (reloadGrpcServerCertificate); without one it is an error naming
// `grpc_insecure` and `tls_derive`. Logs a warning when the URLs this
// process's own clients would use (`urls_key`, `urls`) speak the other
// scheme.
Result<databroker::GrpcTls> grpcServerTls(const config::Options& options, bool serves_http,
                                          const char* urls_key,
                                          const std::vector<std::string>& urls);

// The certificate a TLS gRPC service presents. With `tls_derive`, the
// first configured certificate that names the tls_derive domain (the name
// clients check), else a certificate for the domain issued by the CA
// derived from `shared_secret`: what Pomerium's gRPC listener picks for a
// client whose SNI is that domain. Without it, the first certificate of
// the HTTPS listener (`certificates`, `certificate`, `certificate_file`).
// Nullopt when there is none; fails when tls_derive is not a name.
Result<std::optional<config::CertificatePair>> serverCertificate(const config::Options& options);

// After a config reload: presents the certificate serverCertificate()
// picks from `options` when it changed (a renewed certificate file, a new
// inline certificate), and logs it; on an error, logs it and keeps the
// current one.
void reloadGrpcServerCertificate(databroker::GrpcServerCertificate& certificate,
                                 const config::Options& options);

// How a client verifies https:// service URLs: `certificate_authority`
// (else the system's roots) plus, with `tls_derive`, the CA derived from
// `shared_secret`; the name checked is `override_certificate_name`, else
// the tls_derive domain, else the URL's host. Fails when tls_derive is set
// and its CA cannot be derived.
Result<databroker::GrpcTls> grpcClientTls(const config::Options& options);

}  // namespace gatehouse::server

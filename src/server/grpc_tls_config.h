#pragma once

#include "common/result.h"
#include "config/options.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::server {

// TLS on the gRPC connections between services, from the config.

// What this process's gRPC service (databroker or authorize) presents, as
// Pomerium's GetGRPCInsecure decides: `grpc_insecure` when it is set, else
// plaintext only in a process that also runs the proxy or authenticate
// (`serves_http`). TLS uses the first certificate of the HTTPS listener
// (`certificates`, `certificate`, `certificate_file`); without one it is an
// error naming `grpc_insecure`. Logs a warning when the URLs this process's
// own clients would use (`urls_key`, `urls`) speak the other scheme.
Result<databroker::GrpcTls> grpcServerTls(const config::Options& options, bool serves_http,
                                          const char* urls_key,
                                          const std::vector<std::string>& urls);

// How a client verifies https:// service URLs: `certificate_authority`
// (else the system's roots) and `override_certificate_name`.
databroker::GrpcTls grpcClientTls(const config::Options& options);

}  // namespace gatehouse::server

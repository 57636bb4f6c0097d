#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "databroker/backend.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::metrics {
class GrpcMetrics;
}

namespace gatehouse::databroker {

struct GrpcServerOptions {
  // host:port as in `grpc_address` (":5443" listens on every address; port 0
  // picks a free port).
  std::string address = ":5443";
  // Raw bytes of `shared_secret`: every call must carry a JWT signed with it.
  std::string shared_secret;
  // With a certificate (`grpc_insecure: false`), the service speaks TLS
  // only; the shared-secret JWT is required either way.
  GrpcTls tls;
  // Where grpc_server_* counts the calls (null: not counted).
  std::shared_ptr<metrics::GrpcMetrics> metrics;
};

// The databroker's gRPC service (DataBrokerService in proto/databroker.proto)
// over a backend. Calls run on gRPC's threads and call the backend's
// blocking API directly; a Sync stream holds its thread while it waits.
class GrpcServer {
 public:
  // Binds and starts serving; an error names `grpc_address` if the address
  // cannot be bound, or the certificate's origin if it cannot be used.
  static Result<std::unique_ptr<GrpcServer>> start(std::shared_ptr<Backend> backend,
                                                   const GrpcServerOptions& options);
  virtual ~GrpcServer() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Ends open streams, waits up to `grace` for calls in flight, stops.
  virtual void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5)) = 0;
};

}  // namespace gatehouse::databroker

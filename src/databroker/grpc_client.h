#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "databroker/client.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::metrics {
class GrpcMetrics;
}

namespace gatehouse::databroker {

struct GrpcClientOptions {
  // `databroker_service_url(s)`: http://host:port (or https://). One URL may
  // name a host that resolves to several addresses; several URLs must be IP
  // addresses. gRPC balances round-robin across the addresses and skips
  // those whose health check fails.
  std::vector<std::string> urls;
  // Raw bytes of `shared_secret`, for the per-call JWT.
  std::string shared_secret;
  // Deadline of a unary call (`grpc_client_timeout`); streams have none.
  Duration timeout = std::chrono::seconds(10);
  // https:// only: how the databroker's certificate is verified
  // (`certificate_authority`, `override_certificate_name`).
  GrpcTls tls;
  // Where grpc_client_* counts the calls (null: not counted).
  std::shared_ptr<metrics::GrpcMetrics> metrics;
};

// The Client of a databroker in another process. Completions and stream
// callbacks run on gRPC's threads.
Result<std::unique_ptr<Client>> makeGrpcClient(GrpcClientOptions options);

// Keeps gRPC initialised while it lives and shuts it down completely (on
// this thread) when destroyed. Hold one in main() around everything that
// uses gRPC: otherwise the last gRPC object may be released on one of
// gRPC's threads while the process exits, and gRPC's clean-up then races
// the exit.
class GrpcLibraryScope {
 public:
  GrpcLibraryScope();
  ~GrpcLibraryScope();
  GrpcLibraryScope(const GrpcLibraryScope&) = delete;
  GrpcLibraryScope& operator=(const GrpcLibraryScope&) = delete;
};

}  // namespace gatehouse::databroker

#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "authorize/client.h"
#include "common/duration.h"
#include "common/result.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::metrics {
class GrpcMetrics;
}

namespace gatehouse::authorize {

struct AuthorizeGrpcClientOptions {
  // `authorize_service_url(s)`: http://host:port (or https://). One URL may
  // name a host that resolves to several addresses (looked up again when a
  // connection drops, and at least every few minutes since the server
  // closes connections by age); several URLs must be IP addresses. gRPC
  // balances round-robin across the addresses and skips those whose health
  // check fails.
  std::vector<std::string> urls;
  // Raw bytes of `shared_secret`, for the per-call JWT.
  std::string shared_secret;
  // Deadline of one check (`grpc_client_timeout`).
  Duration timeout = std::chrono::seconds(10);
  // https:// only: how the authorize service's certificate is verified
  // (`certificate_authority`, `override_certificate_name`).
  databroker::GrpcTls tls;
  // Where grpc_client_* counts the calls (null: not counted).
  std::shared_ptr<metrics::GrpcMetrics> metrics;
};

// The Client of authorize replicas in other processes (AuthorizeGrpcServer).
// check() may be awaited from any io_context; it resumes on the awaiting
// coroutine's executor, never on one of gRPC's threads. It fails closed: an
// authorize service that cannot be reached in time, or refuses the shared
// secret, is a 503 error response ("authorize service unavailable: ..."),
// in gRPC's form for gRPC requests; so is a TLS handshake that fails
// (a certificate that does not verify, a plaintext server). Calls do not wait for a replica to come
// up: with every replica down they fail at once.
//
// The destructor waits (at most `timeout`) for the calls gRPC still has, so
// that the channel is released on the caller's thread; a coroutine still
// awaiting one of them must not resume after that.
Result<std::unique_ptr<Client>> makeAuthorizeGrpcClient(AuthorizeGrpcClientOptions options);

}  // namespace gatehouse::authorize

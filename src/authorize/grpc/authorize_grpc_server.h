#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "authorize/client.h"
#include "common/result.h"
#include "databroker/grpc_tls.h"

namespace gatehouse::metrics {
class GrpcMetrics;
}

namespace gatehouse::authorize {

// The authorize service over gRPC (service Authorize in
// proto/authorize.proto, with grpc.health.v1.Health beside it) in front of
// the in-process decision. A proxy in another process reaches it with
// makeAuthorizeGrpcClient.
//
// Every call must carry the shared-secret JWT in its `jwt` metadata;
// without it the call is UNAUTHENTICATED and the first refusal from each
// peer host is logged, so that an operator sees a mismatched secret.
class AuthorizeGrpcServer {
 public:
  struct Options {
    // host:port as in `grpc_address` (":5443" listens on every address;
    // port 0 picks a free port).
    std::string address = ":5443";
    // Raw bytes of `shared_secret`.
    std::string shared_secret;
    // With a certificate (`grpc_insecure: false`), the service speaks TLS
    // only; the shared-secret JWT is required either way.
    databroker::GrpcTls tls;
    // Threads running `local`'s check() coroutines, all on one io_context.
    // With more than one, check() is called from several threads at once.
    size_t threads = 1;
    // Makes a decision object for gRPC's own threads. When set, a Check
    // whose decision waits for nothing (Client::checkNow answers) is
    // decided on the gRPC thread that received it, saving the hops to the
    // server's threads and back; the others (a session newer than the
    // local copy reads through to the databroker) go to the server's
    // threads as without it. Each object made is used by one thread at a
    // time; as many are made as gRPC runs Checks at once.
    std::function<std::shared_ptr<Client>()> make_inline;
    // Connections are closed (gracefully) after about this long, so that
    // clients resolve the service's DNS name again and find replicas added
    // since. Calls in flight get `max_connection_age_grace` to finish.
    std::chrono::milliseconds max_connection_age = std::chrono::minutes(5);
    std::chrono::milliseconds max_connection_age_grace = std::chrono::seconds(30);
    // Where grpc_server_* counts the calls (null: not counted).
    std::shared_ptr<metrics::GrpcMetrics> metrics;
  };

  // Binds and starts serving: each Check is decided by `local->check()` on
  // the server's own threads (or as `make_inline` says). An error names
  // `grpc_address` if the address cannot be bound, or the certificate's
  // origin if it cannot be used.
  static Result<std::unique_ptr<AuthorizeGrpcServer>> start(std::shared_ptr<Client> local,
                                                            const Options& options);
  virtual ~AuthorizeGrpcServer() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Reports NOT_SERVING to health checks, stops taking calls, waits up to
  // `grace` for decisions in flight, answers the rest UNAVAILABLE, stops.
  // The destructor does the same with no grace.
  virtual void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5)) = 0;
};

}  // namespace gatehouse::authorize

#pragma once
// The metrics listener (`metrics_address`: Prometheus text at /metrics) and
// the health listener (`health_check_addr`: /healthz, /readyz, /startupz,
// /status), served on a thread of their own so that a scrape or a probe
// never competes with a worker, and a busy worker never delays a probe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "config/options.h"

namespace gatehouse::metrics {
class GrpcMetrics;
class RequestMetrics;
class StorageMetrics;
}  // namespace gatehouse::metrics
namespace gatehouse::session {
class Cache;
}
namespace gatehouse::databroker {
class Backend;
}
namespace gatehouse::authenticate {
class Refresher;
}

namespace gatehouse::server {

// What the endpoints report on, given by the server. The callbacks and
// objects are used from the observability thread and must stay valid until
// stop().
struct ObservabilitySources {
  std::function<size_t()> open_connections;  // over every worker
  std::function<size_t()> route_count;       // in the current configuration
  std::function<bool()> certificates_ready;  // the HTTPS listener has a certificate
  const session::Cache* sessions = nullptr;  // null when no proxy runs here
  std::shared_ptr<databroker::Backend> storage;
  const authenticate::Refresher* refresher = nullptr;
  // The gRPC services served and called here (grpc_server_*, grpc_client_*).
  std::shared_ptr<const metrics::GrpcMetrics> grpc;
  // Where the databroker runs: storage_operation_duration_ms.
  std::shared_ptr<const metrics::StorageMetrics> storage_metrics;
};

class Observability {
 public:
  // One block of request counters per worker, each written only by its
  // worker (workerMetrics(i) is handed to worker i).
  Observability(config::ObservabilityOptions options, size_t workers);
  ~Observability();
  Observability(const Observability&) = delete;
  Observability& operator=(const Observability&) = delete;

  metrics::RequestMetrics* workerMetrics(size_t worker);

  // Binds the configured listeners (none: nothing to do) and starts the
  // thread; a bind error names the key.
  Result<void> start(ObservabilitySources sources);
  // The server finished starting: /startupz and (checks permitting) /readyz
  // answer 200.
  void markStarted();
  // The outcome of a configuration reload (the first load counts as one).
  void configLoaded(bool success);
  // Drain begins: /readyz answers 503 from now on, before the listeners
  // stop accepting, so that load balancers move traffic away first.
  void startDrain();
  // Stops the thread; safe to call twice.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::server

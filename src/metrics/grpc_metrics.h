#pragma once
// gRPC call counters with Pomerium's names and labels: grpc_server_* for the
// services this process serves, grpc_client_* for the services it calls.
// Calls run on gRPC's threads, many at once: every counter is a relaxed
// atomic add (no lock), and the set of series is fixed when a service is
// added (its methods are known then), so recording never allocates.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/exposition.h"
#include "metrics/shared_histogram.h"

namespace gatehouse::metrics {

enum class GrpcSide : uint8_t { kServer, kClient };

// The calls of one gRPC service on one side of one process.
class GrpcCallMetrics {
 public:
  // OK (0) .. UNAUTHENTICATED (16); a code outside counts as UNKNOWN.
  static constexpr size_t kStatusCodes = 17;
  static constexpr std::array<double, 20> kDurationBoundsMs = {
      0.1, 0.25, 0.5,  1,    2.5,  5,     10,    25,    50,     100,
      250, 500,  1000, 2500, 5000, 10000, 30000, 60000, 300000, 3600000};

  // `grpc_service` is the full name ("databroker.DataBrokerService");
  // `methods` its method names ("Get"); calls of another method of the
  // service count as grpc_method="other". `host` (clients only) is the
  // target the channel dials.
  GrpcCallMetrics(GrpcSide side, std::string grpc_service, std::vector<std::string> methods,
                  std::string host);
  GrpcCallMetrics(const GrpcCallMetrics&) = delete;
  GrpcCallMetrics& operator=(const GrpcCallMetrics&) = delete;

  GrpcSide side() const { return side_; }
  const std::string& grpcService() const { return grpc_service_; }
  const std::string& host() const { return host_; }

  // The slot of a call to `full_method` ("/databroker.DataBrokerService/Get"),
  // or -1 when the method is not of this service. Any thread; no allocation.
  int slotOf(std::string_view full_method) const noexcept;

  // Counts one finished call. Any thread, concurrently; no lock, no
  // allocation.
  void record(int slot, int code, std::chrono::nanoseconds duration) noexcept;

  // Calls of `method` ("Get", or "other") that ended with `code` (tests).
  uint64_t calls(std::string_view method, int code) const noexcept;

  // Writes the samples of this service into the current family: the request
  // count (histogram = false) or the duration histogram, one series per
  // method and status code that has calls. `service` is Pomerium's
  // `service` label (what this process runs).
  void writeCounts(Exposition& out, std::string_view service) const;
  void writeDurations(Exposition& out, std::string_view service) const;

  // Pomerium's (and gRPC's) spelling of a status code: "OK", "NOT_FOUND".
  static std::string_view codeName(int code) noexcept;

 private:
  using Series = SharedDurationHistogram<kDurationBoundsMs.size()>;
  struct MethodSeries {
    std::array<Series, kStatusCodes> codes;
  };

  std::string_view methodName(size_t slot) const;
  template <typename Write>
  void forEachSeries(Exposition& out, std::string_view service, Write write) const;

  GrpcSide side_;
  std::string grpc_service_;
  std::vector<std::string> methods_;
  std::string host_;
  // One per method, then "other"; never resized after construction.
  std::unique_ptr<MethodSeries[]> series_;
};

// Every gRPC service this process serves or calls. Services are added while
// the process starts; a scrape writes them all.
class GrpcMetrics {
 public:
  // `service` is the `service` label of every series: the services this
  // process runs ("proxy", "authorize", "databroker", ...).
  explicit GrpcMetrics(std::string service) : service_(std::move(service)) {}

  // Adds a service; the object lives as long as this registry. Thread-safe.
  GrpcCallMetrics& add(GrpcSide side, std::string grpc_service, std::vector<std::string> methods,
                       std::string host = {});

  // Writes grpc_server_requests_total and grpc_server_request_duration_ms
  // when a served service was added, grpc_client_* when a called one was.
  void collect(Exposition& out) const;

 private:
  std::string service_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<GrpcCallMetrics>> services_;
};

}  // namespace gatehouse::metrics

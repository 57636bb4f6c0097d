#include "metrics/grpc_metrics.h"

#include <algorithm>

namespace gatehouse::metrics {
namespace {

constexpr std::string_view kCodeNames[GrpcCallMetrics::kStatusCodes] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};
constexpr int kUnknownCode = 2;
constexpr std::string_view kOtherMethod = "other";

}  // namespace

GrpcCallMetrics::GrpcCallMetrics(GrpcSide side, std::string grpc_service,
                                 std::vector<std::string> methods, std::string host)
    : side_(side),
      grpc_service_(std::move(grpc_service)),
      methods_(std::move(methods)),
      host_(std::move(host)),
      series_(std::make_unique<MethodSeries[]>(methods_.size() + 1)) {}

std::string_view GrpcCallMetrics::codeName(int code) noexcept {
  if (code < 0 || code >= static_cast<int>(kStatusCodes)) code = kUnknownCode;
  return kCodeNames[code];
}

int GrpcCallMetrics::slotOf(std::string_view full_method) const noexcept {
  // "/" service "/" method
  if (full_method.size() < grpc_service_.size() + 2 || full_method[0] != '/' ||
      full_method.substr(1, grpc_service_.size()) != grpc_service_ ||
      full_method[grpc_service_.size() + 1] != '/') {
    return -1;
  }
  std::string_view method = full_method.substr(grpc_service_.size() + 2);
  for (size_t i = 0; i < methods_.size(); ++i) {
    if (methods_[i] == method) return static_cast<int>(i);
  }
  return static_cast<int>(methods_.size());
}

void GrpcCallMetrics::record(int slot, int code, std::chrono::nanoseconds duration) noexcept {
  if (slot < 0 || static_cast<size_t>(slot) > methods_.size()) return;
  if (code < 0 || code >= static_cast<int>(kStatusCodes)) code = kUnknownCode;
  series_[static_cast<size_t>(slot)].codes[static_cast<size_t>(code)].record(kDurationBoundsMs,
                                                                             duration);
}

uint64_t GrpcCallMetrics::calls(std::string_view method, int code) const noexcept {
  if (code < 0 || code >= static_cast<int>(kStatusCodes)) return 0;
  for (size_t slot = 0; slot <= methods_.size(); ++slot) {
    if (methodName(slot) == method) {
      return series_[slot].codes[static_cast<size_t>(code)].count();
    }
  }
  return 0;
}

std::string_view GrpcCallMetrics::methodName(size_t slot) const {
  return slot < methods_.size() ? std::string_view(methods_[slot]) : kOtherMethod;
}

template <typename Write>
void GrpcCallMetrics::forEachSeries(Exposition& out, std::string_view service, Write write) const {
  bool server = side_ == GrpcSide::kServer;
  for (size_t slot = 0; slot <= methods_.size(); ++slot) {
    for (size_t code = 0; code < kStatusCodes; ++code) {
      const Series& series = series_[slot].codes[code];
      if (series.count() == 0) continue;
      // Pomerium's label order: service, (host,) grpc_method, grpc_service,
      // status.
      Label labels[5] = {{"service", service},
                         {"host", host_},
                         {"grpc_method", methodName(slot)},
                         {"grpc_service", grpc_service_},
                         {server ? "grpc_server_status" : "grpc_client_status", kCodeNames[code]}};
      std::span<const Label> all(labels);
      if (server) {
        // No host on the server side.
        Label without_host[4] = {labels[0], labels[2], labels[3], labels[4]};
        write(out, std::span<const Label>(without_host), series);
      } else {
        write(out, all, series);
      }
    }
  }
}

void GrpcCallMetrics::writeCounts(Exposition& out, std::string_view service) const {
  forEachSeries(out, service, [](Exposition& o, std::span<const Label> labels, const Series& s) {
    o.sample(labels, static_cast<double>(s.count()));
  });
}

void GrpcCallMetrics::writeDurations(Exposition& out, std::string_view service) const {
  forEachSeries(out, service, [](Exposition& o, std::span<const Label> labels, const Series& s) {
    s.write(o, labels, kDurationBoundsMs);
  });
}

GrpcCallMetrics& GrpcMetrics::add(GrpcSide side, std::string grpc_service,
                                  std::vector<std::string> methods, std::string host) {
  std::lock_guard lock(mutex_);
  services_.push_back(std::make_unique<GrpcCallMetrics>(side, std::move(grpc_service),
                                                        std::move(methods), std::move(host)));
  return *services_.back();
}

void GrpcMetrics::collect(Exposition& out) const {
  std::lock_guard lock(mutex_);
  struct Family {
    GrpcSide side;
    std::string_view requests;
    std::string_view requests_help;
    std::string_view duration;
    std::string_view duration_help;
  };
  static constexpr Family kFamilies[] = {
      {GrpcSide::kServer, "grpc_server_requests_total",
       "gRPC calls served, by service, method and status code.", "grpc_server_request_duration_ms",
       "Time from a served gRPC call's arrival to its status, in ms (a stream's whole life)."},
      {GrpcSide::kClient, "grpc_client_requests_total",
       "gRPC calls made, by target, service, method and status code.",
       "grpc_client_request_duration_ms",
       "Time from the start of a gRPC call made to its status, in ms (a stream's whole life)."},
  };
  for (const Family& family : kFamilies) {
    bool any = std::any_of(services_.begin(), services_.end(),
                           [&](const auto& s) { return s->side() == family.side; });
    if (!any) continue;
    out.family(family.requests, family.requests_help, Type::kCounter);
    for (const auto& s : services_) {
      if (s->side() == family.side) s->writeCounts(out, service_);
    }
    out.family(family.duration, family.duration_help, Type::kHistogram);
    for (const auto& s : services_) {
      if (s->side() == family.side) s->writeDurations(out, service_);
    }
  }
}

}  // namespace gatehouse::metrics

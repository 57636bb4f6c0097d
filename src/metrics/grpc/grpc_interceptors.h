#pragma once
// gRPC interceptors that count calls into GrpcCallMetrics: one place that
// sees every call of a server or a channel, whichever API (sync, callback,
// streaming) the service uses, including calls refused before the handler
// runs (UNAUTHENTICATED). gRPC creates one small interceptor object per call;
// counting it is a few relaxed atomic adds.

#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/grpc_metrics.h"

namespace gatehouse::metrics {

// The method names of a service compiled into this binary, from its
// protobuf descriptor ("databroker.DataBrokerService" -> Get, Put, ...).
// Empty if the service is unknown.
std::vector<std::string> grpcMethodNames(std::string_view full_service_name);

// Adds the served `grpc_service` (with its methods from the descriptor) to
// `registry`.
GrpcCallMetrics& addServedService(GrpcMetrics& registry, std::string_view grpc_service);

// Counts the calls of a server: each call is matched to the first of
// `services` (entries of `registry`, which the interceptor keeps alive) it
// belongs to; calls of other services are not counted.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> makeServerMetricsInterceptor(
    std::shared_ptr<GrpcMetrics> registry, std::vector<GrpcCallMetrics*> services);

// Counts the calls made on a channel into `service` (a kClient entry of
// `registry`, which the interceptor keeps alive).
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> makeClientMetricsInterceptor(
    std::shared_ptr<GrpcMetrics> registry, GrpcCallMetrics& service);

// Adds the served `grpc_service` and grpc.health.v1.Health (which every
// Gatehouse gRPC server also serves) to `registry` and returns the server
// interceptor creators that count their calls, for a ServerBuilder; empty
// when `registry` is null.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
serverMetricsInterceptors(const std::shared_ptr<GrpcMetrics>& registry,
                          std::string_view grpc_service);

// Adds the called `grpc_service` at `target` to `registry` and returns the
// interceptor creators of a channel that count its calls; empty when
// `registry` is null.
std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
clientMetricsInterceptors(const std::shared_ptr<GrpcMetrics>& registry,
                          std::string_view grpc_service, std::string target);

}  // namespace gatehouse::metrics

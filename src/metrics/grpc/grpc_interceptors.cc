#include "metrics/grpc/grpc_interceptors.h"

#include <google/protobuf/descriptor.h>

#include <chrono>

namespace gatehouse::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;

// grpc.health.v1.Health is served by gRPC itself; its proto is not compiled
// into this binary, so its methods are named here.
constexpr std::string_view kHealthService = "grpc.health.v1.Health";

// One served call, from its arrival to the status it sends.
class ServerCallInterceptor final : public Interceptor {
 public:
  ServerCallInterceptor(GrpcCallMetrics& metrics, int slot)
      : metrics_(metrics), slot_(slot), start_(std::chrono::steady_clock::now()) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.record(slot_, static_cast<int>(methods->GetSendStatus().error_code()),
                      std::chrono::steady_clock::now() - start_);
    }
    methods->Proceed();
  }

 private:
  GrpcCallMetrics& metrics_;
  int slot_;
  std::chrono::steady_clock::time_point start_;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ServerFactory(std::shared_ptr<GrpcMetrics> registry, std::vector<GrpcCallMetrics*> services)
      : registry_(std::move(registry)), services_(std::move(services)) {}

  Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr) return nullptr;
    for (GrpcCallMetrics* service : services_) {
      int slot = service->slotOf(method);
      if (slot >= 0) return new ServerCallInterceptor(*service, slot);
    }
    return nullptr;  // not counted
  }

 private:
  std::shared_ptr<GrpcMetrics> registry_;  // owns services_
  std::vector<GrpcCallMetrics*> services_;
};

// One call made, from its start to the status it receives (for a call that
// never reached a server, the status gRPC made up: UNAVAILABLE,
// DEADLINE_EXCEEDED).
class ClientCallInterceptor final : public Interceptor {
 public:
  ClientCallInterceptor(GrpcCallMetrics& metrics, int slot)
      : metrics_(metrics), slot_(slot), start_(std::chrono::steady_clock::now()) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      if (const grpc::Status* status = methods->GetRecvStatus()) {
        metrics_.record(slot_, static_cast<int>(status->error_code()),
                        std::chrono::steady_clock::now() - start_);
      }
    }
    methods->Proceed();
  }

 private:
  GrpcCallMetrics& metrics_;
  int slot_;
  std::chrono::steady_clock::time_point start_;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ClientFactory(std::shared_ptr<GrpcMetrics> registry, GrpcCallMetrics& service)
      : registry_(std::move(registry)), service_(service) {}

  Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr) return nullptr;
    int slot = service_.slotOf(method);
    if (slot < 0) return nullptr;
    return new ClientCallInterceptor(service_, slot);
  }

 private:
  std::shared_ptr<GrpcMetrics> registry_;  // owns service_
  GrpcCallMetrics& service_;
};

}  // namespace

std::vector<std::string> grpcMethodNames(std::string_view full_service_name) {
  std::vector<std::string> names;
  if (full_service_name == kHealthService) return {"Check", "Watch"};
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(full_service_name));
  if (service == nullptr) return names;
  for (int i = 0; i < service->method_count(); ++i) names.push_back(service->method(i)->name());
  return names;
}

GrpcCallMetrics& addServedService(GrpcMetrics& registry, std::string_view grpc_service) {
  return registry.add(GrpcSide::kServer, std::string(grpc_service), grpcMethodNames(grpc_service));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> makeServerMetricsInterceptor(
    std::shared_ptr<GrpcMetrics> registry, std::vector<GrpcCallMetrics*> services) {
  return std::make_unique<ServerFactory>(std::move(registry), std::move(services));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> makeClientMetricsInterceptor(
    std::shared_ptr<GrpcMetrics> registry, GrpcCallMetrics& service) {
  return std::make_unique<ClientFactory>(std::move(registry), service);
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
serverMetricsInterceptors(const std::shared_ptr<GrpcMetrics>& registry,
                          std::string_view grpc_service) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  if (!registry) return creators;
  std::vector<GrpcCallMetrics*> services = {&addServedService(*registry, grpc_service),
                                            &addServedService(*registry, kHealthService)};
  creators.push_back(makeServerMetricsInterceptor(registry, std::move(services)));
  return creators;
}

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
clientMetricsInterceptors(const std::shared_ptr<GrpcMetrics>& registry,
                          std::string_view grpc_service, std::string target) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
  if (!registry) return creators;
  GrpcCallMetrics& service = registry->add(GrpcSide::kClient, std::string(grpc_service),
                                           grpcMethodNames(grpc_service), std::move(target));
  creators.push_back(makeClientMetricsInterceptor(registry, service));
  return creators;
}

}  // namespace gatehouse::metrics

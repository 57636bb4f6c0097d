#include "authorize/grpc/authorize_grpc_client.h"

#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "authorize/grpc/check_proto.h"
#include "authorize/response.h"
#include "databroker/grpc_target.h"
#include "databroker/grpc_tls.h"
#include "databroker/outstanding_calls.h"
#include "databroker/record.h"
#include "databroker/service_token.h"
#include "metrics/grpc/grpc_interceptors.h"
#include "proto/authorize.grpc.pb.h"

namespace gatehouse::authorize {
namespace {

namespace pb = ::gatehouse::authorize::v1;

// gRPC reconnects to a replica that went away after this long at first,
// backing off to kMaxReconnectBackoff while it stays away.
constexpr int kInitialReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 2000;
// How soon the DNS name may be looked up again after a connection drops.
constexpr int kMinTimeBetweenResolutionsMs = 2000;

using Outstanding = databroker::OutstandingCalls;

// One Check while gRPC has it. Only gRPC's completion holds it, never the
// awaiting coroutine, so that the ticket is returned when gRPC is done even
// if the coroutine never resumes.
struct Call {
  explicit Call(std::shared_ptr<Outstanding> owner) : ticket(std::move(owner)) {}
  Outstanding::Ticket ticket;
  grpc::ClientContext context;
  pb::CheckRequest request;
  pb::CheckResponse response;
};

// What the awaiting coroutine gets back.
struct Outcome {
  grpc::Status status;
  pb::CheckResponse response;
};

std::string codeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated (is shared_secret the same on both sides?)";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource exhausted";
    default:
      return "gRPC status " + std::to_string(static_cast<int>(code));
  }
}

class AuthorizeGrpcClient final : public Client {
 public:
  AuthorizeGrpcClient(std::shared_ptr<grpc::Channel> channel, AuthorizeGrpcClientOptions options)
      : stub_(pb::Authorize::NewStub(channel)),
        channel_(std::move(channel)),
        options_(std::move(options)),
        tokens_(options_.shared_secret) {}
  ~AuthorizeGrpcClient() override { outstanding_->waitIdle(); }

  Task<CheckResponse> check(const CheckRequest& request) override {
    auto call = std::make_shared<Call>(outstanding_);
    proto::toProto(request, call->request);
    call->context.AddMetadata("jwt", tokens_.current());
    call->context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout));
    // With every replica down, fail now rather than wait for one.
    call->context.set_wait_for_ready(false);
    Outcome outcome = co_await send(std::move(call));
    if (!outcome.status.ok()) co_return unavailable(outcome.status, request);
    co_return proto::fromProto(outcome.response);
  }

 private:
  // Starts the call and resumes the awaiting coroutine on its own executor
  // with the outcome.
  Task<Outcome> send(std::shared_ptr<Call> call) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Outcome)>(
        [this, call = std::move(call)](auto handler) mutable {
          auto executor = asio::get_associated_executor(handler);
          // Keeps the event loop running while gRPC works.
          auto work = std::make_shared<asio::executor_work_guard<decltype(executor)>>(executor);
          auto resume = std::make_shared<decltype(handler)>(std::move(handler));
          Call* raw = call.get();
          stub_->async()->Check(
              &raw->context, &raw->request, &raw->response,
              [call, resume, work, executor](grpc::Status status) mutable {
                Outcome outcome{std::move(status), std::move(call->response)};
                call.reset();  // gRPC is done with it: return the ticket now
                asio::post(executor, [resume, work, outcome = std::move(outcome)]() mutable {
                  (*resume)(std::move(outcome));
                  work->reset();
                });
              });
        },
        asio::use_awaitable);
  }

  static CheckResponse unavailable(const grpc::Status& status, const CheckRequest& request) {
    CheckResponse response;
    response.kind = CheckResponse::Kind::kError;
    response.status = 503;
    response.details = "authorize service unavailable: " + codeName(status.error_code());
    if (!status.error_message().empty()) response.details += ": " + status.error_message();
    if (request.headers != nullptr) {
      std::string_view content_type = request.headers->get("content-type").value_or("");
      response.grpc = isGrpcRequest(content_type) || isGrpcWebRequest(content_type);
    }
    return response;
  }

  std::unique_ptr<pb::Authorize::Stub> stub_;
  std::shared_ptr<grpc::Channel> channel_;
  AuthorizeGrpcClientOptions options_;
  databroker::ServiceTokenSource tokens_;
  std::shared_ptr<Outstanding> outstanding_ = std::make_shared<Outstanding>();
};

}  // namespace

Result<std::unique_ptr<Client>> makeAuthorizeGrpcClient(AuthorizeGrpcClientOptions options) {
  auto target = databroker::grpcTargetFor(options.urls, "authorize_service_urls");
  if (!target) return target.error();
  if (options.shared_secret.empty()) return Error::invalid("shared_secret: required");
  if (options.timeout <= Duration::zero()) {
    return Error::invalid("grpc_client_timeout: must be positive");
  }
  // gRPC locks absl mutexes several times per call; with the distribution's
  // absl, each lock also updates a lock-order graph for deadlock reports
  // unless this is turned off (process-wide; it only ever reports).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ChannelArguments args;
  databroker::setServiceChannelArguments(args);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kInitialReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, kMinTimeBetweenResolutionsMs);
  auto credentials = databroker::grpcChannelCredentials(*target, options.tls, args);
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      target->target, credentials, args,
      metrics::clientMetricsInterceptors(options.metrics, pb::Authorize::service_full_name(),
                                         target->target));
  return std::unique_ptr<Client>(
      std::make_unique<AuthorizeGrpcClient>(std::move(channel), std::move(options)));
}

}  // namespace gatehouse::authorize

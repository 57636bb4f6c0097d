#include "authorize/grpc/authorize_grpc_server.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <condition_variable>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "authorize/grpc/check_proto.h"
#include "common/log.h"
#include "databroker/grpc_tls.h"
#include "databroker/record.h"
#include "databroker/service_token.h"
#include "metrics/grpc/grpc_interceptors.h"
#include "proto/authorize.grpc.pb.h"

namespace gatehouse::authorize {
namespace {

namespace pb = ::gatehouse::authorize::v1;

// Peers whose refusals have been logged; past this many, refusals from new
// peers are no longer logged (a scan must not grow memory without bound).
constexpr size_t kMaxLoggedPeers = 1024;

// One Check between its arrival and its answer. Exactly one of the decision
// and a shutdown finishes it; whichever comes first claims it, and only the
// claimant touches the reactor and the response, which gRPC frees once the
// call is finished.
class PendingCall {
 public:
  PendingCall(grpc::ServerUnaryReactor* reactor, pb::CheckResponse* response,
              const pb::CheckRequest& request)
      : request_(request), reactor_(reactor), response_(response) {}

  const CheckRequest& request() const { return request_.request(); }

  // Fills the response with `fill` (if given) and finishes the call, unless
  // it was finished already.
  template <typename Fill>
  void finish(const grpc::Status& status, Fill fill) {
    if (claimed_.exchange(true)) return;
    fill(*response_);
    reactor_->Finish(status);
  }
  void finish(const grpc::Status& status) {
    finish(status, [](pb::CheckResponse&) {});
  }

 private:
  // A copy of gRPC's request: a decision may outlive gRPC's copy when a
  // shutdown answers its call first.
  proto::OwnedCheckRequest request_;
  grpc::ServerUnaryReactor* reactor_;
  pb::CheckResponse* response_;
  std::atomic<bool> claimed_{false};
};

// The calls being decided, so that a shutdown can answer those that take
// too long.
class PendingCalls {
 public:
  // False once closed: the caller answers the call itself.
  bool add(const std::shared_ptr<PendingCall>& call) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    calls_.insert(call);
    return true;
  }
  void remove(const std::shared_ptr<PendingCall>& call) {
    std::lock_guard lock(mutex_);
    calls_.erase(call);
  }
  // Refuses calls from now on and answers every pending one with `status`.
  void close(const grpc::Status& status) {
    std::unordered_set<std::shared_ptr<PendingCall>> calls;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      calls.swap(calls_);
    }
    for (const auto& call : calls) call->finish(status);
  }

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::unordered_set<std::shared_ptr<PendingCall>> calls_;
};

// Decision objects for gRPC's threads, each lent to one Check at a time.
class InlineDeciders {
 public:
  explicit InlineDeciders(std::function<std::shared_ptr<Client>()> make) : make_(std::move(make)) {}

  // The decision, if it can be made without waiting (Client::checkNow).
  std::optional<CheckResponse> decide(const CheckRequest& request) {
    std::shared_ptr<Client> decider = take();
    std::optional<CheckResponse> decided = decider->checkNow(request);
    give(std::move(decider));
    return decided;
  }

 private:
  // More idle ones than this are dropped (gRPC's threads come and go).
  static constexpr size_t kMaxIdle = 64;

  std::shared_ptr<Client> take() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::shared_ptr<Client> decider = std::move(idle_.back());
        idle_.pop_back();
        return decider;
      }
    }
    return make_();
  }
  void give(std::shared_ptr<Client> decider) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(decider));
  }

  std::function<std::shared_ptr<Client>()> make_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Client>> idle_;
};

grpc::Status decisionFailed() {
  return grpc::Status(grpc::StatusCode::INTERNAL, "the authorize decision failed");
}

grpc::Status shuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "authorize service is shutting down");
}

// "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7": one entry per host, not per
// connection.
std::string peerHost(const std::string& peer) {
  size_t colon = peer.rfind(':');
  if (colon == std::string::npos || colon < peer.find(':') + 1) return peer;
  return peer.substr(0, colon);
}

class Service final : public pb::Authorize::CallbackService {
 public:
  Service(std::shared_ptr<Client> local, std::string shared_secret, asio::io_context& io,
          std::function<std::shared_ptr<Client>()> make_inline)
      : local_(std::move(local)), tokens_(std::move(shared_secret)), io_(io) {
    if (make_inline) inline_.emplace(std::move(make_inline));
  }

  PendingCalls& pending() { return pending_; }

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const pb::CheckRequest* request,
                                  pb::CheckResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (auto denied = authenticate(*context); !denied.ok()) {
      reactor->Finish(denied);
      return reactor;
    }
    if (inline_) {
      // Nearly every decision waits for nothing: made here, on gRPC's
      // thread, it skips two thread hops.
      std::optional<CheckResponse> decided;
      try {
        proto::CheckRequestView view(*request);
        decided = inline_->decide(view.request());
      } catch (...) {
        reactor->Finish(decisionFailed());
        return reactor;
      }
      if (decided) {
        proto::toProto(*decided, *response);
        reactor->Finish(grpc::Status::OK);
        return reactor;
      }
    }
    auto call = std::make_shared<PendingCall>(reactor, response, *request);
    if (!pending_.add(call)) {
      call->finish(shuttingDown());
      return reactor;
    }
    // The decision is a coroutine on the server's io_context; it finishes
    // the call when it is done, on that io_context's thread.
    asio::co_spawn(io_, decide(call), [this, call](const std::exception_ptr& failure) {
      if (!failure) return;
      pending_.remove(call);
      call->finish(decisionFailed());
    });
    return reactor;
  }

 private:
  Task<void> decide(std::shared_ptr<PendingCall> call) {
    CheckResponse decision = co_await local_->check(call->request());
    pending_.remove(call);
    call->finish(grpc::Status::OK,
                 [&](pb::CheckResponse& response) { proto::toProto(decision, response); });
  }

  // The caller must present the shared-secret JWT, as for the databroker.
  grpc::Status authenticate(const grpc::CallbackServerContext& context) {
    const auto& metadata = context.client_metadata();
    auto it = metadata.find("jwt");
    std::string_view token;
    if (it != metadata.end()) token = std::string_view(it->second.data(), it->second.size());
    auto verified = tokens_.verify(token, databroker::now());
    if (verified.ok()) return grpc::Status::OK;
    logRefusal(context.peer(), verified.error().message);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, verified.error().message);
  }

  // A wrong shared_secret on a proxy refuses every one of its calls; one
  // line per peer says why without flooding the log.
  void logRefusal(const std::string& peer, const std::string& reason) {
    std::string host = peerHost(peer);
    {
      std::lock_guard lock(refused_mutex_);
      if (refused_peers_.size() >= kMaxLoggedPeers || !refused_peers_.insert(host).second) return;
    }
    log::warn(
        "authorize: refused a gRPC call without a valid shared-secret JWT "
        "(is shared_secret the same on the proxy?); further refusals of this peer are "
        "not logged")
        .str("peer", host)
        .str("reason", reason);
  }

  std::shared_ptr<Client> local_;
  databroker::ServiceTokenVerifier tokens_;
  asio::io_context& io_;
  std::optional<InlineDeciders> inline_;
  PendingCalls pending_;
  std::mutex refused_mutex_;
  std::unordered_set<std::string> refused_peers_;
};

class AuthorizeGrpcServerImpl final : public AuthorizeGrpcServer {
 public:
  AuthorizeGrpcServerImpl(std::shared_ptr<Client> local, const Options& options)
      : local_(local), service_(std::move(local), options.shared_secret, io_, options.make_inline) {
    size_t threads = std::max<size_t>(options.threads, 1);
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~AuthorizeGrpcServerImpl() override { shutdown(std::chrono::milliseconds(0)); }

  Service& service() { return service_; }
  void serve(std::unique_ptr<grpc::Server> server, int port) {
    server_ = std::move(server);
    port_ = port;
  }

  uint16_t port() const override { return static_cast<uint16_t>(port_); }

  void shutdown(std::chrono::milliseconds grace) override {
    if (stopped_.exchange(true)) return;
    if (server_) {
      if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
      // gRPC waits for every call to be finished; decisions still running
      // when the grace ends are answered UNAVAILABLE here.
      std::mutex mutex;
      std::condition_variable stopped;
      bool done = false;
      std::thread sweeper([&] {
        std::unique_lock lock(mutex);
        if (!stopped.wait_for(lock, grace, [&] { return done; })) {
          service_.pending().close(shuttingDown());
        }
      });
      server_->Shutdown(std::chrono::system_clock::now() + grace);
      server_->Wait();
      {
        std::lock_guard lock(mutex);
        done = true;
      }
      stopped.notify_all();
      sweeper.join();
    }
    service_.pending().close(shuttingDown());
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  // Declared first, released last: decisions that never finished are
  // destroyed with the io_context, and they use the client.
  std::shared_ptr<Client> local_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  Service service_;
  std::vector<std::thread> threads_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
};

// ":5443" -> "[::]:5443" (every address, as Go's net.Listen reads it).
std::string listenTarget(const std::string& address) {
  if (!address.empty() && address.front() == ':') return "[::]" + address;
  return address;
}

int milliseconds(std::chrono::milliseconds duration) {
  return static_cast<int>(std::min<int64_t>(duration.count(), std::numeric_limits<int>::max()));
}

}  // namespace

Result<std::unique_ptr<AuthorizeGrpcServer>> AuthorizeGrpcServer::start(
    std::shared_ptr<Client> local, const Options& options) {
  if (options.shared_secret.empty()) return Error::invalid("shared_secret: required");
  if (!local) return Error::invalid("authorize: no decision to serve");
  auto credentials = databroker::grpcServerCredentials(options.tls);
  if (!credentials) return credentials.error();
  // As for the client: no lock-order graph on every absl mutex gRPC locks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto impl = std::make_unique<AuthorizeGrpcServerImpl>(std::move(local), options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listenTarget(options.address), *credentials, &port);
  // A second process given the same port fails to start instead of
  // sharing it (gRPC sets SO_REUSEPORT by default: the kernel would split
  // the connections between the two without a word).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&impl->service());
  // Clients ping idle connections to notice a dead replica; allow it.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             milliseconds(options.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             milliseconds(options.max_connection_age_grace));
  auto interceptors =
      metrics::serverMetricsInterceptors(options.metrics, pb::Authorize::service_full_name());
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return Error::invalid("grpc_address: cannot listen on \"" + options.address + "\"");
  }
  impl->serve(std::move(server), port);
  return std::unique_ptr<AuthorizeGrpcServer>(std::move(impl));
}

}  // namespace gatehouse::authorize

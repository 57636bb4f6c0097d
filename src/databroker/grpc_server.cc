#include "databroker/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <mutex>
#include <set>

#include "common/log.h"
#include "databroker/grpc_tls.h"
#include "databroker/local_client.h"
#include "databroker/proto_convert.h"
#include "databroker/service_token.h"
#include "metrics/grpc/grpc_interceptors.h"
#include "proto/databroker.grpc.pb.h"

namespace gatehouse::databroker {
namespace {

namespace pb = ::databroker;
using grpc::ServerContext;
using grpc::Status;

constexpr size_t kSyncBatch = 1000;
// How often a waiting Sync stream checks whether its client went away.
constexpr auto kSyncWakeInterval = std::chrono::milliseconds(500);
// A waiting stream looks at the store at least this often even without a
// notification, in case one was lost.
constexpr auto kSyncRecheckInterval = std::chrono::seconds(10);

class Service final : public pb::DataBrokerService::Service {
 public:
  Service(std::shared_ptr<Backend> backend, std::string shared_secret)
      : backend_(std::move(backend)), tokens_(std::move(shared_secret)) {}

  void stop() {
    stopping_ = true;
    backend_->notifier().wakeAll();
  }

  Status AcquireLease(ServerContext* ctx, const pb::AcquireLeaseRequest* req,
                      pb::AcquireLeaseResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    std::string id = newLeaseId();
    auto acquired = backend_->acquireLease(req->name(), id, proto::fromProto(req->duration()));
    if (!acquired) return proto::toStatus(acquired.error());
    if (!*acquired)
      return Status(grpc::StatusCode::ALREADY_EXISTS, "lease is held by someone else");
    resp->set_id(id);
    return Status::OK;
  }

  Status Get(ServerContext* ctx, const pb::GetRequest* req, pb::GetResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto record = backend_->get(req->type(), req->id());
    if (!record) return proto::toStatus(record.error());
    return convert(*record, *resp->mutable_record());
  }

  Status ListTypes(ServerContext* ctx, const google::protobuf::Empty*,
                   pb::ListTypesResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto types = backend_->listTypes();
    if (!types) return proto::toStatus(types.error());
    for (const auto& type : *types) resp->add_types(type);
    return Status::OK;
  }

  Status Put(ServerContext* ctx, const pb::PutRequest* req, pb::PutResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto records = proto::fromProto(req->records());
    if (!records) return proto::toStatus(records.error());
    auto result = backend_->put(std::move(*records));
    if (!result) return proto::toStatus(result.error());
    resp->set_server_version(result->server_version);
    for (const auto& record : result->records) {
      if (auto s = convert(record, *resp->add_records()); !s.ok()) return s;
    }
    return Status::OK;
  }

  Status Patch(ServerContext* ctx, const pb::PatchRequest* req, pb::PatchResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto records = proto::fromProto(req->records());
    if (!records) return proto::toStatus(records.error());
    std::vector<std::string> mask(req->field_mask().paths().begin(),
                                  req->field_mask().paths().end());
    auto result = backend_->patch(std::move(*records), mask);
    if (!result) return proto::toStatus(result.error());
    resp->set_server_version(result->server_version);
    for (const auto& record : result->records) {
      if (auto s = convert(record, *resp->add_records()); !s.ok()) return s;
    }
    return Status::OK;
  }

  Status Query(ServerContext* ctx, const pb::QueryRequest* req, pb::QueryResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    if (req->offset() < 0 || req->limit() < 0) {
      return Status(grpc::StatusCode::INVALID_ARGUMENT, "offset and limit must not be negative");
    }
    auto filter = proto::filterFromProto(req->filter());
    if (!filter) return proto::toStatus(filter.error());
    databroker::Query query;
    query.type = req->type();
    query.search = req->query();
    query.filter = std::move(*filter);
    query.offset = static_cast<uint64_t>(req->offset());
    query.limit = static_cast<uint64_t>(req->limit());
    auto result = backend_->query(query);
    if (!result) return proto::toStatus(result.error());
    for (const auto& record : result->records) {
      if (auto s = convert(record, *resp->add_records()); !s.ok()) return s;
    }
    resp->set_total_count(static_cast<int64_t>(result->total_count));
    resp->set_server_version(result->server_version);
    resp->set_record_version(result->record_version);
    return Status::OK;
  }

  Status ReleaseLease(ServerContext* ctx, const pb::ReleaseLeaseRequest* req,
                      google::protobuf::Empty*) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto released = backend_->releaseLease(req->name(), req->id());
    if (!released) return proto::toStatus(released.error());
    return Status::OK;
  }

  Status RenewLease(ServerContext* ctx, const pb::RenewLeaseRequest* req,
                    google::protobuf::Empty*) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto renewed = backend_->renewLease(req->name(), req->id(), proto::fromProto(req->duration()));
    if (!renewed) return proto::toStatus(renewed.error());
    if (!*renewed) return Status(grpc::StatusCode::ALREADY_EXISTS, "lease was lost");
    return Status::OK;
  }

  Status GetOptions(ServerContext* ctx, const pb::GetOptionsRequest* req,
                    pb::GetOptionsResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto options = backend_->getOptions(req->type());
    if (!options) return proto::toStatus(options.error());
    proto::toProto(*options, *resp->mutable_options());
    return Status::OK;
  }

  Status SetOptions(ServerContext* ctx, const pb::SetOptionsRequest* req,
                    pb::SetOptionsResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    TypeOptions options = proto::fromProto(req->options());
    auto set = backend_->setOptions(req->type(), options);
    if (!set) return proto::toStatus(set.error());
    proto::toProto(options, *resp->mutable_options());
    return Status::OK;
  }

  Status Sync(ServerContext* ctx, const pb::SyncRequest* req,
              grpc::ServerWriter<pb::SyncResponse>* writer) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    SyncPosition position{req->server_version(), req->record_version()};
    while (!ctx->IsCancelled() && !stopping_) {
      uint64_t generation = backend_->notifier().generation();
      auto batch = backend_->changes(position, req->type(), kSyncBatch);
      if (!batch) return proto::toStatus(batch.error());
      for (const auto& record : batch->records) {
        pb::SyncResponse response;
        if (auto s = convert(record, *response.mutable_record()); !s.ok()) return s;
        if (!writer->Write(response))
          return Status(grpc::StatusCode::CANCELLED, "client went away");
      }
      position.record_version = batch->record_version;
      if (batch->more) continue;
      auto recheck = std::chrono::steady_clock::now() + kSyncRecheckInterval;
      while (!ctx->IsCancelled() && !stopping_ && std::chrono::steady_clock::now() < recheck) {
        auto wake = std::min(recheck, std::chrono::steady_clock::now() + kSyncWakeInterval);
        if (backend_->notifier().waitForChange(generation, wake)) break;
      }
    }
    return Status(grpc::StatusCode::UNAVAILABLE, "databroker is shutting down");
  }

  Status SyncLatest(ServerContext* ctx, const pb::SyncLatestRequest* req,
                    grpc::ServerWriter<pb::SyncLatestResponse>* writer) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto snapshot = backend_->latest(req->type());
    if (!snapshot) return proto::toStatus(snapshot.error());
    for (const auto& record : snapshot->records) {
      pb::SyncLatestResponse response;
      if (auto s = convert(record, *response.mutable_record()); !s.ok()) return s;
      if (!writer->Write(response)) return Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    pb::SyncLatestResponse versions;
    versions.mutable_versions()->set_server_version(snapshot->server_version);
    versions.mutable_versions()->set_latest_record_version(snapshot->record_version);
    writer->Write(versions);
    return Status::OK;
  }

  Status ServerInfo(ServerContext* ctx, const google::protobuf::Empty*,
                    pb::ServerInfoResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto info = backend_->serverInfo();
    if (!info) return proto::toStatus(info.error());
    resp->set_server_version(info->server_version);
    resp->set_earliest_record_version(info->earliest_record_version);
    resp->set_latest_record_version(info->latest_record_version);
    return Status::OK;
  }

  Status Clear(ServerContext* ctx, const google::protobuf::Empty*,
               pb::ClearResponse* resp) override {
    if (auto denied = authenticate(ctx); !denied.ok()) return denied;
    auto cleared = backend_->clear();
    if (!cleared) return proto::toStatus(cleared.error());
    resp->set_old_server_version(cleared->old_server_version);
    resp->set_new_server_version(cleared->new_server_version);
    return Status::OK;
  }

 private:
  // Every method starts here: the caller must present the shared-secret JWT.
  Status authenticate(ServerContext* ctx) const {
    const auto& metadata = ctx->client_metadata();
    auto it = metadata.find("jwt");
    std::string_view token;
    if (it != metadata.end()) token = std::string_view(it->second.data(), it->second.size());
    auto verified = tokens_.verify(token, now());
    if (!verified) {
      logRefusal(ctx->peer(), verified.error().message);
      return Status(grpc::StatusCode::UNAUTHENTICATED, verified.error().message);
    }
    return Status::OK;
  }

  // A client with another shared_secret is refused on every call; one line
  // per peer host tells the operator why, without flooding the log.
  void logRefusal(const std::string& peer, const std::string& reason) const {
    static constexpr size_t kMaxLoggedPeers = 1024;
    size_t colon = peer.rfind(':');
    std::string host = colon == std::string::npos ? peer : peer.substr(0, colon);
    {
      std::lock_guard lock(refused_mutex_);
      if (refused_peers_.size() >= kMaxLoggedPeers || !refused_peers_.insert(host).second) return;
    }
    log::warn(
        "databroker: refused a gRPC call without a valid shared-secret JWT (is shared_secret "
        "the same on the caller?); further refusals of this peer are not logged")
        .str("peer", host)
        .str("reason", reason);
  }

  static Status convert(const Record& record, pb::Record& out) {
    if (auto converted = proto::toProto(record, out); !converted) {
      return proto::toStatus(converted.error());
    }
    return Status::OK;
  }

  std::shared_ptr<Backend> backend_;
  mutable ServiceTokenVerifier tokens_;  // remembers tokens: changes under authenticate()
  std::atomic<bool> stopping_{false};
  mutable std::mutex refused_mutex_;
  mutable std::set<std::string> refused_peers_;
};

class GrpcServerImpl final : public GrpcServer {
 public:
  GrpcServerImpl(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server, int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}
  ~GrpcServerImpl() override { shutdown(std::chrono::milliseconds(0)); }

  uint16_t port() const override { return static_cast<uint16_t>(port_); }

  void shutdown(std::chrono::milliseconds grace) override {
    if (stopped_.exchange(true)) return;
    service_->stop();
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
  }

 private:
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::atomic<bool> stopped_{false};
};

// ":5443" -> "[::]:5443" (every address, as Go's net.Listen reads it).
std::string listenTarget(const std::string& address) {
  if (!address.empty() && address.front() == ':') return "[::]" + address;
  return address;
}

}  // namespace

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(std::shared_ptr<Backend> backend,
                                                      const GrpcServerOptions& options) {
  if (options.shared_secret.empty()) return Error::invalid("shared_secret: required");
  auto credentials = grpcServerCredentials(options.tls);
  if (!credentials) return credentials.error();
  auto service = std::make_unique<Service>(std::move(backend), options.shared_secret);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listenTarget(options.address), *credentials, &port);
  // A second process given the same port fails to start instead of
  // sharing it (gRPC sets SO_REUSEPORT by default: the kernel would split
  // the connections between the two without a word).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service.get());
  // Clients ping idle streams to notice a dead databroker; allow it.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  auto interceptors = metrics::serverMetricsInterceptors(
      options.metrics, pb::DataBrokerService::service_full_name());
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return Error::invalid("grpc_address: cannot listen on \"" + options.address + "\"");
  }
  return std::unique_ptr<GrpcServer>(
      std::make_unique<GrpcServerImpl>(std::move(service), std::move(server), port));
}

}  // namespace gatehouse::databroker

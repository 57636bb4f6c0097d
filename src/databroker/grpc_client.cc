#include "databroker/grpc_client.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include "databroker/grpc_target.h"
#include "databroker/grpc_tls.h"
#include "databroker/outstanding_calls.h"
#include "databroker/proto_convert.h"
#include "databroker/service_token.h"
#include "databroker/sync_gate.h"
#include "metrics/grpc/grpc_interceptors.h"
#include "proto/databroker.grpc.pb.h"

namespace gatehouse::databroker {
namespace {

namespace pb = ::databroker;

using Outstanding = OutstandingCalls;
using Ticket = Outstanding::Ticket;

// One change stream: a gRPC read reactor that hands each record to the gate.
// It keeps itself alive until gRPC calls OnDone.
class SyncReactor final : public grpc::ClientReadReactor<pb::SyncResponse>,
                          public std::enable_shared_from_this<SyncReactor> {
 public:
  SyncReactor(Ticket ticket, SyncHandler handler)
      : ticket_(std::move(ticket)), gate_(std::move(handler)) {}

  grpc::ClientContext& context() { return context_; }
  pb::SyncRequest& request() { return request_; }

  void begin(pb::DataBrokerService::Stub& stub) {
    self_ = shared_from_this();
    stub.async()->Sync(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void cancel() {
    gate_.close();
    context_.TryCancel();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    auto record = proto::fromProto(response_.record());
    if (!record) {
      failure_ = record.error();
      context_.TryCancel();
      return;
    }
    std::vector<Record> batch;
    batch.push_back(std::move(*record));
    if (!gate_.deliver(std::move(batch))) return;
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    if (failure_) {
      gate_.fail(*failure_);
    } else if (status.ok()) {
      gate_.fail(unavailable("the databroker ended the stream"));
    } else {
      gate_.fail(proto::fromStatus(status));
    }
    self_.reset();  // may destroy this object: nothing may follow
  }

 private:
  Ticket ticket_;
  grpc::ClientContext context_;
  pb::SyncRequest request_;
  pb::SyncResponse response_;
  SyncGate gate_;
  std::optional<Error> failure_;
  std::shared_ptr<SyncReactor> self_;
};

class GrpcSyncStream final : public SyncStream {
 public:
  explicit GrpcSyncStream(std::shared_ptr<SyncReactor> reactor) : reactor_(std::move(reactor)) {}
  ~GrpcSyncStream() override { reactor_->cancel(); }

 private:
  std::shared_ptr<SyncReactor> reactor_;
};

// SyncLatest: collects the stream into one Snapshot.
class SnapshotReactor final : public grpc::ClientReadReactor<pb::SyncLatestResponse>,
                              public std::enable_shared_from_this<SnapshotReactor> {
 public:
  SnapshotReactor(Ticket ticket, Callback<Snapshot> done)
      : ticket_(std::move(ticket)), done_(std::move(done)) {}

  grpc::ClientContext& context() { return context_; }
  pb::SyncLatestRequest& request() { return request_; }

  void begin(pb::DataBrokerService::Stub& stub) {
    self_ = shared_from_this();
    stub.async()->SyncLatest(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (response_.has_versions()) {
      snapshot_.server_version = response_.versions().server_version();
      snapshot_.record_version = response_.versions().latest_record_version();
      has_versions_ = true;
    } else if (response_.has_record()) {
      auto record = proto::fromProto(response_.record());
      if (!record) {
        failure_ = record.error();
        context_.TryCancel();
        return;
      }
      snapshot_.records.push_back(std::move(*record));
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    if (failure_) {
      done_(*failure_);
    } else if (!status.ok()) {
      done_(proto::fromStatus(status));
    } else if (!has_versions_) {
      done_(unavailable("the snapshot stream ended without its versions"));
    } else {
      done_(std::move(snapshot_));
    }
    self_.reset();  // may destroy this object: nothing may follow
  }

 private:
  Ticket ticket_;
  grpc::ClientContext context_;
  pb::SyncLatestRequest request_;
  pb::SyncLatestResponse response_;
  Snapshot snapshot_;
  bool has_versions_ = false;
  std::optional<Error> failure_;
  Callback<Snapshot> done_;
  std::shared_ptr<SnapshotReactor> self_;
};

class GrpcClient final : public Client {
 public:
  GrpcClient(std::shared_ptr<grpc::Channel> channel, GrpcClientOptions options)
      : stub_(pb::DataBrokerService::NewStub(channel)),
        channel_(std::move(channel)),
        options_(std::move(options)),
        tokens_(options_.shared_secret) {}
  ~GrpcClient() override { outstanding_->waitIdle(); }

  void get(std::string type, std::string id, Callback<Record> done) override {
    auto call = std::make_shared<Call<pb::GetRequest, pb::GetResponse>>(Ticket(outstanding_));
    call->request.set_type(std::move(type));
    call->request.set_id(std::move(id));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->Get(args...); },
        [done](pb::GetResponse& response) { done(proto::fromProto(response.record())); }, done);
  }

  void put(std::vector<Record> records, Callback<PutResult> done) override {
    auto call = std::make_shared<Call<pb::PutRequest, pb::PutResponse>>(Ticket(outstanding_));
    for (const auto& record : records) {
      if (auto converted = proto::toProto(record, *call->request.add_records()); !converted) {
        return fail(done, converted.error());
      }
    }
    start(
        call, [](auto* rpc, auto&&... args) { rpc->Put(args...); },
        [done](pb::PutResponse& response) { done(putResult(response)); }, done);
  }

  void patch(std::vector<Record> records, std::vector<std::string> field_mask,
             Callback<PutResult> done) override {
    auto call = std::make_shared<Call<pb::PatchRequest, pb::PatchResponse>>(Ticket(outstanding_));
    for (const auto& record : records) {
      if (auto converted = proto::toProto(record, *call->request.add_records()); !converted) {
        return fail(done, converted.error());
      }
    }
    for (auto& path : field_mask) call->request.mutable_field_mask()->add_paths(std::move(path));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->Patch(args...); },
        [done](pb::PatchResponse& response) { done(putResult(response)); }, done);
  }

  void query(Query query, Callback<QueryResult> done) override {
    auto call = std::make_shared<Call<pb::QueryRequest, pb::QueryResponse>>(Ticket(outstanding_));
    call->request.set_type(query.type);
    call->request.set_query(query.search);
    call->request.set_offset(static_cast<int64_t>(query.offset));
    call->request.set_limit(static_cast<int64_t>(query.limit));
    proto::filterToProto(query.filter, *call->request.mutable_filter());
    start(
        call, [](auto* rpc, auto&&... args) { rpc->Query(args...); },
        [done](pb::QueryResponse& response) {
          auto records = proto::fromProto(response.records());
          if (!records) return done(records.error());
          QueryResult result;
          result.records = std::move(*records);
          result.total_count = static_cast<uint64_t>(response.total_count());
          result.server_version = response.server_version();
          result.record_version = response.record_version();
          done(std::move(result));
        },
        done);
  }

  void syncLatest(std::string type, Callback<Snapshot> done) override {
    auto reactor = std::make_shared<SnapshotReactor>(Ticket(outstanding_), std::move(done));
    // No deadline: a large snapshot may take a while; keepalive pings notice
    // a databroker that died.
    prepare(reactor->context(), /*deadline=*/false);
    reactor->request().set_type(std::move(type));
    reactor->begin(*stub_);
  }

  std::unique_ptr<SyncStream> sync(SyncPosition from, std::string type,
                                   SyncHandler handler) override {
    auto reactor = std::make_shared<SyncReactor>(Ticket(outstanding_), std::move(handler));
    prepare(reactor->context(), /*deadline=*/false);
    reactor->request().set_server_version(from.server_version);
    reactor->request().set_record_version(from.record_version);
    reactor->request().set_type(std::move(type));
    reactor->begin(*stub_);
    return std::make_unique<GrpcSyncStream>(std::move(reactor));
  }

  void serverInfo(Callback<ServerInfo> done) override {
    auto call = std::make_shared<Call<google::protobuf::Empty, pb::ServerInfoResponse>>(
        Ticket(outstanding_));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->ServerInfo(args...); },
        [done](pb::ServerInfoResponse& response) {
          done(ServerInfo{response.server_version(), response.earliest_record_version(),
                          response.latest_record_version()});
        },
        done);
  }

  void listTypes(Callback<std::vector<std::string>> done) override {
    auto call = std::make_shared<Call<google::protobuf::Empty, pb::ListTypesResponse>>(
        Ticket(outstanding_));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->ListTypes(args...); },
        [done](pb::ListTypesResponse& response) {
          done(std::vector<std::string>(response.types().begin(), response.types().end()));
        },
        done);
  }

  void getOptions(std::string type, Callback<TypeOptions> done) override {
    auto call =
        std::make_shared<Call<pb::GetOptionsRequest, pb::GetOptionsResponse>>(Ticket(outstanding_));
    call->request.set_type(std::move(type));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->GetOptions(args...); },
        [done](pb::GetOptionsResponse& response) { done(proto::fromProto(response.options())); },
        done);
  }

  void setOptions(std::string type, TypeOptions options, Callback<void> done) override {
    auto call =
        std::make_shared<Call<pb::SetOptionsRequest, pb::SetOptionsResponse>>(Ticket(outstanding_));
    call->request.set_type(std::move(type));
    proto::toProto(options, *call->request.mutable_options());
    start(
        call, [](auto* rpc, auto&&... args) { rpc->SetOptions(args...); },
        [done](pb::SetOptionsResponse&) { done(Result<void>()); }, done);
  }

  void clear(Callback<ClearResult> done) override {
    auto call =
        std::make_shared<Call<google::protobuf::Empty, pb::ClearResponse>>(Ticket(outstanding_));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->Clear(args...); },
        [done](pb::ClearResponse& response) {
          done(ClearResult{response.old_server_version(), response.new_server_version()});
        },
        done);
  }

  void acquireLease(std::string name, Duration ttl, Callback<std::string> done) override {
    auto call = std::make_shared<Call<pb::AcquireLeaseRequest, pb::AcquireLeaseResponse>>(
        Ticket(outstanding_));
    call->request.set_name(std::move(name));
    proto::toProto(ttl, *call->request.mutable_duration());
    start(
        call, [](auto* rpc, auto&&... args) { rpc->AcquireLease(args...); },
        [done](pb::AcquireLeaseResponse& response) { done(response.id()); }, done);
  }

  void renewLease(std::string name, std::string id, Duration ttl, Callback<void> done) override {
    auto call = std::make_shared<Call<pb::RenewLeaseRequest, google::protobuf::Empty>>(
        Ticket(outstanding_));
    call->request.set_name(std::move(name));
    call->request.set_id(std::move(id));
    proto::toProto(ttl, *call->request.mutable_duration());
    start(
        call, [](auto* rpc, auto&&... args) { rpc->RenewLease(args...); },
        [done](google::protobuf::Empty&) { done(Result<void>()); }, done);
  }

  void releaseLease(std::string name, std::string id, Callback<void> done) override {
    auto call = std::make_shared<Call<pb::ReleaseLeaseRequest, google::protobuf::Empty>>(
        Ticket(outstanding_));
    call->request.set_name(std::move(name));
    call->request.set_id(std::move(id));
    start(
        call, [](auto* rpc, auto&&... args) { rpc->ReleaseLease(args...); },
        [done](google::protobuf::Empty&) { done(Result<void>()); }, done);
  }

 private:
  template <typename Request, typename Response>
  struct Call {
    explicit Call(Ticket t) : ticket(std::move(t)) {}
    Ticket ticket;
    grpc::ClientContext context;
    Request request;
    Response response;
  };

  template <typename Response>
  static Result<PutResult> putResult(Response& response) {
    auto records = proto::fromProto(response.records());
    if (!records) return records.error();
    PutResult result;
    result.server_version = response.server_version();
    result.records = std::move(*records);
    return result;
  }

  // Completes `done` with an error on another thread: callbacks never run
  // inline.
  template <typename T>
  void fail(const Callback<T>& done, Error error) {
    std::thread([done, error = std::move(error), ticket = Ticket(outstanding_)] {
      done(error);
    }).detach();
  }

  void prepare(grpc::ClientContext& context, bool deadline) {
    context.AddMetadata("jwt", tokens_.current());
    if (deadline) {
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout));
    }
  }

  // Starts a unary call; `on_ok` gets the response, `done` the error.
  // `invoke` names the method: [](auto* rpc, auto&&... args) { rpc->Get(args...); }.
  template <typename CallT, typename Invoke, typename OnOk, typename T>
  void start(std::shared_ptr<CallT> call, Invoke invoke, OnOk on_ok, const Callback<T>& done) {
    prepare(call->context, /*deadline=*/true);
    std::function<void(grpc::Status)> on_done = [call, on_ok = std::move(on_ok),
                                                 done](const grpc::Status& status) mutable {
      if (!status.ok()) return done(proto::fromStatus(status));
      on_ok(call->response);
    };
    invoke(stub_->async(), &call->context, &call->request, &call->response, std::move(on_done));
  }

  std::unique_ptr<pb::DataBrokerService::Stub> stub_;
  std::shared_ptr<grpc::Channel> channel_;
  GrpcClientOptions options_;
  ServiceTokenSource tokens_;
  std::shared_ptr<Outstanding> outstanding_ = std::make_shared<Outstanding>();
};

}  // namespace

GrpcLibraryScope::GrpcLibraryScope() { grpc_init(); }
GrpcLibraryScope::~GrpcLibraryScope() { grpc_shutdown_blocking(); }

Result<std::unique_ptr<Client>> makeGrpcClient(GrpcClientOptions options) {
  auto target = grpcTargetFor(options.urls, "databroker_service_urls");
  if (!target) return target.error();
  if (options.shared_secret.empty()) return Error::invalid("shared_secret: required");
  grpc::ChannelArguments args;
  setServiceChannelArguments(args);
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  // Reconnect quickly after the databroker restarts.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  auto credentials = grpcChannelCredentials(*target, options.tls, args);
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      target->target, credentials, args,
      metrics::clientMetricsInterceptors(
          options.metrics, pb::DataBrokerService::service_full_name(), target->target));
  return std::unique_ptr<Client>(
      std::make_unique<GrpcClient>(std::move(channel), std::move(options)));
}

}  // namespace gatehouse::databroker

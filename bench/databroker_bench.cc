// Databroker throughput per backend: put (one record, and batches of 100),
// get, and reading the change log as a Sync stream does; plus get through
// the local client and through gRPC. The postgres benchmarks start their own
// PostgreSQL 15 server (as the tests do). Results: bench/RESULTS.md.
//
//   databroker_bench [--benchmark_filter=postgres] ...

#include <benchmark/benchmark.h>

#include <filesystem>
#include <future>
#include <map>
#include <random>

#include "databroker/grpc_client.h"
#include "databroker/grpc_server.h"
#include "databroker/local_client.h"
#include "databroker/storage.h"
#include "support/postgres_server.h"

namespace gatehouse::databroker {
namespace {

constexpr int kPreloaded = 10000;

// A session-sized record (~1 KB, most of it a raw ID token).
std::string sessionData(int i) {
  return R"({"user_id":"user-)" + std::to_string(i % 1000) + R"(","email":"user)" +
         std::to_string(i % 1000) + R"(@example.com","id_token":")" + std::string(900, 'x') +
         R"(","expires_at":"2030-01-01T00:00:00Z"})";
}

Record record(std::string type, std::string id, std::string data) {
  Record r;
  r.type = std::move(type);
  r.id = std::move(id);
  r.data = std::move(data);
  return r;
}

// One store per backend kind, opened on first use and kept for the run.
class Stores {
 public:
  ~Stores() {
    stores_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Backend* get(const std::string& kind, std::string& error) {
    auto it = stores_.find(kind);
    if (it != stores_.end()) return it->second.get();
    StorageOptions options;
    options.type = kind;
    if (kind == "file") {
      if (dir_.empty()) {
        std::string pattern = (std::filesystem::temp_directory_path() / "gh-bench-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
      }
      options.connection_string = dir_ + "/databroker.db";
    } else if (kind == "postgres") {
      if (!postgres_.running() && !postgres_.start(error)) return nullptr;
      options.connection_string = postgres_.createDatabase("bench");
    }
    auto opened = openBackend(options);
    if (!opened) {
      error = opened.error().message;
      return nullptr;
    }
    std::shared_ptr<Backend> backend = std::move(*opened);
    // Data that get and sync read.
    for (int i = 0; i < kPreloaded; i += 100) {
      std::vector<Record> batch;
      for (int j = i; j < i + 100; ++j) {
        batch.push_back(record("bench.read", "s" + std::to_string(j), sessionData(j)));
      }
      (void)backend->put(std::move(batch));
    }
    stores_[kind] = backend;
    return backend.get();
  }

  std::shared_ptr<Backend> shared(const std::string& kind) { return stores_.at(kind); }

 private:
  std::map<std::string, std::shared_ptr<Backend>> stores_;
  std::string dir_;
  gatehouse::testing::PostgresServer postgres_;
};

Stores& stores() {
  static Stores instance;
  return instance;
}

Backend* open(benchmark::State& state, const std::string& kind) {
  std::string error;
  Backend* backend = stores().get(kind, error);
  if (backend == nullptr) state.SkipWithError(error.c_str());
  return backend;
}

void putOne(benchmark::State& state, const std::string& kind) {
  Backend* db = open(state, kind);
  if (db == nullptr) return;
  int i = 0;
  for (auto _ : state) {
    auto result =
        db->put({record("bench.put", "s" + std::to_string(i % kPreloaded), sessionData(i))});
    if (!result) state.SkipWithError(result.error().message.c_str());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void putBatch(benchmark::State& state, const std::string& kind) {
  Backend* db = open(state, kind);
  if (db == nullptr) return;
  int i = 0;
  for (auto _ : state) {
    std::vector<Record> batch;
    for (int j = 0; j < 100; ++j, ++i) {
      batch.push_back(record("bench.batch", "s" + std::to_string(i % kPreloaded), sessionData(i)));
    }
    auto result = db->put(std::move(batch));
    if (!result) state.SkipWithError(result.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}

void get(benchmark::State& state, const std::string& kind) {
  Backend* db = open(state, kind);
  if (db == nullptr) return;
  std::mt19937 random(42);
  for (auto _ : state) {
    auto result = db->get("bench.read", "s" + std::to_string(random() % kPreloaded));
    if (!result) state.SkipWithError(result.error().message.c_str());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

// Reads the change log of the preloaded records from the start, in the
// batches a Sync stream uses.
void syncRead(benchmark::State& state, const std::string& kind) {
  Backend* db = open(state, kind);
  if (db == nullptr) return;
  auto info = db->serverInfo();
  int64_t records = 0;
  for (auto _ : state) {
    SyncPosition position{info->server_version, info->earliest_record_version - 1};
    while (true) {
      auto batch = db->changes(position, "bench.read", 1000);
      if (!batch) {
        state.SkipWithError(batch.error().message.c_str());
        break;
      }
      records += static_cast<int64_t>(batch->records.size());
      position.record_version = batch->record_version;
      if (!batch->more) break;
    }
  }
  state.SetItemsProcessed(records);
}

template <typename T, typename Start>
Result<T> wait(Start start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  start([&promise](Result<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

// get through the local client: the cost of the hop to its thread pool.
void localClientGet(benchmark::State& state) {
  if (open(state, "memory") == nullptr) return;
  auto client = makeLocalClient(stores().shared("memory"));
  std::mt19937 random(42);
  for (auto _ : state) {
    auto result = wait<Record>([&](auto done) {
      client->get("bench.read", "s" + std::to_string(random() % kPreloaded), done);
    });
    if (!result) state.SkipWithError(result.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

// get through gRPC on loopback, one call at a time (latency-bound).
void grpcGet(benchmark::State& state) {
  if (open(state, "memory") == nullptr) return;
  const std::string secret(32, 's');
  GrpcServerOptions server_options;
  server_options.address = "127.0.0.1:0";
  server_options.shared_secret = secret;
  auto server = GrpcServer::start(stores().shared("memory"), server_options);
  if (!server) return state.SkipWithError(server.error().message.c_str());
  GrpcClientOptions client_options;
  client_options.urls = {"http://127.0.0.1:" + std::to_string((*server)->port())};
  client_options.shared_secret = secret;
  auto client = makeGrpcClient(client_options);
  if (!client) return state.SkipWithError(client.error().message.c_str());
  std::mt19937 random(42);
  for (auto _ : state) {
    auto result = wait<Record>([&](auto done) {
      (*client)->get("bench.read", "s" + std::to_string(random() % kPreloaded), done);
    });
    if (!result) state.SkipWithError(result.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void registerAll() {
  for (std::string kind : {"memory", "file", "postgres"}) {
    benchmark::RegisterBenchmark(("put/" + kind).c_str(), putOne, kind)->UseRealTime();
    benchmark::RegisterBenchmark(("put_batch100/" + kind).c_str(), putBatch, kind)->UseRealTime();
    benchmark::RegisterBenchmark(("get/" + kind).c_str(), get, kind)->UseRealTime();
    benchmark::RegisterBenchmark(("sync_read/" + kind).c_str(), syncRead, kind)->UseRealTime();
  }
  benchmark::RegisterBenchmark("get_local_client/memory", localClientGet)->UseRealTime();
  benchmark::RegisterBenchmark("get_grpc/memory", grpcGet)->UseRealTime();
}

}  // namespace
}  // namespace gatehouse::databroker

int main(int argc, char** argv) {
  gatehouse::databroker::GrpcLibraryScope grpc;
  gatehouse::databroker::registerAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

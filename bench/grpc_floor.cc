// The floor under split mode's remote decision: what one unary gRPC call
// costs on this machine, with the library, the callback API and the
// messages that Gatehouse's proxy and authorize exchange, but with nothing
// done on either side. The server answers every Check at once with a fixed
// response; the client keeps N calls outstanding for the given time.
//
//   grpc_floor [seconds] [concurrency] [cpu] [bare|gatehouse]
//
// `gatehouse` sets up both sides as Gatehouse does: the client's channel
// with round-robin over health-checked addresses and keep-alive, the
// per-call metrics interceptors on both sides, and the health service on
// the server. `bare` (the default) uses gRPC's defaults.
//
// The server runs in a child process (this binary, re-executed before gRPC
// starts), both processes pinned to `cpu` (default 0), as the split
// benchmark pins proxy and authorize. Prints calls/s and the CPU time per
// call of the client and of the server (utime + stime of each process).

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "databroker/grpc_tls.h"
#include "metrics/grpc/grpc_interceptors.h"
#include "metrics/grpc_metrics.h"
#include "proto/authorize.grpc.pb.h"

namespace {

namespace pb = ::gatehouse::authorize::v1;

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// utime + stime of a process, in microseconds.
double cpuMicros(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  // Fields after the command: state is field 3; utime and stime are 14 and 15.
  const char* p = stat.c_str() + close + 2;
  unsigned long long utime = 0, stime = 0;
  int field = 3;
  while (*p != '\0' && field < 14) {
    if (*p++ == ' ') ++field;
  }
  std::sscanf(p, "%llu %llu", &utime, &stime);
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t size = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  close(fd);
  return ntohs(addr.sin_port);
}

// An allowed signed-in request's answer: the identity JWT and two headers.
pb::CheckResponse fixedResponse() {
  pb::CheckResponse response;
  response.set_kind(pb::CheckResponse::KIND_ALLOW);
  response.set_status(200);
  auto* jwt = response.add_headers();
  jwt->set_name("x-pomerium-jwt-assertion");
  jwt->set_value(std::string(700, 'j'));
  auto* email = response.add_headers();
  email->set_name("x-pomerium-claim-email");
  email->set_value("alice@example.com");
  return response;
}

class NoOpService final : public pb::Authorize::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context, const pb::CheckRequest*,
                                  pb::CheckResponse* response) override {
    *response = response_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const pb::CheckResponse response_ = fixedResponse();
};

int serve(int port, bool like_gatehouse) {
  NoOpService service;
  grpc::ServerBuilder builder;
  auto registry = std::make_shared<gatehouse::metrics::GrpcMetrics>("authorize");
  if (like_gatehouse) {
    grpc::EnableDefaultHealthCheckService(true);
    builder.experimental().SetInterceptorCreators(gatehouse::metrics::serverMetricsInterceptors(
        registry, pb::Authorize::service_full_name()));
  }
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  server->Wait();
  return 0;
}

// A signed-in GET as the proxy describes it: about 1 KB with the session cookie.
pb::CheckRequest fixedRequest() {
  pb::CheckRequest request;
  request.set_route_index(1);
  request.set_route_id("0123456789abcdef");
  request.set_method("GET");
  request.set_scheme("https");
  request.set_authority("app.localhost");
  request.set_host("app.localhost");
  request.set_path("/small");
  const std::pair<const char*, std::string> headers[] = {
      {"host", "app.localhost"},
      {"user-agent", "wrk"},
      {"accept", "*/*"},
      {"cookie", "_pomerium=" + std::string(437, 'c')},
  };
  for (const auto& [name, value] : headers) {
    auto* header = request.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  request.set_client_ip("127.0.0.1");
  return request;
}

struct Load {
  std::unique_ptr<pb::Authorize::Stub> stub;
  pb::CheckRequest request = fixedRequest();
  std::chrono::steady_clock::time_point until;
  std::atomic<long> completed{0};
  std::atomic<long> failed{0};
  std::mutex mutex;
  std::condition_variable done;
  int running = 0;

  void start() {
    struct Call {
      grpc::ClientContext context;
      pb::CheckResponse response;
    };
    auto* call = new Call;
    call->context.AddMetadata("jwt", std::string(180, 't'));
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    stub->async()->Check(&call->context, &request, &call->response,
                         [this, call](grpc::Status status) {
                           delete call;
                           (status.ok() ? completed : failed)++;
                           if (std::chrono::steady_clock::now() < until) {
                             start();
                             return;
                           }
                           std::lock_guard<std::mutex> lock(mutex);
                           if (--running == 0) done.notify_all();
                         });
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "serve") {
    return serve(std::atoi(argv[2]), std::string(argv[3]) == "gatehouse");
  }
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 16;
  const int cpu = argc > 3 ? std::atoi(argv[3]) : 0;
  const std::string mode = argc > 4 ? argv[4] : "bare";
  const bool like_gatehouse = mode == "gatehouse";
  const int port = freePort();
  pin(cpu);

  // The server, started before this process touches gRPC.
  pid_t server = fork();
  if (server == 0) {
    std::string port_text = std::to_string(port);
    execl("/proc/self/exe", argv[0], "serve", port_text.c_str(), mode.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }

  Load load;
  const std::string target = "127.0.0.1:" + std::to_string(port);
  std::shared_ptr<grpc::Channel> channel;
  if (like_gatehouse) {
    // As src/authorize/grpc/authorize_grpc_client.cc sets up its channel.
    grpc::ChannelArguments args;
    gatehouse::databroker::setServiceChannelArguments(args);
    auto registry = std::make_shared<gatehouse::metrics::GrpcMetrics>("proxy");
    channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        target, grpc::InsecureChannelCredentials(), args,
        gatehouse::metrics::clientMetricsInterceptors(registry, pb::Authorize::service_full_name(),
                                                      target));
  } else {
    channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "grpc_floor: the server did not start\n");
    kill(server, SIGKILL);
    return 1;
  }
  load.stub = pb::Authorize::NewStub(channel);

  auto run = [&](int secs) {
    load.completed = 0;
    load.failed = 0;
    load.until = std::chrono::steady_clock::now() + std::chrono::seconds(secs);
    load.running = concurrency;
    for (int i = 0; i < concurrency; ++i) load.start();
    std::unique_lock<std::mutex> lock(load.mutex);
    load.done.wait(lock, [&] { return load.running == 0; });
  };
  run(1);  // warm-up

  const double client_before = cpuMicros(getpid());
  const double server_before = cpuMicros(server);
  const auto started = std::chrono::steady_clock::now();
  run(seconds);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double calls = static_cast<double>(load.completed.load());
  const double client = (cpuMicros(getpid()) - client_before) / calls;
  const double serverCpu = (cpuMicros(server) - server_before) / calls;
  std::printf(
      "%s, concurrency %d: %.0f calls/s, %ld failed; CPU per call: client %.1f us, server %.1f us, "
      "both %.1f us\n",
      mode.c_str(), concurrency, calls / elapsed, load.failed.load(), client, serverCpu,
      client + serverCpu);
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  return 0;
}

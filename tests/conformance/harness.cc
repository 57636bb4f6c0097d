#include "conformance/harness.h"

#include "databroker/grpc_server.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

extern char** environ;

namespace gatehouse::databroker::testing {
namespace {

std::mutex g_postgres_mutex;
gatehouse::testing::PostgresServer* g_postgres = nullptr;
std::string g_postgres_error;
std::atomic<int> g_database_counter{0};

// Stops the shared server when the test program ends.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(g_postgres_mutex);
    delete g_postgres;
    g_postgres = nullptr;
  }
};
const auto* const kPostgresEnvironment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

std::string selfPath() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

}  // namespace

gatehouse::testing::PostgresServer& postgresServer() {
  std::lock_guard lock(g_postgres_mutex);
  if (g_postgres == nullptr) {
    g_postgres = new gatehouse::testing::PostgresServer();
    if (!g_postgres->start(g_postgres_error)) {
      ADD_FAILURE() << "PostgreSQL 15 did not start: " << g_postgres_error;
    }
  }
  return *g_postgres;
}

StoreHarness::StoreHarness(std::string kind) : kind_(std::move(kind)) {
  if (kind_ == "file") {
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-db-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    temp_dir_ = made ? std::filesystem::path(made) : std::filesystem::path();
    connection_ = (temp_dir_ / "databroker.db").string();
  } else if (kind_ == "postgres") {
    auto& server = postgresServer();
    if (!server.running()) {
      setup_error_ = "PostgreSQL is not running";
      return;
    }
    std::string name =
        "t" + std::to_string(::getpid()) + "_" + std::to_string(++g_database_counter);
    connection_ = server.createDatabase(name);
    if (connection_.empty()) setup_error_ = "CREATE DATABASE " + name + " failed";
  }
}

StoreHarness::~StoreHarness() {
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

BackendOptions StoreHarness::options(std::shared_ptr<TestClock> clock) const {
  BackendOptions options;
  if (clock) options.clock = [clock] { return clock->now(); };
  return options;
}

Result<std::unique_ptr<Backend>> StoreHarness::open(const BackendOptions& options) const {
  StorageOptions storage;
  storage.type = kind_;
  storage.connection_string = connection_;
  storage.backend = options;
  return openBackend(storage);
}

Child::Child(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  std::vector<std::string> all = {selfPath(), "--helper"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  out_ = ::fdopen(fds[0], "r");
}

Child::~Child() {
  if (pid_ > 0 && !waited_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (out_ != nullptr) ::fclose(out_);
}

bool Child::readLine(std::string& line) {
  line.clear();
  if (out_ == nullptr) return false;
  int c = 0;
  while ((c = std::fgetc(out_)) != EOF) {
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
  }
  return !line.empty();
}

void Child::kill9() {
  if (pid_ > 0 && !waited_) ::kill(pid_, SIGKILL);
}

int Child::wait() {
  if (pid_ <= 0) return -1;
  if (!waited_) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  return status_;
}

// Helper modes, each `--helper MODE KIND CONNECTION ARGS...`:
//   write PREFIX COUNT   puts COUNT records "PREFIX-i" of type "proc", one per
//                        put, and prints "done" at the end
//   write-forever PREFIX puts records "PREFIX-i" until killed, printing
//                        "ID VERSION" after each acknowledged put
//   serve-grpc SECRET    serves the gRPC service on a free loopback port,
//                        prints "port N", and runs until stdin closes
int runHelper(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: --helper MODE KIND CONNECTION ARGS...\n";
    return 2;
  }
  std::string mode = argv[2];
  StorageOptions storage;
  storage.type = argv[3];
  storage.connection_string = argv[4];
  auto backend = openBackend(storage);
  if (!backend) {
    std::cerr << "open failed: " << backend.error().message << "\n";
    return 3;
  }
  if (mode == "write" && argc >= 7) {
    std::string prefix = argv[5];
    int count = std::atoi(argv[6]);
    for (int i = 0; i < count; ++i) {
      Record record;
      record.type = "proc";
      record.id = prefix + "-" + std::to_string(i);
      record.data = R"({"n":)" + std::to_string(i) + "}";
      auto put = (*backend)->put({record});
      if (!put) {
        std::cerr << "put failed: " << put.error().message << "\n";
        return 4;
      }
    }
    std::cout << "done" << std::endl;
    return 0;
  }
  if (mode == "serve-grpc" && argc >= 6) {
    GrpcServerOptions options;
    options.address = "127.0.0.1:0";
    options.shared_secret = argv[5];
    auto server = GrpcServer::start(std::shared_ptr<Backend>(std::move(*backend)), options);
    if (!server) {
      std::cerr << "serve failed: " << server.error().message << "\n";
      return 5;
    }
    std::cout << "port " << (*server)->port() << std::endl;
    std::string ignored;
    while (std::getline(std::cin, ignored)) {
    }
    (*server)->shutdown();
    return 0;
  }
  if (mode == "write-forever" && argc >= 6) {
    std::string prefix = argv[5];
    for (int i = 0;; ++i) {
      std::string id = prefix + "-" + std::to_string(i);
      Record record;
      record.type = "proc";
      record.id = id;
      record.data = R"({"n":)" + std::to_string(i) + "}";
      auto put = (*backend)->put({record});
      if (!put) {
        std::cerr << "put failed: " << put.error().message << "\n";
        return 4;
      }
      std::cout << id << " " << put->records[0].version << std::endl;
    }
  }
  std::cerr << "unknown helper mode " << mode << "\n";
  return 2;
}

}  // namespace gatehouse::databroker::testing

#pragma once

// A real PostgreSQL 15 server for tests: initdb in a fresh temporary
// directory, started on a free loopback port, stopped and removed by the
// destructor. As root it runs as the `postgres` user (PostgreSQL refuses to
// run as root). Not for anything but tests.

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace gatehouse::testing {

class PostgresServer {
 public:
  static constexpr std::string_view kBinDir = "/usr/lib/postgresql/15/bin";

  PostgresServer() = default;
  ~PostgresServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates the cluster and starts the server. On failure `error` says why
  // (with the server log).
  bool start(std::string& error) {
    if (dir_.empty()) {
      std::string pattern = (std::filesystem::temp_directory_path() / "gh-pg-XXXXXX").string();
      char* made = ::mkdtemp(pattern.data());
      if (made == nullptr) {
        error = "mkdtemp failed";
        return false;
      }
      dir_ = made;
      if (::geteuid() == 0) {
        struct passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr) {
          error = "running as root but there is no postgres user (install postgresql-15)";
          return false;
        }
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
          error = "chown of " + dir_ + " failed";
          return false;
        }
      }
      std::string initdb = asPostgres(std::string(kBinDir) + "/initdb -D " + dir_ +
                                      "/data -A trust -U postgres --no-sync -E UTF8 --locale=C");
      if (!run(initdb + " > " + dir_ + "/initdb.log 2>&1")) {
        error = "initdb failed: " + readFile(dir_ + "/initdb.log");
        return false;
      }
      port_ = freePort();
    }
    return startServer(error);
  }

  // Stops the server (fast shutdown: clients are disconnected, data kept).
  bool stop() {
    if (!running_) return true;
    running_ = false;
    return run(asPostgres(std::string(kBinDir) + "/pg_ctl -D " + dir_ + "/data -m fast -w stop") +
               " >> " + dir_ + "/server.log 2>&1");
  }

  // Starts the server again after stop(), on the same port.
  bool restart(std::string& error) {
    stop();
    return startServer(error);
  }

  uint16_t port() const { return port_; }
  bool running() const { return running_; }

  std::string uri(std::string_view database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
  }

  // Creates a database and returns its URI ("" on failure).
  std::string createDatabase(std::string_view name) {
    std::string sql = "CREATE DATABASE \"" + std::string(name) + "\"";
    if (!execute("postgres", sql)) return "";
    return uri(name);
  }

  // Runs one SQL statement as the superuser.
  bool execute(std::string_view database, const std::string& sql) {
    PGconn* conn = PQconnectdb(uri(database).c_str());
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      PGresult* result = PQexec(conn, sql.c_str());
      ExecStatusType status = PQresultStatus(result);
      ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
      PQclear(result);
    }
    PQfinish(conn);
    return ok;
  }

 private:
  bool startServer(std::string& error) {
    std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                          dir_ + " -c fsync=off -c max_connections=200";
    std::string command = asPostgres(std::string(kBinDir) + "/pg_ctl -D " + dir_ + "/data -l " +
                                     dir_ + "/server.log -w -t 60 -o '" + options + "' start");
    if (!run(command + " > " + dir_ + "/pg_ctl.log 2>&1")) {
      error =
          "pg_ctl start failed: " + readFile(dir_ + "/pg_ctl.log") + readFile(dir_ + "/server.log");
      return false;
    }
    running_ = true;
    return true;
  }

  static std::string asPostgres(const std::string& command) {
    if (::geteuid() == 0) return "runuser -u postgres -- " + command;
    return command;
  }

  static bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

  static std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static uint16_t freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  std::string dir_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace gatehouse::testing

#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "config/loader.h"

namespace gatehouse::server {

struct ServerArgs {
  std::string config_path;  // "" = environment only
  config::Environment environment;
};

// The composition root: loads the configuration, builds the snapshot,
// binds the listeners and runs one worker thread per core. Reloads on a
// change of the config file (or a file it names) and on SIGHUP; drains and
// exits on SIGTERM or SIGINT.
class Server {
 public:
  // Fails (naming the key) when the first configuration is invalid or a
  // listener cannot be bound.
  static Result<std::unique_ptr<Server>> create(ServerArgs args);
  ~Server();

  // Serves until a termination signal; returns the process exit code.
  int run();

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::server

// gatehouse: an identity-aware access proxy compatible with Pomerium's
// configuration.

#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "common/log.h"
#include "config/loader.h"
#include "proxy/snapshot.h"
#include "server/server.h"

namespace {

constexpr const char* kUsage = R"(gatehouse: identity-aware access proxy (Pomerium-compatible configuration)

Usage:
  gatehouse [--config FILE]            run with a YAML or JSON config file
  gatehouse validate --config FILE     check a config file; one line per problem
  gatehouse version                    print the version
  gatehouse --help                     this text

The config file may also be given as -config FILE or -c FILE. Every key can be
overridden by an environment variable with its upper-case name (ADDRESS,
INSECURE_SERVER, ...); POLICY holds base64-encoded YAML routes. Without a file
the configuration comes from the environment alone.

Signals: SIGHUP reloads the configuration (so does any change of the config
file or a file it names); SIGTERM and SIGINT drain and exit.
)";

struct Args {
  std::string command = "run";
  std::string config_path;
  bool help = false;
  std::string error;
};

Args parseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h" || a == "-help" || a == "help") {
      args.help = true;
    } else if (a == "version" || a == "--version" || a == "-version") {
      args.command = "version";
    } else if (a == "validate") {
      args.command = "validate";
    } else if (a == "--config" || a == "-config" || a == "-c") {
      if (i + 1 >= argc) {
        args.error = std::string(a) + " needs a file name";
        return args;
      }
      args.config_path = argv[++i];
    } else if (a.starts_with("--config=") || a.starts_with("-config=")) {
      args.config_path = std::string(a.substr(a.find('=') + 1));
    } else {
      args.error = "unknown argument \"" + std::string(a) + "\"";
      return args;
    }
  }
  return args;
}

int validate(const std::string& path) {
  using namespace gatehouse;
  config::LoadResult loaded = config::loadFile(path, config::processEnvironment());
  for (const auto& w : loaded.warnings) std::cerr << "warning: " << w << "\n";
  if (!loaded.options) {
    for (const auto& e : loaded.errors) std::cout << e << "\n";
    return 1;
  }
  // Compile what the running server would compile (regular expressions,
  // TLS material), without generating a certificate.
  auto snapshot = proxy::Snapshot::create(std::move(*loaded.options), 1, nullptr);
  if (!snapshot) {
    std::cout << snapshot.error().message << "\n";
    return 1;
  }
  std::cout << "configuration is valid (" << (*snapshot)->options->routes.size() << " routes)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gatehouse;
  Args args = parseArgs(argc, argv);
  if (!args.error.empty()) {
    std::cerr << "gatehouse: " << args.error << "\n\n" << kUsage;
    return 2;
  }
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  if (args.command == "version") {
    std::cout << "gatehouse " << GATEHOUSE_VERSION << "\n";
    return 0;
  }
  if (args.command == "validate") {
    if (args.config_path.empty()) {
      std::cerr << "gatehouse: validate needs --config FILE\n";
      return 2;
    }
    return validate(args.config_path);
  }

  auto server = server::Server::create({args.config_path, config::processEnvironment()});
  if (!server) {
    // One line per problem, each naming its key.
    std::string_view message = server.error().message;
    while (!message.empty()) {
      size_t nl = message.find('\n');
      log::error("invalid configuration").str("error", message.substr(0, nl));
      if (nl == std::string_view::npos) break;
      message.remove_prefix(nl + 1);
    }
    return 1;
  }
  return (*server)->run();
}

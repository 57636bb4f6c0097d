#include "server/observability.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "authenticate/refresher.h"
#include "common/base64.h"
#include "common/log.h"
#include "common/strings.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "databroker/backend.h"
#include "http/handler.h"
#include "http/http1_server.h"
#include "metrics/exposition.h"
#include "metrics/grpc_metrics.h"
#include "metrics/process_stats.h"
#include "metrics/request_metrics.h"
#include "metrics/storage_metrics.h"
#include "net/stream_factory.h"
#include "server/listener.h"
#include "session/cache.h"
#include "session/records.h"

#ifndef GATEHOUSE_VERSION
#define GATEHOUSE_VERSION "dev"
#endif

namespace gatehouse::server {
namespace {

int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view pathOf(std::string_view target) {
  size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

// One named check of /readyz and /status.
struct Check {
  std::string name;
  bool running = false;
  std::string error;
};

}  // namespace

class Observability::Impl {
 public:
  Impl(config::ObservabilityOptions options, size_t workers) : options_(std::move(options)) {
    for (size_t i = 0; i < workers; ++i) {
      workers_.push_back(std::make_unique<metrics::RequestMetrics>());
      worker_views_.push_back(workers_.back().get());
    }
    // The presented credentials are compared as HMACs under a key of this
    // process, so that neither where they differ nor their length shows in
    // the time the comparison takes.
    compare_key_ = crypto::randomBytes(32);
    if (!options_.metrics_credentials.empty()) {
      expected_mac_ =
          crypto::hmac(crypto::HmacHash::kSha256, compare_key_, options_.metrics_credentials);
    }
  }

  ~Impl() { stop(); }

  metrics::RequestMetrics* workerMetrics(size_t worker) {
    return worker < workers_.size() ? workers_[worker].get() : nullptr;
  }

  Result<void> start(ObservabilitySources sources) {
    sources_ = std::move(sources);
    if (!options_.metrics_address.empty()) {
      if (auto r = bind(options_.metrics_address, metrics_handler_); !r) {
        return Error::invalid("metrics_address: " + r.error().message);
      }
    }
    if (!options_.health_check_address.empty()) {
      if (auto r = bind(options_.health_check_address, health_handler_); !r) {
        return Error::invalid("health_check_addr: " + r.error().message);
      }
    }
    if (!acceptors_.empty()) thread_ = std::thread([this] { io_.run(); });
    return {};
  }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void markStarted() { started_.store(true, std::memory_order_release); }
  void startDrain() { draining_.store(true, std::memory_order_release); }
  void configLoaded(bool success) {
    last_reload_success_.store(success, std::memory_order_relaxed);
    if (success) last_reload_success_unix_.store(unixSeconds(), std::memory_order_relaxed);
  }

 private:
  // Serves one of the two listeners; `health` picks which.
  class Handler final : public http::Handler {
   public:
    Handler(Impl& owner, bool health) : owner_(owner), health_(health) {}
    Task<void> handle(http::ServerExchange& exchange) override {
      const http::RequestHead& head = exchange.request();
      http::ResponseHead response;
      std::string body;
      if (head.method != "GET" && head.method != "HEAD") {
        response.status = 405;
        response.headers.add("allow", "GET, HEAD");
      } else if (health_) {
        owner_.health(pathOf(head.target), response, body);
      } else {
        owner_.metrics(head, response, body);
      }
      response.headers.add("cache-control", "no-store");
      (void)co_await http::respond(exchange, std::move(response),
                                   head.method == "HEAD" ? std::string_view() : body);
    }
    Task<void> handleMalformed(http::ServerExchange& exchange, int status,
                               std::string_view) override {
      http::ResponseHead response;
      response.status = status;
      (void)co_await http::respond(exchange, std::move(response), "");
    }

   private:
    Impl& owner_;
    bool health_;
  };

  Result<void> bind(const std::string& address, Handler& handler) {
    auto endpoints = resolveListenAddress(address);
    if (!endpoints) return endpoints.error();
    for (const tcp::endpoint& endpoint : *endpoints) {
      auto acceptor = openAcceptor(io_, endpoint);
      if (!acceptor) return acceptor.error();
      acceptors_.push_back(std::make_unique<tcp::acceptor>(std::move(*acceptor)));
      tcp::endpoint bound = acceptors_.back()->local_endpoint();
      log::info("listening")
          .str("address", (bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string()) +
                              ":" + std::to_string(bound.port()))
          .str("kind", &handler == &metrics_handler_ ? "metrics" : "health");
      asio::co_spawn(io_, acceptLoop(*acceptors_.back(), handler), asio::detached);
    }
    return {};
  }

  Task<void> acceptLoop(tcp::acceptor& acceptor, Handler& handler) {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) break;
        continue;
      }
      asio::co_spawn(io_, serve(std::move(socket), handler), asio::detached);
    }
  }

  Task<void> serve(tcp::socket socket, Handler& handler) {
    http::ConnectionSettings settings;
    settings.idle_timeout = std::chrono::seconds(30);
    settings.read_timeout = std::chrono::seconds(10);
    try {
      co_await http::serveHttp1(net::makeTcpStream(std::move(socket)), handler, settings);
    } catch (const std::exception& e) {
      log::debug("observability connection failed").str("error", e.what());
    }
  }

  bool authorized(const http::RequestHead& head) const {
    if (expected_mac_.empty()) return true;
    auto header = head.headers.get("authorization");
    if (!header) return false;
    std::string_view value = trim(*header);
    if (value.size() < 6 || !iequals(value.substr(0, 6), "basic ")) return false;
    auto decoded = base64Decode(trim(value.substr(6)));
    if (!decoded) return false;
    return crypto::verifyHmac(crypto::HmacHash::kSha256, compare_key_, *decoded, expected_mac_);
  }

  void metrics(const http::RequestHead& head, http::ResponseHead& response, std::string& body) {
    if (pathOf(head.target) != "/metrics") {
      response.status = 404;
      return;
    }
    if (!authorized(head)) {
      response.status = 401;
      response.headers.add("www-authenticate", "Basic realm=\"metrics\"");
      return;
    }
    response.headers.add("content-type", metrics::Exposition::kContentType);
    body = scrape();
  }

  std::string scrape() {
    using metrics::Type;
    metrics::Exposition out(options_.metrics_prefix);
    metrics::RequestMetrics::collect(worker_views_, out);
    if (sources_.open_connections) {
      out.family("http_server_open_connections", "Client connections open now.", Type::kGauge);
      out.sample({}, static_cast<double>(sources_.open_connections()));
    }
    out.family("build_info", "Build information; the value is always 1.", Type::kGauge);
    out.sample({{"version", GATEHOUSE_VERSION}}, 1);
    if (sources_.route_count) {
      out.family("policy_count_total", "Routes in the current configuration.", Type::kGauge);
      out.sample({}, static_cast<double>(sources_.route_count()));
    }
    out.family("config_last_reload_success",
               "Whether the last configuration load succeeded (1) or kept the previous one (0).",
               Type::kGauge);
    out.sample({}, last_reload_success_.load(std::memory_order_relaxed) ? 1 : 0);
    out.family("config_last_reload_success_timestamp",
               "When the configuration was last loaded successfully, in Unix seconds.",
               Type::kGauge);
    out.sample({}, static_cast<double>(last_reload_success_unix_.load(std::memory_order_relaxed)));
    if (sources_.refresher) {
      const authenticate::Refresher::Stats& stats = sources_.refresher->stats();
      out.family("identity_manager_last_session_refresh_success",
                 "Session refreshes that succeeded.", Type::kCounter);
      out.sample({}, static_cast<double>(stats.successes.load(std::memory_order_relaxed)));
      out.family("identity_manager_last_session_refresh_errors",
                 "Session refreshes that failed (refused, unreachable identity provider, or not "
                 "stored).",
                 Type::kCounter);
      out.sample({}, static_cast<double>(stats.errors.load(std::memory_order_relaxed)));
      out.family("identity_manager_last_session_refresh_success_timestamp",
                 "When a session refresh last succeeded, in Unix seconds (0: never).",
                 Type::kGauge);
      out.sample({}, static_cast<double>(stats.last_success_unix.load(std::memory_order_relaxed)));
      out.family("identity_manager_last_session_refresh_error_timestamp",
                 "When a session refresh last failed, in Unix seconds (0: never).", Type::kGauge);
      out.sample({}, static_cast<double>(stats.last_error_unix.load(std::memory_order_relaxed)));
    }
    if (sources_.grpc) sources_.grpc->collect(out);
    if (sources_.storage_metrics) sources_.storage_metrics->collect(out);
    if (sources_.storage) {
      if (auto info = sources_.storage->serverInfo()) {
        out.family("databroker_record_version", "The latest record version in the storage.",
                   Type::kGauge);
        out.sample({}, static_cast<double>(info->latest_record_version));
      }
    }
    if (sources_.sessions) {
      const std::pair<std::string_view, std::string_view> types[] = {
          {"session", session::kSessionType}, {"user", session::kUserType}};
      out.family("session_cache_ready",
                 "Whether the local copy of sessions and users finished its first sync.",
                 Type::kGauge);
      out.sample({}, sources_.sessions->ready() ? 1 : 0);
      out.family("session_cache_record_version",
                 "The latest record version of each type in the local copy; the distance to "
                 "databroker_record_version bounds how far behind the copy is.",
                 Type::kGauge);
      for (auto [label, type] : types) {
        out.sample({{"type", label}},
                   static_cast<double>(sources_.sessions->position(type).record_version));
      }
      out.family("session_cache_resyncs_total",
                 "How often the local copy started over from a snapshot, by type.", Type::kCounter);
      for (auto [label, type] : types) {
        out.sample({{"type", label}}, static_cast<double>(sources_.sessions->resyncs(type)));
      }
      out.family("session_cache_sessions", "Sessions in the local copy's index.", Type::kGauge);
      out.sample({}, static_cast<double>(sources_.sessions->size()));
      out.family("session_cache_parsed_sessions",
                 "Sessions the local copy holds parsed: those requests used lately.", Type::kGauge);
      out.sample({}, static_cast<double>(sources_.sessions->parsedCount()));
    }
    metrics::ProcessStats process = metrics::readProcessStats();
    out.family("process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge,
               false);
    out.sample({}, static_cast<double>(process.resident_bytes));
    out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::kGauge,
               false);
    out.sample({}, static_cast<double>(process.virtual_bytes));
    out.family("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
               Type::kCounter, false);
    out.sample({}, process.cpu_seconds);
    out.family("process_open_fds", "Open file descriptors.", Type::kGauge, false);
    out.sample({}, static_cast<double>(process.open_fds));
    out.family("process_threads", "Threads of the process.", Type::kGauge, false);
    out.sample({}, static_cast<double>(process.threads));
    if (process.start_time_seconds) {
      out.family("process_start_time_seconds", "Start time of the process in Unix seconds.",
                 Type::kGauge, false);
      out.sample({}, *process.start_time_seconds);
    }
    return out.text();
  }

  std::vector<Check> checks() const {
    std::vector<Check> out;
    Check config{"config", started_.load(std::memory_order_acquire), ""};
    if (!config.running)
      config.error = "starting";
    else if (!last_reload_success_.load(std::memory_order_relaxed))
      config.error = "the last reload failed; the previous configuration is in use";
    out.push_back(std::move(config));
    if (sources_.certificates_ready) {
      Check certificates{"certificates", sources_.certificates_ready(), ""};
      if (!certificates.running) certificates.error = "no server certificate";
      out.push_back(std::move(certificates));
    }
    if (sources_.storage) {
      Check storage{"databroker.storage", true, ""};
      if (auto info = sources_.storage->serverInfo(); !info) {
        storage.running = false;
        storage.error = info.error().message;
      }
      out.push_back(std::move(storage));
    }
    if (sources_.sessions) {
      Check cache{"session.cache", sources_.sessions->ready(), ""};
      if (!cache.running) cache.error = "the initial sync is not done";
      out.push_back(std::move(cache));
    }
    return out;
  }

  void health(std::string_view path, http::ResponseHead& response, std::string& body) {
    bool started = started_.load(std::memory_order_acquire);
    bool draining = draining_.load(std::memory_order_acquire);
    std::vector<Check> list = checks();
    bool all_running = true;
    for (const Check& c : list) all_running = all_running && c.running;
    const char* status = draining                   ? "TERMINATING"
                         : (started && all_running) ? "RUNNING"
                                                    : "STARTING";
    if (path == "/healthz") {
      // Liveness: the process answers, whatever state it is in.
      response.status = 200;
    } else if (path == "/startupz") {
      response.status = started ? 200 : 503;
    } else if (path == "/readyz") {
      response.status = started && all_running && !draining ? 200 : 503;
    } else if (path == "/status") {
      response.status = 200;
    } else {
      response.status = 404;
      return;
    }
    body = "{\"status\":";
    body += jsonQuote(status);
    body += ",\"checks\":{";
    bool first = true;
    for (const Check& c : list) {
      if (!first) body += ',';
      first = false;
      body += jsonQuote(c.name);
      body += ":{\"status\":";
      body += jsonQuote(draining ? "TERMINATING" : c.running ? "RUNNING" : "STARTING");
      if (!c.error.empty()) {
        body += ",\"error\":";
        body += jsonQuote(c.error);
      }
      body += '}';
    }
    body += "}}\n";
    response.headers.add("content-type", "application/json");
  }

  config::ObservabilityOptions options_;
  std::vector<std::unique_ptr<metrics::RequestMetrics>> workers_;
  std::vector<const metrics::RequestMetrics*> worker_views_;
  std::string compare_key_;
  std::string expected_mac_;
  ObservabilitySources sources_;
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> last_reload_success_{true};
  std::atomic<int64_t> last_reload_success_unix_{0};
  // The handlers outlive the io_context: connection frames it still holds
  // when it is destroyed refer to them.
  Handler metrics_handler_{*this, false};
  Handler health_handler_{*this, true};
  asio::io_context io_{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::thread thread_;
};

Observability::Observability(config::ObservabilityOptions options, size_t workers)
    : impl_(std::make_unique<Impl>(std::move(options), workers)) {}
Observability::~Observability() = default;

metrics::RequestMetrics* Observability::workerMetrics(size_t worker) {
  return impl_->workerMetrics(worker);
}
Result<void> Observability::start(ObservabilitySources sources) {
  return impl_->start(std::move(sources));
}
void Observability::markStarted() { impl_->markStarted(); }
void Observability::configLoaded(bool success) { impl_->configLoaded(success); }
void Observability::startDrain() { impl_->startDrain(); }
void Observability::stop() { impl_->stop(); }

}  // namespace gatehouse::server

#include "server/server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "authenticate/oidc/fetcher.h"
#include "authenticate/refresher.h"
#include "authorize/grpc/authorize_grpc_client.h"
#include "authorize/grpc/authorize_grpc_server.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "crypto/random.h"
#include "crypto/self_signed.h"
#include "databroker/grpc_client.h"
#include "databroker/grpc_server.h"
#include "databroker/instrumented_backend.h"
#include "databroker/local_client.h"
#include "databroker/storage.h"
#include "http/http1_server.h"
#include "http/http2_server.h"
#include "metrics/grpc_metrics.h"
#include "metrics/storage_metrics.h"
#include "net/proxy_protocol.h"
#include "net/stream_factory.h"
#include "proxy/proxy.h"
#include "server/grpc_tls_config.h"
#include "server/systemd_notify.h"
#include "server/listener.h"
#include "server/observability.h"
#include "server/snapshot_store.h"

namespace gatehouse::server {
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr auto kDrainDeadline = std::chrono::seconds(15);
// After a change that may be a write in progress, the reload waits for the
// writer to go quiet; after a file was closed or renamed into place (what
// editors, `cp` and Kubernetes ConfigMaps end with) its content is whole,
// and a short wait only gathers the other events of the same change.
constexpr auto kReloadDebounce = std::chrono::milliseconds(150);
constexpr auto kReloadSettle = std::chrono::milliseconds(5);
// How often the control thread looks whether a replaced snapshot is unused.
constexpr auto kRetiredSnapshotCheck = std::chrono::milliseconds(250);

enum class ListenerKind { kTls, kPlain, kRedirect };

const char* kindName(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kTls:
      return "https";
    case ListenerKind::kPlain:
      return "http";
    case ListenerKind::kRedirect:
      return "http-redirect";
  }
  return "";
}

std::string endpointText(const tcp::endpoint& e) {
  if (e.address().is_v6()) return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  return e.address().to_string() + ":" + std::to_string(e.port());
}

// Logs what escaped a connection coroutine instead of losing it.
auto logFailure(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error(what).str("error", ex.what());
    } catch (...) {
      log::error(what).str("error", "unknown exception");
    }
  };
}

// One event-loop thread with its own listeners, upstream pools and
// connections; nothing in it is shared with other workers.
class Worker {
 public:
  // `remote` decides requests when authorize runs in other processes;
  // otherwise this worker decides them itself, with `sessions`.
  Worker(const SnapshotStore& store, uint64_t seed, session::Cache* sessions,
         authorize::Client* remote, metrics::RequestMetrics* metrics)
      // Only this worker's thread touches its sockets, so the reactor's
      // per-socket mutex is switched off (a lock and unlock around every
      // read and write started or completed); posts from gRPC and other
      // threads still go through the scheduler's lock, and timers through
      // the reactor's.
      : io_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
        snapshots_(store),
        local_authorize_([this] { return snapshots_.current()->authorize_state; }, sessions),
        proxy_(snapshots_, seed, remote ? *remote : local_authorize_, metrics),
        redirector_(snapshots_) {}

  asio::io_context& io() { return io_; }
  void setHttpsPort(uint16_t port) { redirector_.setHttpsPort(port); }

  void addAcceptor(tcp::acceptor acceptor, ListenerKind kind) {
    acceptors_.push_back(std::make_unique<tcp::acceptor>(std::move(acceptor)));
    asio::co_spawn(io_, acceptLoop(*acceptors_.back(), kind), logFailure("accept loop failed"));
  }

  void start() {
    thread_ = std::thread([this] { io_.run(); });
  }

  // Stops accepting, closes idle connections, lets busy ones finish.
  void drain() {
    asio::post(io_, [this] {
      for (auto& a : acceptors_) {
        boost::system::error_code ec;
        a->close(ec);
      }
      tracker_.startDrain();
    });
  }
  size_t openConnections() const { return tracker_.open(); }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  Task<void> acceptLoop(tcp::acceptor& acceptor, ListenerKind kind) {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) {
        if (!acceptor.is_open() || ec == asio::error::operation_aborted) break;
        // Out of file descriptors or similar: back off instead of spinning.
        log::warn("accept failed").str("error", ec.message());
        asio::steady_timer pause(io_, std::chrono::milliseconds(100));
        co_await pause.async_wait(kAwait);
        continue;
      }
      asio::co_spawn(io_, serveConnection(std::move(socket), kind),
                     logFailure("connection failed"));
    }
  }

  Task<void> serveConnection(tcp::socket socket, ListenerKind kind) {
    tracker_.opened();
    auto snapshot = snapshots_.current();
    http::ConnectionSettings settings = snapshot->connection_settings;
    settings.tracker = &tracker_;
    // Behind a layer-4 balancer the client's address comes first, in a
    // PROXY protocol header; no header, no connection.
    std::optional<tcp::endpoint> client;
    if (snapshot->options->listener.use_proxy_protocol) {
      auto header = co_await readProxyHeader(socket, settings.tls_handshake_timeout);
      if (!header) {
        tracker_.closed();
        co_return;
      }
      client = header->source;
    }
    // The stream, with the client's address when a PROXY header named it.
    auto named = [&client](std::unique_ptr<net::Stream> stream) {
      return client ? net::withRemoteEndpoint(std::move(stream), *client) : std::move(stream);
    };
    if (kind == ListenerKind::kTls) {
      auto tls = snapshot->server_tls;
      if (tls) {
        auto stream =
            co_await net::acceptTls(std::move(socket), tls, settings.tls_handshake_timeout);
        if (!stream) {
          log::debug("tls handshake failed").str("error", stream.error().message);
        } else if ((*stream)->alpn() == "h2") {
          co_await http::serveHttp2(named(std::move(*stream)), proxy_, settings);
        } else {
          co_await http::serveHttp1(named(std::move(*stream)), proxy_, settings);
        }
      }
    } else if (kind == ListenerKind::kPlain) {
      // Like Envoy's automatic codec: a client that opens with the HTTP/2
      // preface (h2c prior knowledge, as gRPC clients do) speaks HTTP/2.
      auto http2 = co_await startsWithHttp2Preface(socket, settings.idle_timeout);
      auto stream = named(net::makeTcpStream(std::move(socket)));
      if (!http2) {
        // Closed or idle before sending anything.
      } else if (*http2) {
        co_await http::serveHttp2(std::move(stream), proxy_, settings);
      } else {
        co_await http::serveHttp1(std::move(stream), proxy_, settings);
      }
    } else {
      co_await http::serveHttp1(named(net::makeTcpStream(std::move(socket))), redirector_,
                                settings);
    }
    tracker_.closed();
  }

  // Reads the PROXY protocol header that opens a connection and consumes
  // exactly its bytes, leaving what follows (a TLS ClientHello, a request)
  // in the socket. nullopt when the peer sends something else, closes, or
  // takes longer than `timeout`; the reason is logged at most once a
  // minute per worker, since a balancer that does not send the header
  // fails every connection.
  Task<std::optional<net::ProxyHeader>> readProxyHeader(tcp::socket& socket,
                                                        std::chrono::nanoseconds timeout) {
    std::string buf(net::kProxyV2MaxLength, '\0');
    asio::steady_timer deadline(io_);
    bool timed_out = false;
    deadline.expires_after(timeout.count() > 0 ? timeout : std::chrono::seconds(10));
    deadline.async_wait([&socket, &timed_out](const boost::system::error_code& ec) {
      if (ec) return;
      timed_out = true;
      socket.cancel();
    });
    std::optional<net::ProxyHeader> result;
    std::string failure;
    size_t seen = 0;
    for (;;) {
      auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kAwait);
      if (ec) {
        failure = timed_out ? "no PROXY protocol header in time" : ec.message();
        break;
      }
      ssize_t n = ::recv(socket.native_handle(), buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        failure = "closed before a PROXY protocol header";
        break;
      }
      auto parsed = net::parseProxyHeader(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (parsed.status == net::ProxyParse::kInvalid) {
        failure = parsed.error;
        break;
      }
      if (parsed.status == net::ProxyParse::kDone) {
        size_t left = parsed.header.length;
        while (left > 0) {
          ssize_t got = ::recv(socket.native_handle(), buf.data(), left, MSG_DONTWAIT);
          if (got <= 0) break;
          left -= static_cast<size_t>(got);
        }
        if (left == 0) {
          result = std::move(parsed.header);
        } else {
          failure = "closed inside a PROXY protocol header";
        }
        break;
      }
      // A prefix so far. If nothing new arrived since the last look, give
      // the rest a moment instead of spinning on the same bytes.
      if (static_cast<size_t>(n) == seen) {
        asio::steady_timer pause(io_, std::chrono::milliseconds(2));
        co_await pause.async_wait(kAwait);
      }
      seen = static_cast<size_t>(n);
    }
    deadline.cancel();
    if (!result) {
      auto now = net::Clock::now();
      if (now >= next_proxy_protocol_warning_) {
        next_proxy_protocol_warning_ = now + std::chrono::minutes(1);
        boost::system::error_code ignored;
        auto peer = socket.remote_endpoint(ignored);
        log::warn("connection refused: use_proxy_protocol is on")
            .str("error", failure)
            .str("peer", ignored ? std::string("?") : peer.address().to_string());
      }
    }
    co_return result;
  }

  // Peeks (without consuming) at the first bytes of a plain connection;
  // nullopt when the client closed or sent nothing within `idle`.
  Task<std::optional<bool>> startsWithHttp2Preface(tcp::socket& socket,
                                                   std::chrono::nanoseconds idle) {
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    char buf[24];
    asio::steady_timer deadline(io_);
    if (idle.count() > 0) {
      deadline.expires_after(idle);
      deadline.async_wait([&socket](const boost::system::error_code& ec) {
        if (!ec) socket.cancel();
      });
    }
    std::optional<bool> result = false;
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kAwait);
      if (ec) {
        result = std::nullopt;
        break;
      }
      ssize_t n = ::recv(socket.native_handle(), buf, sizeof(buf), MSG_PEEK);
      if (n <= 0) {
        result = std::nullopt;
        break;
      }
      std::string_view seen(buf, static_cast<size_t>(n));
      if (kPreface.substr(0, seen.size()) != seen) break;  // not HTTP/2
      if (seen.size() == kPreface.size()) {
        result = true;
        break;
      }
      // A prefix of the preface so far: wait for the rest.
      asio::steady_timer pause(io_, std::chrono::milliseconds(5));
      co_await pause.async_wait(kAwait);
    }
    deadline.cancel();
    co_return result;
  }

  asio::io_context io_;
  WorkerSnapshots snapshots_;
  authorize::Service local_authorize_;
  proxy::Proxy proxy_;
  proxy::HttpsRedirector redirector_;
  http::ConnectionTracker tracker_;
  net::Clock::time_point next_proxy_protocol_warning_{};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::thread thread_;
};

uint64_t fnv1a(std::string_view data, uint64_t hash) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// fnv1a over a file's bytes. A file that cannot be read adds nothing; the
// config loader reports why.
uint64_t fnv1aFile(const std::string& path, uint64_t hash) {
  auto content = readRegularFile(path, size_t{64} * 1024 * 1024);
  return content ? fnv1a(*content, hash) : hash;
}

// grpc_client_timeout (Pomerium's default 10 s).
Duration grpcClientTimeout(const config::Options& options) {
  auto it = options.extra.find("grpc_client_timeout");
  if (it != options.extra.end()) {
    if (auto d = parseGoDuration(it->second); d && *d > Duration::zero()) return *d;
  }
  return std::chrono::seconds(10);
}

// What every gRPC client to another service of the deployment is given:
// where it is, the shared secret its calls are signed with, the timeout,
// the TLS of service URLs and the metrics it counts into.
template <typename ClientOptions>
Result<void> setGrpcClientOptions(ClientOptions& out, std::vector<std::string> urls,
                                  const config::Options& options,
                                  std::shared_ptr<metrics::GrpcMetrics> metrics) {
  out.urls = std::move(urls);
  out.shared_secret = options.secrets.shared_secret;
  out.timeout = grpcClientTimeout(options);
  auto tls = grpcClientTls(options);
  if (!tls) return tls.error();
  out.tls = std::move(*tls);
  out.metrics = std::move(metrics);
  return {};
}

// authorize_service_url(s), or Pomerium's default beside the proxy.
std::vector<std::string> authorizeServiceUrls(const config::Options& options) {
  std::vector<std::string> urls;
  for (const char* key :
       {"authorize_service_url", "authorize_internal_service_url", "authorize_service_urls"}) {
    auto it = options.extra.find(key);
    if (it == options.extra.end()) continue;
    for (auto& url : splitList(it->second)) {
      if (!url.empty()) urls.push_back(url);
    }
  }
  if (urls.empty()) urls.push_back("http://127.0.0.1:5443");
  return urls;
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerArgs args) : args_(std::move(args)) {}

  Result<void> init() {
    // Hashed before the files are read: see reload().
    const uint64_t hash = hashInputs();
    config::LoadResult loaded = config::loadFile(args_.config_path, args_.environment);
    for (const auto& w : loaded.warnings) log::warn("config").str("warning", w);
    if (!loaded.options) {
      std::string message;
      for (const auto& e : loaded.errors) message += (message.empty() ? "" : "\n") + e;
      return Error::invalid(message);
    }
    config::Options options = std::move(*loaded.options);
    loaded.document = {};  // before the snapshot's allocations, which reuse its memory
    if (auto level = log::parseLevel(options.log_level)) log::setLevel(*level);
    // Which services run here: `all`, or any of proxy, authorize,
    // authenticate and databroker; the others are reached over gRPC.
    for (const auto& service : options.services) {
      bool all = service == "all";
      roles_.proxy |= all || service == "proxy";
      roles_.authorize |= all || service == "authorize";
      roles_.authenticate |= all || service == "authenticate";
      roles_.databroker |= all || service == "databroker" || service == "cache";
    }
    bool all_in_one = roles_.proxy && roles_.authorize && roles_.authenticate && roles_.databroker;
    // gRPC calls are counted with Pomerium's `service` label: what this
    // process runs. Only the services served or called here are added.
    std::string services_label;
    for (const auto& service : options.services) {
      services_label += (services_label.empty() ? "" : ",") + service;
    }
    grpc_metrics_ = std::make_shared<metrics::GrpcMetrics>(std::move(services_label));
    serve_http_ = roles_.proxy || roles_.authenticate;
    if (!options.listener.insecure_server && options.listener.certificates.empty()) {
      std::vector<std::string> names = {"localhost", "*.localhost", "127.0.0.1", "::1"};
      for (const auto& route : options.routes) {
        if (!route.from_host.empty() && route.from_host != "*") names.push_back(route.from_host);
      }
      auto generated = crypto::generateSelfSigned(names);
      if (!generated) return generated.error();
      fallback_cert_ = net::CertificateKeyPair{generated->cert_pem, generated->key_pem,
                                               "self-signed certificate"};
      log::warn(
          "no certificate configured: serving a self-signed certificate that browsers will not "
          "trust");
    }
    workers_count_ = options.listener.workers > 0
                         ? static_cast<size_t>(options.listener.workers)
                         : std::max(1u, std::thread::hardware_concurrency());
    observability_ = std::make_unique<Observability>(options.observability, workers_count_);
    address_ = options.listener.address;
    insecure_ = options.listener.insecure_server;
    redirect_address_ = options.listener.http_redirect_addr;
    watched_ = options.watched_files;
    content_hash_ = hash;
    const auto& db = options.databroker;
    // The gRPC port of this process, as Pomerium picks it: grpc_address, or
    // ":5443" when the proxy or authenticate has the HTTPS port, else ":443".
    std::string grpc_address = db.grpc_address.empty()
                                   ? (serve_http_ ? std::string(":5443") : std::string(":443"))
                                   : db.grpc_address;
    bool databroker_grpc = roles_.databroker && (!all_in_one || !db.grpc_address.empty());
    bool authorize_grpc = roles_.authorize && !all_in_one && !roles_.proxy;
    if (databroker_grpc && authorize_grpc) {
      return Error::invalid(
          "services: authorize and databroker each serve gRPC; run them in separate processes "
          "(or with proxy in one process: services: proxy,authorize)");
    }
    if (roles_.databroker && !all_in_one && db.storage_type == "memory") {
      log::warn("config").str(
          "warning",
          "databroker_storage_type: memory keeps records in this process only: run a single "
          "databroker replica, or use postgres for several");
    }
    if (roles_.databroker) {
      // The storage is opened (and checked) once, at start.
      databroker::BackendOptions backend_options;
      backend_options.change_retention =
          std::chrono::duration_cast<decltype(backend_options.change_retention)>(
              db.change_log_retention);
      auto backend = databroker::openBackend({db.storage_type, db.storage_connection_string,
                                              db.storage_connection_setting, backend_options});
      if (!backend) return backend.error();
      // Every storage operation is timed, whoever calls it.
      storage_metrics_ = std::make_shared<metrics::StorageMetrics>(db.storage_type);
      databroker_ =
          std::make_shared<databroker::InstrumentedBackend>(std::move(*backend), storage_metrics_);
      databroker_cleaner_ = std::make_unique<databroker::PeriodicCleaner>(databroker_);
      databroker_client_ = databroker::makeLocalClient(databroker_);
      if (databroker_grpc) {
        databroker::GrpcServerOptions grpc_options;
        grpc_options.address = grpc_address;
        grpc_options.shared_secret = options.secrets.shared_secret;
        auto tls = grpcServerTls(options, serve_http_, "databroker_service_urls", db.service_urls);
        if (!tls) return tls.error();
        grpc_certificate_ = tls->certificate;
        grpc_options.tls = std::move(*tls);
        grpc_options.metrics = grpc_metrics_;
        auto grpc = databroker::GrpcServer::start(databroker_, grpc_options);
        if (!grpc) return grpc.error();
        grpc_server_ = std::move(*grpc);
        log::info("listening")
            .str("address", grpc_address.substr(0, grpc_address.rfind(':') + 1) +
                                std::to_string(grpc_server_->port()))
            .str("kind", "grpc")
            .str("service", "databroker");
      }
    } else if (roles_.authorize || roles_.authenticate) {
      // The databroker in other processes (databroker_service_urls).
      databroker::GrpcClientOptions client_options;
      auto set = setGrpcClientOptions(client_options,
                                      db.service_urls.empty()
                                          ? std::vector<std::string>{"http://127.0.0.1:5443"}
                                          : db.service_urls,
                                      options, grpc_metrics_);
      if (!set) return set.error();
      auto client = databroker::makeGrpcClient(std::move(client_options));
      if (!client) return client.error();
      databroker_client_ = std::move(*client);
    }
    if (databroker_client_ && (roles_.authorize || roles_.authenticate || roles_.databroker)) {
      // Sessions come from a local copy fed by the databroker's change
      // stream; a request never waits on the databroker.
      sessions_ = std::make_unique<session::Cache>(*databroker_client_);
    }
    if (roles_.authenticate || roles_.databroker) {
      authenticate::oidc::NetFetcherOptions fetcher_options;
      fetcher_options.extra_ca_pem = options.authenticate.certificate_authority_pem;
      auto fetcher = authenticate::oidc::NetFetcher::create(fetcher_options);
      if (!fetcher) return Error::invalid("certificate_authority: " + fetcher.error().message);
      fetcher_ = std::move(*fetcher);
    }
    if (roles_.proxy && !roles_.authorize) {
      // Decisions from authorize replicas in other processes.
      authorize::AuthorizeGrpcClientOptions client_options;
      auto set = setGrpcClientOptions(client_options, authorizeServiceUrls(options), options,
                                      grpc_metrics_);
      if (!set) return set.error();
      auto client = authorize::makeAuthorizeGrpcClient(std::move(client_options));
      if (!client) return client.error();
      remote_authorize_ = std::move(*client);
    }
    auto snapshot =
        proxy::Snapshot::create(std::move(options), ++generation_,
                                fallback_cert_ ? &*fallback_cert_ : nullptr, services(nullptr));
    if (!snapshot) return snapshot.error();
    store_.publish(std::move(*snapshot));
    if (authorize_grpc) {
      // The authorize service for proxies in other processes.
      authorize::AuthorizeGrpcServer::Options grpc_options;
      grpc_options.address = grpc_address;
      grpc_options.shared_secret = store_.get()->options->secrets.shared_secret;
      auto tls = grpcServerTls(*store_.get()->options, serve_http_, "authorize_service_urls",
                               authorizeServiceUrls(*store_.get()->options));
      if (!tls) return tls.error();
      grpc_certificate_ = tls->certificate;
      grpc_options.tls = std::move(*tls);
      grpc_options.metrics = grpc_metrics_;
      auto state = [this] { return store_.get()->authorize_state; };
      grpc_options.make_inline = [state, sessions = sessions_.get()] {
        return std::make_shared<authorize::Service>(state, sessions);
      };
      auto local = std::make_shared<authorize::Service>(state, sessions_.get());
      auto grpc = authorize::AuthorizeGrpcServer::start(std::move(local), grpc_options);
      if (!grpc) return grpc.error();
      authorize_server_ = std::move(*grpc);
      log::info("listening")
          .str("address", grpc_address.substr(0, grpc_address.rfind(':') + 1) +
                              std::to_string(authorize_server_->port()))
          .str("kind", "grpc")
          .str("service", "authorize");
    }
    // Token refresh runs where the databroker runs, as in Pomerium; a
    // lease keeps it to one process at a time.
    if (roles_.databroker && sessions_) {
      refresher_ = std::make_unique<authenticate::Refresher>(
          *databroker_client_, *sessions_, [this] { return store_.get()->authenticator; },
          authenticate::Refresher::Options{});
    }

    for (size_t i = 0; serve_http_ && i < workers_count_; ++i) {
      uint64_t seed = 0;
      std::string bytes = crypto::randomBytes(sizeof(seed));
      std::memcpy(&seed, bytes.data(), sizeof(seed));
      workers_.push_back(std::make_unique<Worker>(store_, seed, sessions_.get(),
                                                  remote_authorize_.get(),
                                                  observability_->workerMetrics(i)));
    }
    if (!serve_http_) return {};
    if (auto r = bind(address_, insecure_ ? ListenerKind::kPlain : ListenerKind::kTls); !r) {
      return Error::invalid("address: " + r.error().message);
    }
    if (!redirect_address_.empty()) {
      if (auto r = bind(redirect_address_, ListenerKind::kRedirect); !r) {
        return Error::invalid("http_redirect_addr: " + r.error().message);
      }
    }
    return {};
  }

  int run() {
    for (auto& w : workers_) w->start();

    asio::signal_set signals(control_, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        log::info("SIGHUP: reloading configuration");
        systemdNotifyReloading();
        reload(/*force=*/true);
        systemdNotify("READY=1");
        signals.async_wait(on_signal);
        return;
      }
      log::info("shutting down").str("signal", signal == SIGINT ? "SIGINT" : "SIGTERM");
      systemdNotify("STOPPING=1");
      signals.cancel();
      if (watch_descriptor_) watch_descriptor_->close();
      reload_timer_.cancel();
      retired_timer_.cancel();
      drain();
    };
    signals.async_wait(on_signal);
    startWatching();
    observability_->markStarted();
    // Only now: whoever waits for this line may send SIGHUP (whose default
    // action would end the process) or edit the config at once.
    log::info("gatehouse started")
        .num("workers", static_cast<int64_t>(workers_.size()))
        .num("routes", static_cast<int64_t>(store_.get()->options->routes.size()));
    systemdNotify("READY=1");
    control_.run();

    for (auto& w : workers_) w->stop();
    observability_->stop();
    if (authorize_server_) authorize_server_->shutdown();
    if (grpc_server_) grpc_server_->shutdown();
    log::info("stopped");
    return 0;
  }

  // The metrics and health listeners, once everything they report on exists.
  Result<void> startObservability() {
    ObservabilitySources sources;
    if (serve_http_) {
      sources.open_connections = [this] {
        size_t open = 0;
        for (auto& w : workers_) open += w->openConnections();
        return open;
      };
      sources.certificates_ready = [this] { return insecure_ || store_.get()->server_tls; };
    }
    // Every process that reads sessions is ready only once its copy is.
    sources.sessions = sessions_.get();
    sources.refresher = refresher_.get();
    sources.route_count = [this] { return store_.get()->options->routes.size(); };
    sources.storage = databroker_;
    sources.grpc = grpc_metrics_;
    sources.storage_metrics = storage_metrics_;
    observability_->configLoaded(true);
    return observability_->start(std::move(sources));
  }

 private:
  proxy::SnapshotServices services(const proxy::Snapshot* previous) {
    proxy::SnapshotServices services;
    services.databroker = databroker_client_.get();
    services.sessions = sessions_.get();
    services.fetcher = fetcher_;
    services.previous = previous;
    services.serve_routes = roles_.proxy;
    services.serve_authenticate = roles_.authenticate;
    return services;
  }

  Result<void> bind(const std::string& address, ListenerKind kind) {
    auto endpoints = resolveListenAddress(address);
    if (!endpoints) return endpoints.error();
    for (tcp::endpoint endpoint : *endpoints) {
      // With port 0 the first worker's socket picks the port and every
      // other worker joins it through SO_REUSEPORT.
      for (auto& worker : workers_) {
        auto acceptor = openAcceptor(worker->io(), endpoint);
        if (!acceptor) return acceptor.error();
        endpoint = acceptor->local_endpoint();
        worker->addAcceptor(std::move(*acceptor), kind);
      }
      if (kind == ListenerKind::kTls) {
        for (auto& worker : workers_) worker->setHttpsPort(endpoint.port());
      }
      log::info("listening").str("address", endpointText(endpoint)).str("kind", kindName(kind));
    }
    return {};
  }

  void drain() {
    observability_->startDrain();
    for (auto& w : workers_) w->drain();
    auto deadline = net::Clock::now() + kDrainDeadline;
    auto timer = std::make_shared<asio::steady_timer>(control_);
    drain_poll_ = [this, timer, deadline] {
      size_t open = 0;
      for (auto& w : workers_) open += w->openConnections();
      if (open == 0 || net::Clock::now() >= deadline) {
        if (open > 0)
          log::warn("drain deadline reached").num("open-connections", static_cast<int64_t>(open));
        control_.stop();
        return;
      }
      timer->expires_after(std::chrono::milliseconds(50));
      timer->async_wait([this](const boost::system::error_code& ec) {
        if (!ec) drain_poll_();
      });
    };
    drain_poll_();
  }

  // Hash of the config file and every file it names: editors and
  // Kubernetes ConfigMaps replace files in many ways, so any event in a
  // watched directory leads here and only a change of content reloads.
  uint64_t hashInputs() const {
    uint64_t hash = 1469598103934665603ULL;
    if (!args_.config_path.empty()) hash = fnv1aFile(args_.config_path, hash);
    for (const auto& f : watched_) hash = fnv1aFile(f, fnv1a("\n", fnv1a(f, hash)));
    return hash;
  }

  void startWatching() {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      log::warn("file watching unavailable; reload with SIGHUP");
      return;
    }
    watch_descriptor_ = std::make_unique<asio::posix::stream_descriptor>(control_, fd);
    addWatches();
    readEvents();
  }

  void addWatches() {
    if (!watch_descriptor_) return;
    std::set<std::string> dirs;
    auto dirOf = [](const std::string& path) {
      auto parent = std::filesystem::absolute(path).parent_path().string();
      return parent.empty() ? std::string("/") : parent;
    };
    if (!args_.config_path.empty()) dirs.insert(dirOf(args_.config_path));
    for (const auto& f : watched_) dirs.insert(dirOf(f));
    for (const auto& d : dirs) {
      if (watched_dirs_.count(d)) continue;
      int wd = inotify_add_watch(
          watch_descriptor_->native_handle(), d.c_str(),
          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB);
      if (wd >= 0) watched_dirs_.insert(d);
    }
  }

  void readEvents() {
    watch_descriptor_->async_read_some(
        asio::buffer(event_buffer_), [this](const boost::system::error_code& ec, size_t size) {
          if (ec) return;
          bool complete = false;
          for (size_t offset = 0; offset + sizeof(inotify_event) <= size;) {
            inotify_event event;
            std::memcpy(&event, event_buffer_.data() + offset, sizeof(event));
            complete |= (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
            offset += sizeof(inotify_event) + event.len;
          }
          reload_timer_.expires_after(complete ? kReloadSettle : kReloadDebounce);
          reload_timer_.async_wait([this](const boost::system::error_code& tec) {
            if (!tec) reload(/*force=*/false);
          });
          readEvents();
        });
  }

  void reload(bool force) {
    auto started = std::chrono::steady_clock::now();
    uint64_t hash = hashInputs();
    if (!force && hash == content_hash_) return;
    config::LoadResult loaded = config::loadFile(args_.config_path, args_.environment);
    auto loaded_at = std::chrono::steady_clock::now();
    for (const auto& w : loaded.warnings) log::warn("config").str("warning", w);
    if (!loaded.options) {
      for (const auto& e : loaded.errors) {
        log::error("config reload failed, keeping the previous configuration").str("error", e);
      }
      observability_->configLoaded(false);
      content_hash_ = hash;
      return;
    }
    config::Options options = std::move(*loaded.options);
    if (options.listener.address != address_ || options.listener.insecure_server != insecure_ ||
        options.listener.http_redirect_addr != redirect_address_) {
      log::warn("listener settings changed; they take effect after a restart");
    }
    auto level = log::parseLevel(options.log_level);
    auto watched = options.watched_files;
    auto previous = store_.get();
    auto snapshot = proxy::Snapshot::create(std::move(options), generation_ + 1,
                                            fallback_cert_ ? &*fallback_cert_ : nullptr,
                                            services(previous.get()));
    if (!snapshot) {
      std::istringstream lines(snapshot.error().message);
      for (std::string line; std::getline(lines, line);) {
        log::error("config reload failed, keeping the previous configuration").str("error", line);
      }
      observability_->configLoaded(false);
      content_hash_ = hash;
      return;
    }
    auto built_at = std::chrono::steady_clock::now();
    ++generation_;
    watched_ = std::move(watched);
    // The hash taken before the load, not a new one: a file written while
    // the load ran has an event of its own, and that event must find a
    // difference. When the config names other files than before, the next
    // event reloads once more than needed, which is harmless.
    content_hash_ = hash;
    if (level) log::setLevel(*level);
    store_.publish(std::move(*snapshot));
    loaded.document = {};  // now that the new configuration serves
    retire(std::move(previous));
    // A renewed certificate file or a new inline certificate reaches the
    // gRPC service too; its connections keep the one they started with.
    if (grpc_certificate_) reloadGrpcServerCertificate(*grpc_certificate_, *store_.get()->options);
    observability_->configLoaded(true);
    addWatches();
    auto ms = [](auto d) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    log::info("config reloaded")
        .num("generation", static_cast<int64_t>(generation_))
        .num("routes", static_cast<int64_t>(store_.get()->options->routes.size()))
        .num("load_ms", ms(loaded_at - started))
        .num("build_ms", ms(built_at - loaded_at))
        .num("total_ms", ms(std::chrono::steady_clock::now() - started));
  }

  // A replaced snapshot is freed here, on the control thread, once nothing
  // else holds it: with thousands of routes that takes tens of
  // milliseconds, which would otherwise fall on the worker whose request
  // let go of it last, and stall every connection of that worker.
  void retire(std::shared_ptr<const proxy::Snapshot> snapshot) {
    if (snapshot) retired_.push_back(std::move(snapshot));
    freeRetired();
  }

  void freeRetired() {
    // use_count() == 1: the store and every worker have moved on, and no
    // one can take a new reference to a retired snapshot.
    size_t freed =
        std::erase_if(retired_, [](const auto& snapshot) { return snapshot.use_count() == 1; });
    // Freeing a snapshot of thousands of routes leaves the heap full of
    // free chunks the allocator keeps: give the memory back to the system
    // here, off the request path (at 10,000 routes, 52 MB of RSS after a
    // reload instead of 82 MB).
    if (freed > 0) ::malloc_trim(0);
    if (retired_.empty()) return;
    retired_timer_.expires_after(kRetiredSnapshotCheck);
    retired_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) freeRetired();
    });
  }

  // Keeps gRPC initialised until everything that uses it is gone.
  databroker::GrpcLibraryScope grpc_scope_;
  ServerArgs args_;
  struct Roles {
    bool proxy = false;
    bool authorize = false;
    bool authenticate = false;
    bool databroker = false;
  } roles_;
  SnapshotStore store_;
  uint64_t generation_ = 0;
  std::optional<net::CertificateKeyPair> fallback_cert_;
  size_t workers_count_ = 1;
  std::string address_;
  bool insecure_ = false;
  std::string redirect_address_;
  std::vector<std::string> watched_;
  uint64_t content_hash_ = 0;
  bool serve_http_ = true;
  // Before the gRPC servers and clients that count into them.
  std::shared_ptr<metrics::GrpcMetrics> grpc_metrics_;
  std::shared_ptr<metrics::StorageMetrics> storage_metrics_;
  // Before the gRPC servers, so that it outlives them: gRPC reads it.
  std::shared_ptr<databroker::GrpcServerCertificate> grpc_certificate_;
  std::unique_ptr<databroker::GrpcServer> grpc_server_;
  std::shared_ptr<databroker::Backend> databroker_;
  std::unique_ptr<databroker::PeriodicCleaner> databroker_cleaner_;
  std::unique_ptr<databroker::Client> databroker_client_;
  std::unique_ptr<session::Cache> sessions_;
  std::unique_ptr<authorize::Client> remote_authorize_;
  std::unique_ptr<authorize::AuthorizeGrpcServer> authorize_server_;
  std::shared_ptr<authenticate::oidc::Fetcher> fetcher_;
  std::unique_ptr<authenticate::Refresher> refresher_;
  std::vector<std::unique_ptr<Worker>> workers_;
  asio::io_context control_{1};
  asio::steady_timer reload_timer_{control_};
  std::vector<std::shared_ptr<const proxy::Snapshot>> retired_;
  asio::steady_timer retired_timer_{control_};
  std::unique_ptr<asio::posix::stream_descriptor> watch_descriptor_;
  std::set<std::string> watched_dirs_;
  alignas(inotify_event) std::array<char, 8192> event_buffer_{};
  std::function<void()> drain_poll_;
  // Last, so that its thread stops before anything it reports on goes.
  std::unique_ptr<Observability> observability_;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(ServerArgs args) {
  auto impl = std::make_unique<Impl>(std::move(args));
  if (auto r = impl->init(); !r) return r.error();
  if (auto r = impl->startObservability(); !r) return r.error();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::run() { return impl_->run(); }

}  // namespace gatehouse::server

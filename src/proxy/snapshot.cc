#include "proxy/snapshot.h"

#include "common/strings.h"
#include "proxy/downstream_mtls.h"
#include "session/urls.h"

namespace gatehouse::proxy {
namespace {

http::EscapedSlashAction escapedSlashAction(const std::string& text) {
  std::string v = toLower(text);
  if (v == "keep_unchanged") return http::EscapedSlashAction::kKeepUnchanged;
  if (v == "unescape_and_forward") return http::EscapedSlashAction::kUnescapeAndForward;
  if (v == "unescape_and_redirect") return http::EscapedSlashAction::kUnescapeAndRedirect;
  return http::EscapedSlashAction::kReject;
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> Snapshot::create(
    config::Options options, uint64_t generation,
    const net::CertificateKeyPair* fallback_certificate, const SnapshotServices& services) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->options = std::make_shared<const config::Options>(std::move(options));
  const config::Options& opts = *snapshot->options;

  auto routes = RouteTable::create(opts.routes);
  if (!routes) return routes.error();
  snapshot->routes = std::move(*routes);

  std::vector<std::string> problems;
  snapshot->upstream_tls.resize(opts.routes.size());
  for (const auto& route : opts.routes) {
    bool wants_tls = false;
    for (const auto& to : route.to) wants_tls |= to.scheme == "https";
    if (!wants_tls) continue;
    net::ClientTlsOptions tls_options;
    tls_options.skip_verify = route.tls_skip_verify;
    tls_options.custom_ca_pem = route.tls_custom_ca_pem;
    tls_options.client_cert_pem = route.tls_client_cert_pem;
    tls_options.client_key_pem = route.tls_client_key_pem;
    tls_options.offer_http2 = true;
    auto tls = net::ClientTlsContext::create(tls_options);
    if (!tls) {
      problems.push_back("routes[" + std::to_string(route.index) + "]: " + tls.error().message);
      continue;
    }
    snapshot->upstream_tls[route.index] = std::move(*tls);
  }

  DownstreamMtls mtls;
  if (auto m = opts.extra.find("downstream_mtls"); m != opts.extra.end()) {
    auto parsed = DownstreamMtls::parse(m->second);
    if (!parsed) {
      problems.push_back(parsed.error().message);
    } else {
      mtls = std::move(*parsed);
    }
  }
  snapshot->client_ca_configured = mtls.verifier != nullptr;

  if (!opts.listener.insecure_server) {
    std::vector<net::CertificateKeyPair> pairs;
    for (const auto& c : opts.listener.certificates) {
      pairs.push_back({c.cert_pem, c.key_pem, c.origin});
    }
    if (pairs.empty() && fallback_certificate) {
      pairs.push_back(*fallback_certificate);
      snapshot->self_signed = true;
    }
    if (!pairs.empty()) {
      auto tls = net::ServerTlsContext::create(pairs, /*enable_http2=*/true, mtls.verifier);
      if (!tls) {
        problems.push_back(tls.error().message);
      } else {
        snapshot->server_tls = std::move(*tls);
      }
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) {
      if (!message.empty()) message += '\n';
      message += p;
    }
    return Error::invalid(message);
  }

  const config::HttpOptions& http_opts = opts.http;
  snapshot->path_options.normalize_path = http_opts.normalize_path;
  snapshot->path_options.merge_slashes = http_opts.merge_slashes;
  snapshot->path_options.escaped_slashes =
      escapedSlashAction(http_opts.path_with_escaped_slashes_action);

  http::ConnectionSettings& cs = snapshot->connection_settings;
  cs.limits.max_head_bytes = static_cast<size_t>(http_opts.max_request_headers_kb) * 1024;
  cs.limits.max_headers = http_opts.max_request_headers_count;
  std::string underscores = toLower(http_opts.headers_with_underscores_action);
  cs.limits.reject_underscore_headers = underscores == "reject" || underscores.empty();
  cs.limits.allow_underscore_headers = underscores == "allow";
  cs.idle_timeout = http_opts.timeout_idle;
  cs.read_timeout = http_opts.timeout_read;
  cs.write_timeout = http_opts.timeout_write;

  const config::AuthenticateOptions& auth = opts.authenticate;
  snapshot->session_cookie_name = auth.cookie.name;
  snapshot->session_cookie.domain = auth.cookie.domain;
  snapshot->session_cookie.http_only = auth.cookie.http_only;
  snapshot->session_cookie.same_site = auth.cookie.same_site;
  snapshot->session_cookie.max_age =
      std::chrono::duration_cast<std::chrono::seconds>(auth.cookie.expire);
  snapshot->authenticate_url = auth.service_url;
  auto state = authorize::State::create(
      snapshot->options, services.previous ? services.previous->authorize_state.get() : nullptr);
  if (!state) return state.error();
  snapshot->authorize_state = std::move(*state);
  // The same codec and signer as the decisions use, not a second pair.
  snapshot->handles = snapshot->authorize_state->handles();
  snapshot->signer = snapshot->authorize_state->signer();

  snapshot->serve_routes = services.serve_routes;
  snapshot->serve_authenticate = services.serve_authenticate;
  if (services.fetcher) {
    authenticate::Authenticator::Dependencies deps;
    deps.databroker = services.databroker;
    deps.sessions = services.sessions;
    deps.fetcher = services.fetcher;
    auto authenticator = authenticate::Authenticator::create(
        opts, std::move(deps),
        services.previous ? services.previous->authenticator.get() : nullptr);
    if (!authenticator) return authenticator.error();
    snapshot->authenticator = std::move(*authenticator);
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace gatehouse::proxy

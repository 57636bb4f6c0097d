#include "config/options_builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/base64.h"
#include "common/strings.h"
#include "config/route_parser.h"

namespace gatehouse::config {
namespace {

using Handler = void (*)(OptionsBuilder&, const Value&);

struct HandledKey {
  std::string_view name;
  KeyShape shape;
  Handler handle;
};

struct ExtraKey {
  std::string_view name;
  ExtraKind kind;
};

// Keys Pomerium removed. Using one is an error: the setting it stood for
// would otherwise silently stop applying. The list follows Pomerium's
// config/options_check.go, plus policy_file (refused by Options.Validate)
// and older keys whose replacement has a different name.
struct RemovedKey {
  std::string_view name;
  std::string_view hint;
};
constexpr RemovedKey kRemovedKeys[] = {
    {"policy_file", "put the routes in this file under \"routes\""},
    {"client_ca", "use downstream_mtls.ca"},
    {"client_ca_file", "use downstream_mtls.ca_file"},
    {"idp_service_account", "directory sync was removed; use the identity provider's groups claim"},
    {"idp_refresh_directory_timeout",
     "directory sync was removed; use the identity provider's groups claim"},
    {"idp_refresh_directory_interval",
     "directory sync was removed; use the identity provider's groups claim"},
    {"idp_qps", "directory sync was removed; use the identity provider's groups claim"},
    {"headers", "use set_response_headers"},
    {"cache_service_url", "use databroker_service_url"},
    {"authenticate_internal_url", "use authenticate_internal_service_url"},
    {"signing_key_algorithm", "the algorithm now follows the type of signing_key"},
};

// Real Pomerium keys with no Gatehouse behaviour yet: accepted without a
// warning and kept in Options::extra for the components that will use them.
constexpr ExtraKey kExtraKeys[] = {
    // Service URLs and gRPC.
    {"authenticate_service_url", ExtraKind::kString},
    {"authenticate_internal_service_url", ExtraKind::kString},
    {"authenticate_callback_path", ExtraKind::kString},
    {"authorize_service_url", ExtraKind::kString},
    {"authorize_service_urls", ExtraKind::kList},
    {"authorize_internal_service_url", ExtraKind::kString},
    {"databroker_internal_service_url", ExtraKind::kString},
    {"grpc_insecure", ExtraKind::kBool},
    {"grpc_client_timeout", ExtraKind::kDuration},
    {"override_certificate_name", ExtraKind::kString},
    {"certificate_authority", ExtraKind::kString},
    {"certificate_authority_file", ExtraKind::kPath},
    {"tls_derive", ExtraKind::kString},
    // Identity provider.
    {"idp_provider", ExtraKind::kString},
    {"idp_provider_url", ExtraKind::kString},
    {"idp_client_id", ExtraKind::kString},
    {"idp_client_secret", ExtraKind::kString},
    {"idp_client_secret_file", ExtraKind::kPath},
    {"idp_scopes", ExtraKind::kList},
    {"idp_request_params", ExtraKind::kAny},
    {"idp_access_token_allowed_audiences", ExtraKind::kList},
    {"identity_providers", ExtraKind::kAny},
    // Cookies and identity headers.
    {"cookie_name", ExtraKind::kString},
    {"cookie_domain", ExtraKind::kString},
    {"cookie_expire", ExtraKind::kDuration},
    {"cookie_http_only", ExtraKind::kBool},
    {"cookie_same_site", ExtraKind::kString},
    {"cookie_secure", ExtraKind::kBool},
    {"signing_key", ExtraKind::kString},
    {"signing_key_file", ExtraKind::kPath},
    {"jwt_claims_headers", ExtraKind::kAny},
    {"jwt_groups_filter", ExtraKind::kList},
    {"jwt_issuer_format", ExtraKind::kString},
    {"bearer_token_format", ExtraKind::kString},
    {"pass_identity_headers", ExtraKind::kBool},
    {"signout_redirect_url", ExtraKind::kString},
    {"programmatic_redirect_domain_whitelist", ExtraKind::kList},
    // Databroker.
    {"databroker_cluster_node_id", ExtraKind::kString},
    {"databroker_cluster_leader_id", ExtraKind::kString},
    {"databroker_cluster_nodes", ExtraKind::kAny},
    {"databroker_raft_bind_address", ExtraKind::kString},
    // Observability.
    {"metrics_address", ExtraKind::kString},
    {"metrics_basic_auth", ExtraKind::kString},
    {"metrics_certificate", ExtraKind::kString},
    {"metrics_certificate_key", ExtraKind::kString},
    {"metrics_certificate_file", ExtraKind::kPath},
    {"metrics_certificate_key_file", ExtraKind::kPath},
    {"metrics_client_ca", ExtraKind::kString},
    {"metrics_client_ca_file", ExtraKind::kPath},
    {"health_check_addr", ExtraKind::kString},
    {"health_check_systemd_disabled", ExtraKind::kBool},
    // Gatehouse's own: the name prefix of every metric (default "pomerium_").
    {"metrics_prefix", ExtraKind::kString},
    {"debug_address", ExtraKind::kString},
    {"proxy_log_level", ExtraKind::kString},
    {"access_log_fields", ExtraKind::kList},
    {"authorize_log_fields", ExtraKind::kList},
    {"pomerium_debug", ExtraKind::kBool},
    {"installation_id", ExtraKind::kString},
    {"tracing_provider", ExtraKind::kString},
    {"tracing_sample_rate", ExtraKind::kString},
    {"tracing_otlp_endpoint", ExtraKind::kString},
    {"tracing_otlp_protocol", ExtraKind::kString},
    {"tracing_datadog_address", ExtraKind::kString},
    {"tracing_jaeger_collector_endpoint", ExtraKind::kString},
    {"tracing_jaeger_agent_endpoint", ExtraKind::kString},
    {"tracing_zipkin_endpoint", ExtraKind::kString},
    {"otel_traces_exporter", ExtraKind::kString},
    {"otel_traces_sampler", ExtraKind::kString},
    {"otel_traces_sampler_arg", ExtraKind::kString},
    {"otel_exporter_otlp_endpoint", ExtraKind::kString},
    {"otel_exporter_otlp_traces_endpoint", ExtraKind::kString},
    {"otel_exporter_otlp_protocol", ExtraKind::kString},
    {"otel_exporter_otlp_traces_protocol", ExtraKind::kString},
    {"otel_exporter_otlp_headers", ExtraKind::kAny},
    {"otel_exporter_otlp_traces_headers", ExtraKind::kAny},
    {"otel_exporter_otlp_timeout", ExtraKind::kString},
    {"otel_exporter_otlp_traces_timeout", ExtraKind::kString},
    {"otel_resource_attributes", ExtraKind::kAny},
    {"otel_bsp_schedule_delay", ExtraKind::kString},
    {"otel_bsp_max_export_batch_size", ExtraKind::kInt},
    {"otel_log_level", ExtraKind::kString},
    {"otel_sdk_disabled", ExtraKind::kBool},
    // Listener, Envoy and DNS details.
    {"codec_type", ExtraKind::kString},
    {"allow_upgrades", ExtraKind::kList},
    {"http3_advertise_port", ExtraKind::kInt},
    {"dns_lookup_family", ExtraKind::kString},
    {"dns_refresh_rate", ExtraKind::kDuration},
    {"dns_failure_refresh_rate", ExtraKind::kDuration},
    {"dns_query_timeout", ExtraKind::kDuration},
    {"dns_query_tries", ExtraKind::kInt},
    {"dns_resolvers", ExtraKind::kList},
    {"dns_udp_max_queries", ExtraKind::kInt},
    {"dns_use_tcp", ExtraKind::kBool},
    {"envoy_admin_access_log_path", ExtraKind::kString},
    {"envoy_admin_profile_path", ExtraKind::kString},
    {"envoy_admin_address", ExtraKind::kString},
    {"envoy_bind_config_source_address", ExtraKind::kString},
    {"envoy_bind_config_freebind", ExtraKind::kBool},
    {"google_cloud_serverless_authentication_service_account", ExtraKind::kString},
    {"runtime_flags", ExtraKind::kAny},
    {"auto_apply_changesets", ExtraKind::kBool},
    {"blob_storage", ExtraKind::kAny},
    {"mcp", ExtraKind::kAny},
    {"ssh_address", ExtraKind::kString},
    {"ssh_host_keys", ExtraKind::kList},
    {"ssh_host_key_files", ExtraKind::kList},
    {"ssh_user_ca_key", ExtraKind::kString},
    {"ssh_user_ca_key_file", ExtraKind::kPath},
    // ACME.
    {"autocert", ExtraKind::kBool},
    {"autocert_use_staging", ExtraKind::kBool},
    {"autocert_must_staple", ExtraKind::kBool},
    {"autocert_email", ExtraKind::kString},
    {"autocert_ca", ExtraKind::kString},
    {"autocert_dir", ExtraKind::kString},
    {"autocert_eab_key_id", ExtraKind::kString},
    {"autocert_eab_mac_key", ExtraKind::kString},
    {"autocert_trusted_ca", ExtraKind::kString},
    {"autocert_trusted_ca_file", ExtraKind::kPath},
    // Branding of the built-in pages.
    {"primary_color", ExtraKind::kString},
    {"secondary_color", ExtraKind::kString},
    {"darkmode_primary_color", ExtraKind::kString},
    {"darkmode_secondary_color", ExtraKind::kString},
    {"logo_url", ExtraKind::kString},
    {"favicon_url", ExtraKind::kString},
    {"error_message_first_paragraph", ExtraKind::kString},
};

constexpr std::string_view kDownstreamMtlsFields[] = {"ca",
                                                      "ca_file",
                                                      "crl",
                                                      "crl_file",
                                                      "enforcement",
                                                      "match_subject_alt_names",
                                                      "max_verify_depth"};

// host:port as the listeners take it (":443", "0.0.0.0:8443", "[::]:443").
// Port 0 asks the kernel for a free port, which tests use.
bool isListenAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon);
  auto port = parseUint(address.substr(colon + 1));
  if (!port || *port > 65535) return false;
  if (!host.empty() && host.front() == '[') return host.size() > 2 && host.back() == ']';
  return host.find(':') == std::string_view::npos && host.find(' ') == std::string_view::npos;
}

void setListenAddress(OptionsBuilder& b, const Value& v, std::string& out) {
  auto text = b.ctx().readString(v);
  if (!text) return;
  // Pomerium strips quotes a shell or compose file may leave in (#811).
  std::string address(trim(*text));
  while (!address.empty() && (address.front() == '"' || address.front() == '\'')) {
    address.erase(0, 1);
  }
  while (!address.empty() && (address.back() == '"' || address.back() == '\'')) address.pop_back();
  if (address.empty()) {
    out.clear();
    return;
  }
  if (!isListenAddress(address)) {
    b.ctx().error(v.path,
                  "invalid address " + quote(address) + " (expected host:port, e.g. \":443\")");
    return;
  }
  out = address;
}

// Handlers for keys that map straight onto one field of one section of
// Options (`kSection` is e.g. &Options::http, `kField` &HttpOptions::...).
template <auto kSection, auto kField>
void durationKey(OptionsBuilder& b, const Value& v) {
  if (auto d = b.ctx().readDuration(v)) (b.options().*kSection).*kField = *d;
}
template <auto kSection, auto kField>
void boolKey(OptionsBuilder& b, const Value& v) {
  if (auto flag = b.ctx().readBool(v)) (b.options().*kSection).*kField = *flag;
}
template <auto kSection, auto kField, uint64_t kMin, uint64_t kMax>
void uintKey(OptionsBuilder& b, const Value& v) {
  using Field = std::remove_reference_t<decltype((b.options().*kSection).*kField)>;
  if (auto n = b.ctx().readUint(v, kMin, kMax)) {
    (b.options().*kSection).*kField = static_cast<Field>(*n);
  }
}
template <auto kSection, auto kField>
void listenAddressKey(OptionsBuilder& b, const Value& v) {
  setListenAddress(b, v, (b.options().*kSection).*kField);
}
// Keys whose value is checked in finish(), where the keys it pairs with or
// depends on are known.
template <auto kField>
void pendingKey(OptionsBuilder& b, const Value& v) {
  if (auto text = b.ctx().readString(v)) b.pending().*kField = std::move(*text);
}
template <auto kField>
void pendingValueKey(OptionsBuilder& b, const Value& v) {
  b.pending().*kField = v;
}

// A value from a fixed set, case-insensitive; Envoy's upper-case enum names
// are accepted through `aliases`.
void setChoice(OptionsBuilder& b, const Value& v, std::string& out,
               std::initializer_list<std::string_view> choices,
               std::initializer_list<std::pair<std::string_view, std::string_view>> aliases) {
  auto text = b.ctx().readString(v);
  if (!text) return;
  std::string lower = toLower(trim(*text));
  for (auto choice : choices) {
    if (lower == choice) {
      out = lower;
      return;
    }
  }
  for (auto [alias, choice] : aliases) {
    if (lower == alias) {
      out = std::string(choice);
      return;
    }
  }
  std::string list;
  for (auto choice : choices) {
    if (!list.empty()) list += ", ";
    list += choice;
  }
  b.ctx().error(v.path, quote(*text) + " is not one of " + list);
}

void parseServices(OptionsBuilder& b, const Value& v) {
  auto list = b.ctx().readStringList(v);
  if (!list) return;
  std::vector<std::string> services;
  for (const std::string& item : *list) {
    std::string service = toLower(item);
    if (service == "cache") service = "databroker";  // Pomerium's older name
    if (service != "all" && service != "proxy" && service != "authorize" &&
        service != "authenticate" && service != "databroker") {
      b.ctx().error(v.path, quote(item) +
                                " is not one of all, proxy, authorize, authenticate, databroker, "
                                "cache");
      return;
    }
    if (std::find(services.begin(), services.end(), service) == services.end()) {
      services.push_back(service);
    }
  }
  if (services.empty() || std::find(services.begin(), services.end(), "all") != services.end()) {
    services = {"all"};
  }
  auto has = [&](std::string_view name) {
    return std::find(services.begin(), services.end(), name) != services.end();
  };
  if (has("authorize") && has("databroker") && !has("proxy")) {
    // Both would serve gRPC on this process's one grpc_address.
    b.ctx().error(v.path,
                  "authorize and databroker each serve gRPC: run them in separate processes "
                  "(or authorize together with proxy)");
    return;
  }
  b.options().services = std::move(services);
}

void parseLogLevel(OptionsBuilder& b, const Value& v) {
  setChoice(b, v, b.options().log_level, {"debug", "info", "warn", "error"}, {{"warning", "warn"}});
}

// downstream_mtls is kept as JSON for the TLS code, with its file paths
// resolved here, where the config file's directory is known.
void parseDownstreamMtls(OptionsBuilder& b, const Value& v) {
  nlohmann::json settings = nlohmann::json::object();
  for (auto& [key, entry] : b.ctx().mapEntries(v)) {
    Value item{entry.node, v.path + "." + entry.key};
    if (key == "ca" || key == "crl") {
      if (auto text = b.ctx().readString(item)) settings[key] = *text;
    } else if (key == "ca_file" || key == "crl_file") {
      if (auto path = b.ctx().readExtra(item, ExtraKind::kPath)) settings[key] = *path;
    } else if (key == "enforcement") {
      std::string enforcement;
      setChoice(b, item, enforcement, {"policy", "policy_with_default_deny", "reject_connection"},
                {});
      if (!enforcement.empty()) settings[key] = enforcement;
    } else if (key == "max_verify_depth") {
      if (auto depth = b.ctx().readUint(item, 0, UINT32_MAX)) settings[key] = *depth;
    } else if (key == "match_subject_alt_names") {
      if (auto json = b.ctx().readJson(item))
        settings[key] = nlohmann::json::parse(*json, nullptr, false);
    } else {
      b.ctx().unknownKey(item.path);
    }
  }
  b.options().extra["downstream_mtls"] =
      settings.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void parseSetResponseHeaders(OptionsBuilder& b, const Value& v) {
  if (auto headers = b.ctx().readHeaderMap(v))
    b.pending().set_response_headers = std::move(*headers);
}

void parsePathWithEscapedSlashesAction(OptionsBuilder& b, const Value& v) {
  setChoice(b, v, b.options().http.path_with_escaped_slashes_action,
            {"reject", "keep_unchanged", "unescape_and_forward", "unescape_and_redirect"},
            {{"reject_request", "reject"}});
}

void parseHeadersWithUnderscoresAction(OptionsBuilder& b, const Value& v) {
  setChoice(b, v, b.options().http.headers_with_underscores_action,
            {"reject", "drop_header", "allow"}, {{"reject_request", "reject"}});
}

void parseDatabrokerStorageType(OptionsBuilder& b, const Value& v) {
  setChoice(b, v, b.options().databroker.storage_type, {"memory", "file", "postgres"}, {});
}

// databroker_service_url and databroker_service_urls both add to one list.
void parseDatabrokerServiceUrls(OptionsBuilder& b, const Value& v) {
  auto urls = b.ctx().readStringList(v);
  if (!urls) return;
  auto& pending = b.pending().databroker_service_urls;
  if (!pending) pending.emplace();
  for (auto& url : *urls) {
    if (!startsWith(url, "http://") && !startsWith(url, "https://")) {
      b.ctx().error(v.path, quote(url) + " is not an http:// or https:// URL");
      continue;
    }
    pending->push_back(std::move(url));
  }
}

using Pending = OptionsBuilder::Pending;

// The table of global keys Gatehouse acts on: adding a key is one line here.
constexpr HandledKey kHandledKeys[] = {
    {"address", KeyShape::kScalar, listenAddressKey<&Options::listener, &ListenerOptions::address>},
    {"insecure_server", KeyShape::kScalar,
     boolKey<&Options::listener, &ListenerOptions::insecure_server>},
    {"http_redirect_addr", KeyShape::kScalar,
     listenAddressKey<&Options::listener, &ListenerOptions::http_redirect_addr>},
    {"use_proxy_protocol", KeyShape::kScalar,
     boolKey<&Options::listener, &ListenerOptions::use_proxy_protocol>},
    {"workers", KeyShape::kScalar, uintKey<&Options::listener, &ListenerOptions::workers, 0, 1024>},
    {"certificates", KeyShape::kStructured, pendingValueKey<&Pending::certificates>},
    {"certificate", KeyShape::kScalar, pendingKey<&Pending::certificate>},
    {"certificate_key", KeyShape::kScalar, pendingKey<&Pending::certificate_key>},
    {"certificate_file", KeyShape::kScalar, pendingKey<&Pending::certificate_file>},
    {"certificate_key_file", KeyShape::kScalar, pendingKey<&Pending::certificate_key_file>},
    {"log_level", KeyShape::kScalar, parseLogLevel},
    {"services", KeyShape::kScalar, parseServices},
    {"timeout_read", KeyShape::kScalar, durationKey<&Options::http, &HttpOptions::timeout_read>},
    {"timeout_write", KeyShape::kScalar, durationKey<&Options::http, &HttpOptions::timeout_write>},
    {"timeout_idle", KeyShape::kScalar, durationKey<&Options::http, &HttpOptions::timeout_idle>},
    {"default_upstream_timeout", KeyShape::kScalar,
     durationKey<&Options::http, &HttpOptions::default_upstream_timeout>},
    {"set_response_headers", KeyShape::kScalar, parseSetResponseHeaders},
    {"xff_num_trusted_hops", KeyShape::kScalar,
     uintKey<&Options::http, &HttpOptions::xff_num_trusted_hops, 0, UINT32_MAX>},
    {"skip_xff_append", KeyShape::kScalar, boolKey<&Options::http, &HttpOptions::skip_xff_append>},
    {"normalize_path", KeyShape::kScalar, boolKey<&Options::http, &HttpOptions::normalize_path>},
    {"merge_slashes", KeyShape::kScalar, boolKey<&Options::http, &HttpOptions::merge_slashes>},
    {"path_with_escaped_slashes_action", KeyShape::kScalar, parsePathWithEscapedSlashesAction},
    {"headers_with_underscores_action", KeyShape::kScalar, parseHeadersWithUnderscoresAction},
    // Envoy's limits (max_request_headers_kb, max_headers_count), as
    // Gatehouse keys.
    {"max_request_headers_kb", KeyShape::kScalar,
     uintKey<&Options::http, &HttpOptions::max_request_headers_kb, 1, 8192>},
    {"max_request_headers_count", KeyShape::kScalar,
     uintKey<&Options::http, &HttpOptions::max_request_headers_count, 1, 10000>},
    {"shared_secret", KeyShape::kScalar, pendingKey<&Pending::shared_secret>},
    {"shared_secret_file", KeyShape::kScalar, pendingKey<&Pending::shared_secret_file>},
    {"cookie_secret", KeyShape::kScalar, pendingKey<&Pending::cookie_secret>},
    {"cookie_secret_file", KeyShape::kScalar, pendingKey<&Pending::cookie_secret_file>},
    {"routes", KeyShape::kRoutes, pendingValueKey<&Pending::routes>},
    {"policy", KeyShape::kRoutes, pendingValueKey<&Pending::policy>},
    {"downstream_mtls", KeyShape::kStructured, parseDownstreamMtls},
    {"databroker_storage_type", KeyShape::kScalar, parseDatabrokerStorageType},
    {"databroker_storage_connection_string", KeyShape::kScalar,
     pendingKey<&Pending::databroker_storage_connection_string>},
    {"databroker_storage_connection_string_file", KeyShape::kScalar,
     pendingKey<&Pending::databroker_storage_connection_string_file>},
    {"grpc_address", KeyShape::kScalar,
     listenAddressKey<&Options::databroker, &DatabrokerOptions::grpc_address>},
    {"databroker_change_log_retention", KeyShape::kScalar,
     durationKey<&Options::databroker, &DatabrokerOptions::change_log_retention>},
    {"databroker_service_url", KeyShape::kScalar, parseDatabrokerServiceUrls},
    {"databroker_service_urls", KeyShape::kScalar, parseDatabrokerServiceUrls},
};

std::optional<std::string> readUrandom(size_t size, std::string& problem) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem = std::strerror(errno);
    return std::nullopt;
  }
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      problem = n < 0 ? std::strerror(errno) : "short read";
      ::close(fd);
      return std::nullopt;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace

std::vector<GlobalKeyInfo> globalKeys() {
  std::vector<GlobalKeyInfo> keys;
  for (const auto& key : kHandledKeys) keys.push_back({key.name, key.shape});
  for (const auto& key : kExtraKeys) {
    keys.push_back(
        {key.name, key.kind == ExtraKind::kAny ? KeyShape::kStructured : KeyShape::kScalar});
  }
  keys.push_back({"policy_file", KeyShape::kScalar});
  return keys;
}

std::vector<NestedKeyInfo> nestedGlobalKeys() {
  return {{"downstream_mtls", std::vector<std::string_view>(std::begin(kDownstreamMtlsFields),
                                                            std::end(kDownstreamMtlsFields))}};
}

void OptionsBuilder::apply(std::string_view key, const Value& value) {
  for (const auto& handled : kHandledKeys) {
    if (handled.name == key) {
      handled.handle(*this, value);
      return;
    }
  }
  for (const auto& extra : kExtraKeys) {
    if (extra.name == key) {
      if (auto text = ctx_.readExtra(value, extra.kind)) {
        options_.extra[std::string(key)] = std::move(*text);
      }
      return;
    }
  }
  for (const auto& removed : kRemovedKeys) {
    if (removed.name == key) {
      ctx_.error(value.path, "config option was removed; " + std::string(removed.hint));
      return;
    }
  }
  ctx_.unknownKey(value.path);
}

void OptionsBuilder::setRoutesFromEnvironment(const Value& value) {
  pending_.environment_routes = value;
}

Options OptionsBuilder::finish() {
  // proxy_log_level shares log_level's vocabulary; check it the same way.
  if (auto level = options_.extra.find("proxy_log_level"); level != options_.extra.end()) {
    std::string lower = toLower(level->second);
    if (lower == "warning") lower = "warn";
    if (lower != "debug" && lower != "info" && lower != "warn" && lower != "error") {
      ctx_.error("proxy_log_level",
                 quote(level->second) + " is not one of debug, info, warn, error");
    }
  }
  finishRoutes();
  finishCertificates();
  finishResponseHeaders();
  finishSecrets();
  finishDatabroker();
  finishAuthenticate();
  finishObservability();
  options_.watched_files = ctx_.takeWatchedFiles();
  return std::move(options_);
}

void OptionsBuilder::finishRoutes() {
  if (pending_.environment_routes) {
    options_.routes = parseRoutes(ctx_, *pending_.environment_routes);
    return;
  }
  if (pending_.routes && pending_.policy) {
    ctx_.error("policy", "set only one of routes and policy (policy is the older name of routes)");
    return;
  }
  if (pending_.routes) options_.routes = parseRoutes(ctx_, *pending_.routes);
  if (pending_.policy) options_.routes = parseRoutes(ctx_, *pending_.policy);
}

void OptionsBuilder::finishCertificates() {
  auto& certificates = options_.listener.certificates;
  if (pending_.certificate || pending_.certificate_key) {
    if (!pending_.certificate || !pending_.certificate_key) {
      ctx_.error(pending_.certificate ? "certificate_key" : "certificate",
                 "certificate and certificate_key must be set together");
    } else {
      auto cert = ctx_.decodeBase64Pem("certificate", *pending_.certificate);
      auto key = ctx_.decodeBase64Pem("certificate_key", *pending_.certificate_key);
      if (cert && key) certificates.push_back({std::move(*cert), std::move(*key), "certificate"});
    }
  }

  if (pending_.certificates) {
    const Value& list = *pending_.certificates;
    if (list.node.isDefined() && !list.node.isNull() && !list.node.isSequence()) {
      ctx_.error(list.path, "expected a list of {cert, key}");
    } else if (list.node.isSequence()) {
      for (size_t i = 0; i < list.node.size(); ++i) {
        Value entry{list.node[i], list.path + "[" + std::to_string(i) + "]"};
        if (!entry.node.isMap()) {
          ctx_.error(entry.path, "expected a map with cert and key");
          continue;
        }
        std::optional<std::string> cert_value;
        std::optional<std::string> key_value;
        for (auto& [key, item] : ctx_.mapEntries(entry)) {
          Value field{item.node, entry.path + "." + item.key};
          if (key == "cert") {
            cert_value = ctx_.readString(field);
          } else if (key == "key") {
            key_value = ctx_.readString(field);
          } else {
            ctx_.unknownKey(field.path);
          }
        }
        if (!cert_value) ctx_.error(entry.path + ".cert", "required");
        if (!key_value) ctx_.error(entry.path + ".key", "required");
        if (!cert_value || !key_value) continue;
        auto cert = ctx_.readPemFileOrBase64(entry.path + ".cert", *cert_value);
        auto key = ctx_.readPemFileOrBase64(entry.path + ".key", *key_value);
        if (cert && key) certificates.push_back({std::move(*cert), std::move(*key), entry.path});
      }
    }
  }

  if (pending_.certificate_file || pending_.certificate_key_file) {
    if (!pending_.certificate_file || !pending_.certificate_key_file) {
      ctx_.error(pending_.certificate_file ? "certificate_key_file" : "certificate_file",
                 "certificate_file and certificate_key_file must be set together");
    } else {
      auto cert = ctx_.readFile("certificate_file", *pending_.certificate_file);
      auto key = ctx_.readFile("certificate_key_file", *pending_.certificate_key_file);
      bool ok = cert && key;
      if (cert && !looksLikePem(*cert)) {
        ctx_.error("certificate_file", quote(ctx_.resolvePath(*pending_.certificate_file)) +
                                           " does not contain PEM data");
        ok = false;
      }
      if (key && !looksLikePem(*key)) {
        ctx_.error("certificate_key_file", quote(ctx_.resolvePath(*pending_.certificate_key_file)) +
                                               " does not contain PEM data");
        ok = false;
      }
      if (ok) certificates.push_back({std::move(*cert), std::move(*key), "certificate_file"});
    }
  }
}

// Pomerium's GetSetResponseHeaders: a configured map replaces the defaults
// entirely (it does not merge into them), HSTS is a default only when real
// certificates are configured, and a `disable` key clears everything.
void OptionsBuilder::finishResponseHeaders() {
  std::vector<HeaderValue> headers;
  if (pending_.set_response_headers) {
    headers = std::move(*pending_.set_response_headers);
  } else {
    headers.push_back({"X-Frame-Options", "SAMEORIGIN"});
    headers.push_back({"X-XSS-Protection", "1; mode=block"});
    // HSTS on a self-signed or plain-HTTP listener would pin browsers to a
    // certificate they cannot verify.
    if (!options_.listener.certificates.empty() && !options_.listener.insecure_server) {
      headers.push_back(
          {"Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"});
    }
  }
  bool disable = std::any_of(headers.begin(), headers.end(),
                             [](const HeaderValue& h) { return iequals(h.name, "disable"); });
  if (disable) headers.clear();
  options_.http.set_response_headers = std::move(headers);
}

void OptionsBuilder::finishSecrets() {
  const auto& services = options_.services;
  bool all_in_one = services.size() == 1 && services.front() == "all";
  bool authenticate = std::find(services.begin(), services.end(), "authenticate") != services.end();
  // Split services must agree on the shared secret, so only the all-in-one
  // process may invent one; likewise the cookie secret for a standalone
  // authenticate service.
  finishSecret("shared_secret", pending_.shared_secret, pending_.shared_secret_file,
               options_.secrets.shared_secret, options_.secrets.shared_secret_generated,
               !all_in_one);
  finishSecret("cookie_secret", pending_.cookie_secret, pending_.cookie_secret_file,
               options_.secrets.cookie_secret, options_.secrets.cookie_secret_generated,
               authenticate && !all_in_one);
}

void OptionsBuilder::finishDatabroker() {
  DatabrokerOptions& databroker = options_.databroker;
  if (pending_.databroker_service_urls) databroker.service_urls = *pending_.databroker_service_urls;
  const auto& inline_value = pending_.databroker_storage_connection_string;
  const auto& file = pending_.databroker_storage_connection_string_file;
  std::optional<std::string> text;
  std::string key = "databroker_storage_connection_string";
  if (file && !file->empty()) {
    if (inline_value && !inline_value->empty()) {
      ctx_.warn(key, "ignored because databroker_storage_connection_string_file is set");
    }
    key = "databroker_storage_connection_string_file";
    text = ctx_.readFile(key, *file);
    if (!text) return;
    // Files written by editors and `echo` end in a newline.
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  } else if (inline_value && !inline_value->empty()) {
    text = *inline_value;
  }
  databroker.storage_connection_setting = key;
  if (databroker.change_log_retention <= Duration::zero()) {
    ctx_.error("databroker_change_log_retention", "must be a positive duration");
  }
  if (databroker.storage_type == "memory") {
    if (text) databroker.storage_connection_string = std::move(*text);
    return;
  }
  if (!text || text->empty()) {
    ctx_.error(key, "required when databroker_storage_type is " + databroker.storage_type);
    return;
  }
  if (databroker.storage_type == "file") {
    std::string path = *text;
    if (startsWith(path, "file://")) path = path.substr(7);
    if (path.empty()) {
      ctx_.error(key, "expected a file path or a file:// URL");
      return;
    }
    databroker.storage_connection_string = ctx_.resolvePath(path);
    return;
  }
  // postgres: a libpq URI or key=value pairs; libpq checks the rest when
  // the databroker connects.
  if (!startsWith(*text, "postgres://") && !startsWith(*text, "postgresql://") &&
      text->find('=') == std::string::npos) {
    ctx_.error(key, "expected a postgres:// or postgresql:// URI or libpq key=value pairs");
    return;
  }
  databroker.storage_connection_string = std::move(*text);
}

void OptionsBuilder::finishSecret(std::string_view name,
                                  const std::optional<std::string>& inline_value,
                                  const std::optional<std::string>& file, std::string& out,
                                  bool& generated, bool required) {
  std::string file_key = std::string(name) + "_file";
  std::string key(name);
  std::optional<std::string> text;
  if (file && !file->empty()) {
    if (inline_value && !inline_value->empty()) {
      ctx_.warn(name, "ignored because " + file_key + " is set");
    }
    text = ctx_.readFile(file_key, *file);
    if (!text) return;
    // Files written by editors and `echo` end in a newline.
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    key = file_key;
  } else if (inline_value && !inline_value->empty()) {
    text = *inline_value;
  }

  if (!text) {
    if (required) {
      ctx_.error(name, "required when services is not \"all\"");
      return;
    }
    if (!ctx_.errors().empty()) return;  // the load fails anyway
    std::string problem;
    auto random = readUrandom(32, problem);
    if (!random) {
      ctx_.error(name, "not set, and a random one cannot be generated: " + problem);
      return;
    }
    out = std::move(*random);
    generated = true;
    ctx_.warn(name, "not set; generated a random one, so sessions will not survive a restart");
    return;
  }

  if (text->find_first_of(" \t\r\n") != std::string::npos) {
    ctx_.error(key, "must not contain whitespace");
    return;
  }
  auto decoded = base64Decode(*text);
  if (!decoded) {
    ctx_.error(key, "must be base64 of 32 bytes (not valid base64)");
    return;
  }
  if (decoded->size() != 32) {
    ctx_.error(key, "must be base64 of 32 bytes (got " + std::to_string(decoded->size()) + ")");
    return;
  }
  out = std::move(*decoded);
}

}  // namespace gatehouse::config

#include "config/route_parser.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "common/strings.h"
#include "config/url.h"

namespace gatehouse::config {
namespace {

// One route while it is being read: the route itself plus what later checks
// need to know about which keys were present.
struct RouteBuilder {
  RouteBuilder(ParseContext& c, Route& r, std::string p) : ctx(c), route(r), path(std::move(p)) {}

  ParseContext& ctx;
  Route& route;
  std::string path;  // "routes[3]"

  bool has_to = false;
  bool has_redirect = false;
  bool has_response = false;
  bool has_policy = false;
  bool has_regex_rewrite_substitution = false;
  std::string tls_upstream_server_name;
  std::optional<std::string> tls_custom_ca;
  std::optional<std::string> tls_custom_ca_file;
  std::optional<std::string> tls_client_cert;
  std::optional<std::string> tls_client_key;
  std::optional<std::string> tls_client_cert_file;
  std::optional<std::string> tls_client_key_file;
  std::optional<std::string> kubernetes_token;
  std::optional<std::string> kubernetes_token_file;

  std::string keyPath(std::string_view key) const { return path + "." + std::string(key); }
};

using RouteHandler = void (*)(RouteBuilder&, std::string_view key, const Value&);

struct RouteKey {
  std::string_view name;
  RouteHandler handle;
};

// Route keys Pomerium removed; using one is an error, as in Pomerium
// (config/options_check.go).
struct RemovedRouteKey {
  std::string_view name;
  std::string_view hint;
};
constexpr RemovedRouteKey kRemovedRouteKeys[] = {
    {"allowed_groups", "use a policy with a groups criterion"},
    {"set_authorization_header", "use set_request_headers with ${pomerium.id_token}"},
};

// Route keys kept as they are for later features.
struct ExtraRouteKey {
  std::string_view name;
  ExtraKind kind;
};
constexpr ExtraRouteKey kExtraRouteKeys[] = {
    {"regex_priority_order", ExtraKind::kInt},
    {"logo_url", ExtraKind::kString},
    {"idp_client_id", ExtraKind::kString},
    {"idp_client_secret", ExtraKind::kString},
    {"idp_access_token_allowed_audiences", ExtraKind::kList},
    {"identity_providers", ExtraKind::kList},
    {"jwt_issuer_format", ExtraKind::kString},
    {"jwt_groups_filter", ExtraKind::kList},
    {"bearer_token_format", ExtraKind::kString},
    {"tls_downstream_server_name", ExtraKind::kString},
    {"tls_downstream_client_ca", ExtraKind::kString},
    {"tls_downstream_client_ca_file", ExtraKind::kPath},
    {"tls_upstream_allow_renegotiation", ExtraKind::kBool},
    {"host_path_regex_rewrite_pattern", ExtraKind::kString},
    {"host_path_regex_rewrite_substitution", ExtraKind::kString},
    {"enable_google_cloud_serverless_authentication", ExtraKind::kBool},
    {"allow_upgrades", ExtraKind::kList},
    {"load_balancing_policy", ExtraKind::kString},
    {"outlier_detection", ExtraKind::kAny},
    {"health_checks", ExtraKind::kAny},
    {"healthy_panic_threshold", ExtraKind::kInt},
    {"circuit_breaker_thresholds", ExtraKind::kAny},
    {"sub_policies", ExtraKind::kAny},
    {"mcp", ExtraKind::kAny},
    {"upstream_tunnel", ExtraKind::kAny},
    {"session_recording", ExtraKind::kAny},
    // Envoy cluster fields Pomerium accepts inline on a route.
    {"connect_timeout", ExtraKind::kDuration},
    {"lb_policy", ExtraKind::kString},
    {"dns_lookup_family", ExtraKind::kString},
    {"dns_refresh_rate", ExtraKind::kAny},
    {"respect_dns_ttl", ExtraKind::kBool},
    {"per_connection_buffer_limit_bytes", ExtraKind::kAny},
    {"max_requests_per_connection", ExtraKind::kAny},
    {"common_lb_config", ExtraKind::kAny},
    {"ring_hash_lb_config", ExtraKind::kAny},
    {"maglev_lb_config", ExtraKind::kAny},
    {"least_request_lb_config", ExtraKind::kAny},
    {"round_robin_lb_config", ExtraKind::kAny},
    {"circuit_breakers", ExtraKind::kAny},
    {"upstream_connection_options", ExtraKind::kAny},
    {"typed_extension_protocol_options", ExtraKind::kAny},
    {"close_connections_on_host_health_failure", ExtraKind::kBool},
    {"ignore_health_on_host_removal", ExtraKind::kBool},
    {"track_timeout_budgets", ExtraKind::kBool},
};

// Handlers for keys that map straight onto one Route field.
template <std::string Route::*kField>
void stringKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto s = b.ctx.readString(v)) b.route.*kField = std::move(*s);
}
template <bool Route::*kField>
void boolKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto flag = b.ctx.readBool(v)) b.route.*kField = *flag;
}
template <std::optional<bool> Route::*kField>
void optionalBoolKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto flag = b.ctx.readBool(v)) b.route.*kField = *flag;
}
template <std::vector<std::string> Route::*kField>
void listKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto list = b.ctx.readStringList(v)) b.route.*kField = std::move(*list);
}
template <std::vector<HeaderValue> Route::*kField>
void headersKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto headers = b.ctx.readHeaderMap(v)) b.route.*kField = std::move(*headers);
}
template <std::optional<Duration> Route::*kField>
void durationKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto d = b.ctx.readDuration(v)) b.route.*kField = *d;
}
// Keys whose value is checked once the whole route is read (pairs and
// alternatives such as tls_client_cert / tls_client_cert_file).
template <std::optional<std::string> RouteBuilder::*kField>
void pendingKey(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto s = b.ctx.readString(v)) b.*kField = std::move(*s);
}

// from: https://host[:port] with no path; `*.` as the first label makes a
// wildcard route. The port is kept in `from` but ignored for matching, as
// Pomerium does by default (runtime flag match_any_incoming_port).
void parseFrom(RouteBuilder& b, std::string_view, const Value& v) {
  auto text = b.ctx.readString(v);
  if (!text) return;
  b.route.from = *text;
  auto url = parseUrl(trim(*text));
  if (!url.ok()) {
    b.ctx.error(v.path, url.error().message);
    return;
  }
  if (url->scheme != "https" && url->scheme != "http") {
    b.ctx.error(v.path, "scheme " + quote(url->scheme) + " is not supported (use https or http)");
    return;
  }
  if (url->has_userinfo || url->has_query || url->has_fragment) {
    b.ctx.error(v.path, quote(*text) + " must not have user info, a query or a fragment");
    return;
  }
  if (!url->path.empty() && url->path != "/") {
    b.ctx.error(v.path, quote(*text) +
                            " must not have a path; match paths with prefix, path "
                            "or regex instead");
    return;
  }
  std::string_view host = url->host;
  std::string_view rest = startsWith(host, "*.") ? host.substr(2) : host;
  if (rest.find('*') != std::string_view::npos || rest.empty()) {
    b.ctx.error(v.path, "a wildcard is only allowed as the whole first label (*.example.com)");
    return;
  }
  b.route.from_scheme = url->scheme;
  b.route.from_host = url->host;
}

std::optional<UpstreamUrl> parseUpstream(RouteBuilder& b, const std::string& path,
                                         std::string_view entry) {
  entry = trim(entry);
  UpstreamUrl upstream;
  // "URL,weight": a URL has no other comma in practice.
  if (size_t comma = entry.rfind(','); comma != std::string_view::npos) {
    std::string_view weight = trim(entry.substr(comma + 1));
    auto number = parseUint(weight);
    if (!number || *number == 0 || *number > UINT32_MAX) {
      b.ctx.error(path, "weight " + quote(weight) + " is not a positive integer");
      return std::nullopt;
    }
    upstream.weight = static_cast<uint32_t>(*number);
    entry = trim(entry.substr(0, comma));
  }
  auto url = parseUrl(entry);
  if (!url.ok()) {
    b.ctx.error(path, url.error().message);
    return std::nullopt;
  }
  if (url->scheme != "http" && url->scheme != "https" && url->scheme != "h2c") {
    b.ctx.error(path, "scheme " + quote(url->scheme) + " is not one of http, https, h2c");
    return std::nullopt;
  }
  if (url->has_userinfo || url->has_query || url->has_fragment) {
    b.ctx.error(path, quote(entry) + " must not have user info, a query or a fragment");
    return std::nullopt;
  }
  if (url->host.find('*') != std::string::npos) {
    b.ctx.error(path, quote(entry) + " must not have a wildcard host");
    return std::nullopt;
  }
  upstream.scheme = url->scheme;
  upstream.host = url->host;
  upstream.port = url->port.value_or(url->scheme == "https" ? 443 : 80);
  upstream.path = url->path;
  upstream.text = std::string(entry);
  return upstream;
}

// to: one URL or a list, each "URL" or "URL,weight".
void parseTo(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  b.has_to = true;
  if (v.node.isScalar()) {
    if (auto upstream = parseUpstream(b, v.path, v.node.scalar())) {
      b.route.to.push_back(std::move(*upstream));
    }
    return;
  }
  if (!v.node.isSequence()) {
    b.ctx.error(v.path, "expected a URL or a list of URLs");
    return;
  }
  for (size_t i = 0; i < v.node.size(); ++i) {
    std::string path = v.path + "[" + std::to_string(i) + "]";
    const YamlNode item = v.node[i];
    if (!item.isScalar()) {
      b.ctx.error(path, "expected a URL");
      continue;
    }
    if (auto upstream = parseUpstream(b, path, item.scalar())) {
      b.route.to.push_back(std::move(*upstream));
    }
  }
  if (v.node.size() == 0) b.ctx.error(v.path, "must list at least one URL");
}

void parseRedirect(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  b.has_redirect = true;
  RedirectAction redirect;
  bool has_https = false;
  bool has_scheme = false;
  bool has_path = false;
  for (auto& [key, entry] : b.ctx.mapEntries(v)) {
    Value item{entry.node, v.path + "." + entry.key};
    if (key == "https_redirect") {
      has_https = true;
      if (auto flag = b.ctx.readBool(item)) redirect.https_redirect = *flag;
    } else if (key == "scheme_redirect") {
      has_scheme = true;
      if (auto s = b.ctx.readString(item)) redirect.scheme_redirect = toLower(*s);
    } else if (key == "host_redirect") {
      if (auto s = b.ctx.readString(item)) redirect.host_redirect = *s;
    } else if (key == "port_redirect") {
      if (auto port = b.ctx.readUint(item, 1, 65535)) {
        redirect.port_redirect = static_cast<uint32_t>(*port);
      }
    } else if (key == "path_redirect") {
      has_path = true;
      if (auto s = b.ctx.readString(item)) redirect.path_redirect = *s;
    } else if (key == "prefix_rewrite") {
      if (auto s = b.ctx.readString(item)) {
        redirect.prefix_rewrite = *s;
        redirect.has_prefix_rewrite = true;
      }
    } else if (key == "response_code") {
      if (auto code = b.ctx.readUint(item, 0, 999)) {
        if (*code == 301 || *code == 302 || *code == 303 || *code == 307 || *code == 308) {
          redirect.response_code = static_cast<int>(*code);
        } else {
          b.ctx.error(item.path, "unsupported redirect response code " + std::to_string(*code) +
                                     " (use 301, 302, 303, 307 or 308)");
        }
      }
    } else if (key == "strip_query") {
      if (auto flag = b.ctx.readBool(item)) redirect.strip_query = *flag;
    } else {
      b.ctx.unknownKey(item.path);
    }
  }
  // Envoy takes one scheme rewrite and one path rewrite; Pomerium silently
  // picks one, which hides a mistake.
  if (has_https && has_scheme) {
    b.ctx.error(v.path, "set only one of https_redirect and scheme_redirect");
  }
  if (has_path && redirect.has_prefix_rewrite) {
    b.ctx.error(v.path, "set only one of path_redirect and prefix_rewrite");
  }
  b.route.redirect = std::move(redirect);
}

void parseResponse(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  b.has_response = true;
  DirectResponse response;
  for (auto& [key, entry] : b.ctx.mapEntries(v)) {
    Value item{entry.node, v.path + "." + entry.key};
    if (key == "status") {
      if (auto status = b.ctx.readUint(item, 100, 599)) response.status = static_cast<int>(*status);
    } else if (key == "body") {
      if (auto body = b.ctx.readString(item)) response.body = *body;
    } else {
      b.ctx.unknownKey(item.path);
    }
  }
  b.route.response = std::move(response);
}

void parseRewriteResponseHeaders(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  if (!v.node.isSequence()) {
    b.ctx.error(v.path, "expected a list of {header, prefix, value}");
    return;
  }
  for (size_t i = 0; i < v.node.size(); ++i) {
    Value item{v.node[i], v.path + "[" + std::to_string(i) + "]"};
    if (!item.node.isMap()) {
      b.ctx.error(item.path, "expected a map with header, prefix and value");
      continue;
    }
    RewriteResponseHeader rewrite;
    for (auto& [key, entry] : b.ctx.mapEntries(item)) {
      Value field{entry.node, item.path + "." + entry.key};
      if (key == "header") {
        if (auto s = b.ctx.readString(field)) rewrite.header = *s;
      } else if (key == "prefix") {
        if (auto s = b.ctx.readString(field)) rewrite.prefix = *s;
      } else if (key == "value") {
        if (auto s = b.ctx.readString(field)) rewrite.value = *s;
      } else {
        b.ctx.unknownKey(field.path);
      }
    }
    if (rewrite.header.empty()) {
      b.ctx.error(item.path + ".header", "required");
      continue;
    }
    if (rewrite.value.find_first_of("\r\n") != std::string::npos) {
      b.ctx.error(item.path + ".value", "must not contain CR or LF");
      continue;
    }
    b.route.rewrite_response_headers.push_back(std::move(rewrite));
  }
}

// allowed_idp_claims: claim name -> list of accepted values (a single value
// is a list of one).
void parseAllowedIdpClaims(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  if (!v.node.isMap()) {
    b.ctx.error(v.path, "expected a map of claim names to lists of values");
    return;
  }
  for (const auto& item : v.node.entries()) {
    if (!item.first.isScalar()) {
      b.ctx.error(v.path, "claim names must be strings");
      continue;
    }
    Value values{item.second, v.path + "." + item.first.scalar()};
    std::vector<std::string> list;
    if (values.node.isScalar()) {
      list.push_back(values.node.scalar());
    } else if (auto parsed = b.ctx.readStringList(values)) {
      list = std::move(*parsed);
    } else {
      continue;
    }
    b.route.allowed_idp_claims[item.first.scalar()] = std::move(list);
  }
}

void parsePolicy(RouteBuilder& b, std::string_view, const Value& v) {
  if (!v.node.isDefined() || v.node.isNull()) return;
  if (!v.node.isMap() && !v.node.isSequence()) {
    b.ctx.error(v.path, "expected a policy rule or a list of rules");
    return;
  }
  if (auto json = b.ctx.readJson(v)) {
    b.route.policy_json = std::move(*json);
    b.has_policy = true;
  }
}

void parseDependsOn(RouteBuilder& b, std::string_view key, const Value& v) {
  auto list = b.ctx.readStringList(v);
  if (!list) return;
  if (list->size() > 5) {
    b.ctx.error(v.path, "at most 5 hosts are allowed (got " + std::to_string(list->size()) + ")");
    return;
  }
  std::string joined;
  for (std::string& host : *list) {
    // Pomerium accepts a URL and keeps its host.
    if (host.find('/') != std::string::npos) {
      auto url = parseUrl(host);
      if (!url.ok()) {
        b.ctx.error(v.path, "unsupported value " + quote(host));
        return;
      }
      host = url->host;
    }
    if (!joined.empty()) joined += ',';
    joined += host;
  }
  b.route.extra[std::string(key)] = joined;
}

void parsePrefixRewrite(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto s = b.ctx.readString(v)) {
    b.route.prefix_rewrite = std::move(*s);
    // Pomerium treats an empty prefix_rewrite as unset.
    b.route.has_prefix_rewrite = !b.route.prefix_rewrite.empty();
  }
}

void parseRegexRewriteSubstitution(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto s = b.ctx.readString(v)) {
    b.route.regex_rewrite_substitution = std::move(*s);
    b.has_regex_rewrite_substitution = true;  // "" is a valid substitution
  }
}

// Pomerium: a `disable` key among a route's response headers turns off the
// global and the route's response headers for that route.
void parseSetResponseHeaders(RouteBuilder& b, std::string_view, const Value& v) {
  auto headers = b.ctx.readHeaderMap(v);
  if (!headers) return;
  bool disable = std::any_of(headers->begin(), headers->end(),
                             [](const HeaderValue& h) { return iequals(h.name, "disable"); });
  if (disable) {
    b.route.disable_response_headers = true;
    headers->clear();
  }
  b.route.set_response_headers = std::move(*headers);
}

void parseTlsUpstreamServerName(RouteBuilder& b, std::string_view, const Value& v) {
  if (auto s = b.ctx.readString(v)) b.tls_upstream_server_name = std::move(*s);
}

// The table of route keys: adding a key is one line here.
constexpr RouteKey kRouteKeys[] = {
    {"from", parseFrom},
    {"to", parseTo},
    {"redirect", parseRedirect},
    {"response", parseResponse},
    {"name", stringKey<&Route::name>},
    {"description", stringKey<&Route::description>},
    {"prefix", stringKey<&Route::prefix>},
    {"path", stringKey<&Route::path>},
    {"regex", stringKey<&Route::regex>},
    {"prefix_rewrite", parsePrefixRewrite},
    {"regex_rewrite_pattern", stringKey<&Route::regex_rewrite_pattern>},
    {"regex_rewrite_substitution", parseRegexRewriteSubstitution},
    {"host_rewrite", stringKey<&Route::host_rewrite>},
    {"host_rewrite_header", stringKey<&Route::host_rewrite_header>},
    {"preserve_host_header", boolKey<&Route::preserve_host_header>},
    {"set_request_headers", headersKey<&Route::set_request_headers>},
    {"remove_request_headers", listKey<&Route::remove_request_headers>},
    {"set_response_headers", parseSetResponseHeaders},
    {"rewrite_response_headers", parseRewriteResponseHeaders},
    {"timeout", durationKey<&Route::timeout>},
    {"idle_timeout", durationKey<&Route::idle_timeout>},
    {"allow_websockets", boolKey<&Route::allow_websockets>},
    {"allow_spdy", boolKey<&Route::allow_spdy>},
    {"tls_skip_verify", boolKey<&Route::tls_skip_verify>},
    {"tls_server_name", stringKey<&Route::tls_server_name>},
    {"tls_upstream_server_name", parseTlsUpstreamServerName},
    {"tls_custom_ca", pendingKey<&RouteBuilder::tls_custom_ca>},
    {"tls_custom_ca_file", pendingKey<&RouteBuilder::tls_custom_ca_file>},
    {"tls_client_cert", pendingKey<&RouteBuilder::tls_client_cert>},
    {"tls_client_key", pendingKey<&RouteBuilder::tls_client_key>},
    {"tls_client_cert_file", pendingKey<&RouteBuilder::tls_client_cert_file>},
    {"tls_client_key_file", pendingKey<&RouteBuilder::tls_client_key_file>},
    {"kubernetes_service_account_token", pendingKey<&RouteBuilder::kubernetes_token>},
    {"kubernetes_service_account_token_file", pendingKey<&RouteBuilder::kubernetes_token_file>},
    {"allow_public_unauthenticated_access", boolKey<&Route::allow_public_unauthenticated_access>},
    {"allow_any_authenticated_user", boolKey<&Route::allow_any_authenticated_user>},
    {"cors_allow_preflight", boolKey<&Route::cors_allow_preflight>},
    {"allowed_users", listKey<&Route::allowed_users>},
    {"allowed_domains", listKey<&Route::allowed_domains>},
    {"allowed_idp_claims", parseAllowedIdpClaims},
    {"policy", parsePolicy},
    {"pass_identity_headers", optionalBoolKey<&Route::pass_identity_headers>},
    {"show_error_details", boolKey<&Route::show_error_details>},
    {"depends_on", parseDependsOn},
};

// Cross-key rules, after every key of the route was read.
void validateRoute(RouteBuilder& b) {
  ParseContext& ctx = b.ctx;
  Route& r = b.route;

  if (r.from.empty()) ctx.error(b.keyPath("from"), "required");

  int actions = int{b.has_to} + int{b.has_redirect} + int{b.has_response};
  if (actions != 1) {
    ctx.error(b.path, "exactly one of to, redirect and response must be set");
  }

  int matchers = int{!r.prefix.empty()} + int{!r.path.empty()} + int{!r.regex.empty()};
  if (matchers > 1) ctx.error(b.path, "set only one of prefix, path and regex");
  if (!r.prefix.empty() && r.prefix.front() != '/') {
    ctx.error(b.keyPath("prefix"), "must start with \"/\"");
  }
  if (!r.path.empty() && r.path.front() != '/') {
    ctx.error(b.keyPath("path"), "must start with \"/\"");
  }

  // Compile the regular expressions here too, so that `validate` reports
  // them with every other problem (the route table compiles its own).
  for (auto [key, pattern] : {std::pair<const char*, const std::string*>{"regex", &r.regex},
                              {"regex_rewrite_pattern", &r.regex_rewrite_pattern}}) {
    if (pattern->empty()) continue;
    re2::RE2::Options re_options;
    re_options.set_log_errors(false);
    re2::RE2 compiled(*pattern, re_options);
    if (!compiled.ok())
      ctx.error(b.keyPath(key), "invalid regular expression: " + compiled.error());
  }

  if (r.has_prefix_rewrite && !r.regex_rewrite_pattern.empty()) {
    ctx.error(b.path, "set only one of prefix_rewrite and regex_rewrite_pattern");
  }
  if (!r.regex_rewrite_pattern.empty() != b.has_regex_rewrite_substitution) {
    ctx.error(b.path, "regex_rewrite_pattern and regex_rewrite_substitution must be set together");
  }
  // Pomerium: a path in the (first) `to` URL is a prefix rewrite unless
  // another rewrite is configured.
  if (!r.has_prefix_rewrite && r.regex_rewrite_pattern.empty() && !r.to.empty() &&
      !r.to.front().path.empty()) {
    r.prefix_rewrite = r.to.front().path;
    r.has_prefix_rewrite = true;
    for (size_t i = 1; i < r.to.size(); ++i) {
      if (r.to[i].path != r.to.front().path) {
        ctx.warn(b.keyPath("to"), "only the first URL's path (" + quote(r.to.front().path) +
                                      ") is used as the prefix rewrite");
        break;
      }
    }
  }

  // tls_upstream_server_name is the newer name and wins, as in Pomerium.
  if (!b.tls_upstream_server_name.empty()) r.tls_server_name = b.tls_upstream_server_name;

  if (b.tls_custom_ca && b.tls_custom_ca_file) {
    ctx.error(b.path, "set only one of tls_custom_ca and tls_custom_ca_file");
  } else if (b.tls_custom_ca) {
    if (auto pem = ctx.decodeBase64Pem(b.keyPath("tls_custom_ca"), *b.tls_custom_ca)) {
      r.tls_custom_ca_pem = std::move(*pem);
    }
  } else if (b.tls_custom_ca_file) {
    if (auto pem = ctx.readFile(b.keyPath("tls_custom_ca_file"), *b.tls_custom_ca_file)) {
      if (looksLikePem(*pem)) {
        r.tls_custom_ca_pem = std::move(*pem);
      } else {
        ctx.error(b.keyPath("tls_custom_ca_file"),
                  quote(ctx.resolvePath(*b.tls_custom_ca_file)) + " does not contain PEM data");
      }
    }
  }

  bool inline_pair = b.tls_client_cert || b.tls_client_key;
  bool file_pair = b.tls_client_cert_file || b.tls_client_key_file;
  if (inline_pair && file_pair) {
    ctx.error(b.path,
              "set either tls_client_cert and tls_client_key or tls_client_cert_file and "
              "tls_client_key_file");
  } else if (inline_pair) {
    if (!b.tls_client_cert || !b.tls_client_key) {
      ctx.error(b.path, "tls_client_cert and tls_client_key must be set together");
    } else {
      auto cert = ctx.decodeBase64Pem(b.keyPath("tls_client_cert"), *b.tls_client_cert);
      auto key = ctx.decodeBase64Pem(b.keyPath("tls_client_key"), *b.tls_client_key);
      if (cert && key) {
        r.tls_client_cert_pem = std::move(*cert);
        r.tls_client_key_pem = std::move(*key);
      }
    }
  } else if (file_pair) {
    if (!b.tls_client_cert_file || !b.tls_client_key_file) {
      ctx.error(b.path, "tls_client_cert_file and tls_client_key_file must be set together");
    } else {
      auto cert = ctx.readFile(b.keyPath("tls_client_cert_file"), *b.tls_client_cert_file);
      auto key = ctx.readFile(b.keyPath("tls_client_key_file"), *b.tls_client_key_file);
      if (cert && !looksLikePem(*cert)) {
        ctx.error(b.keyPath("tls_client_cert_file"),
                  quote(ctx.resolvePath(*b.tls_client_cert_file)) + " does not contain PEM data");
      } else if (key && !looksLikePem(*key)) {
        ctx.error(b.keyPath("tls_client_key_file"),
                  quote(ctx.resolvePath(*b.tls_client_key_file)) + " does not contain PEM data");
      } else if (cert && key) {
        r.tls_client_cert_pem = std::move(*cert);
        r.tls_client_key_pem = std::move(*key);
      }
    }
  }

  if (b.kubernetes_token && b.kubernetes_token_file) {
    ctx.error(b.path,
              "set only one of kubernetes_service_account_token and "
              "kubernetes_service_account_token_file");
  } else if (b.kubernetes_token) {
    r.extra["kubernetes_service_account_token"] = *b.kubernetes_token;
  } else if (b.kubernetes_token_file) {
    // Read per request by its user (the token rotates), so only resolved here.
    std::string absolute = ctx.resolvePath(*b.kubernetes_token_file);
    ctx.watchFile(absolute);
    r.extra["kubernetes_service_account_token_file"] = absolute;
  }

  // Pomerium's Policy.Validate: a public route cannot also restrict who may
  // use it, or the restriction would silently do nothing.
  if (r.allow_public_unauthenticated_access) {
    std::vector<std::string_view> conflicts;
    if (!r.allowed_users.empty()) conflicts.push_back("allowed_users");
    if (!r.allowed_domains.empty()) conflicts.push_back("allowed_domains");
    if (!r.allowed_idp_claims.empty()) conflicts.push_back("allowed_idp_claims");
    if (b.has_policy) conflicts.push_back("policy");
    if (r.allow_any_authenticated_user) conflicts.push_back("allow_any_authenticated_user");
    if (!conflicts.empty()) {
      std::string names;
      for (auto name : conflicts) {
        if (!names.empty()) names += ", ";
        names += name;
      }
      ctx.error(b.path, "allow_public_unauthenticated_access cannot be combined with " + names);
    }
  }
  if (r.allow_any_authenticated_user && !r.allow_public_unauthenticated_access &&
      (!r.allowed_users.empty() || !r.allowed_domains.empty())) {
    ctx.error(b.path,
              "allow_any_authenticated_user cannot be combined with allowed_users or "
              "allowed_domains");
  }

  r.id = routeId(r);
  // Envoy's default match when no path matcher is given.
  if (r.prefix.empty() && r.path.empty() && r.regex.empty()) r.prefix = "/";
}

class Fnv1a {
 public:
  void bytes(std::string_view data) {
    for (unsigned char c : data) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  void number(uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      unsigned char c = static_cast<unsigned char>(value >> (i * 8));
      bytes(std::string_view(reinterpret_cast<const char*>(&c), 1));
    }
  }
  // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
  void text(std::string_view data) {
    number(data.size());
    bytes(data);
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string routeId(const Route& route) {
  Fnv1a h;
  h.text(route.from);
  h.text(route.prefix);
  h.text(route.path);
  h.text(route.regex);
  if (!route.to.empty()) {
    h.number(1);
    h.number(route.to.size());
    for (const UpstreamUrl& to : route.to) {
      h.text(to.scheme);
      h.text(to.host);
      h.number(to.port);
      h.text(to.path);
      h.number(to.weight);
    }
  } else if (route.redirect) {
    const RedirectAction& r = *route.redirect;
    h.number(2);
    h.number(r.https_redirect);
    h.text(r.scheme_redirect);
    h.text(r.host_redirect);
    h.number(r.port_redirect);
    h.text(r.path_redirect);
    h.number(r.has_prefix_rewrite);
    h.text(r.prefix_rewrite);
    h.number(static_cast<uint64_t>(r.response_code));
    h.number(r.strip_query);
  } else if (route.response) {
    h.number(3);
    h.number(static_cast<uint64_t>(route.response->status));
    h.text(route.response->body);
  }
  std::string hex(16, '0');
  uint64_t value = h.value();
  for (size_t i = 16; i-- > 0; value >>= 4) hex[i] = "0123456789abcdef"[value & 0xf];
  return hex;
}

std::vector<Route> parseRoutes(ParseContext& ctx, const Value& routes) {
  std::vector<Route> out;
  if (!routes.node.isDefined() || routes.node.isNull()) return out;
  if (!routes.node.isSequence()) {
    ctx.error(routes.path, "expected a list of routes");
    return out;
  }
  out.reserve(routes.node.size());
  for (size_t i = 0; i < routes.node.size(); ++i) {
    Route route;
    route.index = i;
    RouteBuilder builder{ctx, route, routes.path + "[" + std::to_string(i) + "]"};
    Value entry{routes.node[i], builder.path};
    if (!entry.node.isMap()) {
      ctx.error(builder.path, "expected a map with from and to");
      continue;
    }
    for (auto& [lower_key, item] : ctx.mapEntries(entry)) {
      const std::string& key = lower_key;  // lambdas cannot capture a structured binding
      Value value{item.node, builder.keyPath(item.key)};
      auto known = std::find_if(std::begin(kRouteKeys), std::end(kRouteKeys),
                                [&](const RouteKey& k) { return k.name == key; });
      if (known != std::end(kRouteKeys)) {
        known->handle(builder, key, value);
        continue;
      }
      auto extra = std::find_if(std::begin(kExtraRouteKeys), std::end(kExtraRouteKeys),
                                [&](const ExtraRouteKey& k) { return k.name == key; });
      if (extra != std::end(kExtraRouteKeys)) {
        if (auto text = ctx.readExtra(value, extra->kind)) route.extra[key] = std::move(*text);
        continue;
      }
      auto removed = std::find_if(std::begin(kRemovedRouteKeys), std::end(kRemovedRouteKeys),
                                  [&](const RemovedRouteKey& k) { return k.name == key; });
      if (removed != std::end(kRemovedRouteKeys)) {
        ctx.error(value.path, "config option was removed; " + std::string(removed->hint));
        continue;
      }
      ctx.unknownKey(value.path);
    }
    validateRoute(builder);
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace gatehouse::config

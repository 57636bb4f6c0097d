#include "proxy/route_table.h"

#include <re2/re2.h>

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "metrics/request_metrics.h"

namespace gatehouse::proxy {
namespace {

bool isWildcardHost(std::string_view host) { return host.size() > 1 && host.substr(0, 2) == "*."; }

// Route regexes are written by administrators, not clients, but a bad one
// must fail the config load with its key rather than log from inside RE2.
Result<std::unique_ptr<re2::RE2>> compileRegex(const std::string& pattern, size_t route_index,
                                               std::string_view key) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<re2::RE2>(pattern, options);
  if (!regex->ok()) {
    return Error::invalid("routes[" + std::to_string(route_index) + "]." + std::string(key) + ": " +
                          regex->error());
  }
  return regex;
}

bool routeMatchesPath(const CompiledRoute& route, std::string_view path) {
  // Precedence as in Pomerium's mkRouteMatch: regex, then path, then prefix.
  if (route.has_match_regex) {
    // FullMatch anchors both ends, as Envoy's safe_regex route match does.
    return re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *route.match_regex);
  }
  if (route.exact_path) return path == route.match_text;
  return path.substr(0, route.match_text.size()) == route.match_text;
}

// Appends to `out` the indexes in `add` that are not in it, then restores
// config order. Lists here are short (the routes of one host).
void mergeInConfigOrder(std::vector<uint32_t>& out, const std::vector<uint32_t>& add) {
  out.insert(out.end(), add.begin(), add.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

}  // namespace

template <typename Fn>
void RouteTable::forEachWildcardSuffix(std::string_view host, Fn&& fn) const {
  if (wildcard_.empty()) return;
  // "a.b.example.com" -> "*.b.example.com", "*.example.com", "*.com": every
  // '.' starts a suffix that a "*." pattern can cover ("*" matches one or
  // more labels, like Pomerium's WildcardToRegex).
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    const auto it = wildcard_.find(host.substr(dot));
    if (it != wildcard_.end()) fn(it->second);
  }
}

Duration CompiledRoute::timeoutValue() const { return timeout_value; }
Duration CompiledRoute::idleTimeoutValue() const { return idle_timeout_value; }

RouteTable::~RouteTable() = default;

Result<std::unique_ptr<RouteTable>> RouteTable::create(const std::vector<config::Route>& routes) {
  std::unique_ptr<RouteTable> table(new RouteTable());
  table->routes_.reserve(routes.size());
  // Routes that send to the same upstream share one copy of it: with many
  // routes, a request then reads an upstream that other requests keep in
  // the cache rather than one inside its own route's configuration.
  std::unordered_map<std::string, const config::UpstreamUrl*> upstreams;
  auto shared = [&](const config::UpstreamUrl& to) {
    std::string key = to.text;
    key += '\n';
    key += to.scheme;
    key += '|';
    key += to.host;
    key += '|';
    key += std::to_string(to.port);
    key += '|';
    key += to.path;
    key += '|';
    key += std::to_string(to.weight);
    auto [it, added] = upstreams.try_emplace(std::move(key), nullptr);
    if (added) {
      table->upstreams_.push_back(std::make_unique<const config::UpstreamUrl>(to));
      it->second = table->upstreams_.back().get();
    }
    return it->second;
  };
  for (size_t i = 0; i < routes.size(); ++i) {
    const config::Route& route = routes[i];
    CompiledRoute compiled;
    compiled.config = &route;
    if (!route.regex.empty()) {
      auto regex = compileRegex(route.regex, i, "regex");
      if (!regex.ok()) return regex.error();
      compiled.match_regex = std::move(regex).value();
      compiled.has_match_regex = true;
    }
    if (!route.regex_rewrite_pattern.empty()) {
      auto regex = compileRegex(route.regex_rewrite_pattern, i, "regex_rewrite_pattern");
      if (!regex.ok()) return regex.error();
      compiled.rewrite_regex = std::move(regex).value();
      compiled.has_rewrite_regex = true;
    }
    compiled.index = static_cast<uint32_t>(route.index);
    compiled.redirect_or_response = route.redirect.has_value() || route.response.has_value();
    compiled.allow_websockets = route.allow_websockets;
    for (const config::UpstreamUrl& upstream : route.to) {
      compiled.upstream_tls = compiled.upstream_tls || upstream.scheme == "https";
    }
    compiled.response_headers =
        route.disable_response_headers || !route.set_response_headers.empty();
    compiled.rewrite_response_headers = !route.rewrite_response_headers.empty();
    if (route.to.size() == 1) compiled.single_to = shared(route.to[0]);
    compiled.id = route.id;
    if (!route.tls_server_name.empty()) {
      compiled.tls_server_name = &route.tls_server_name;
      compiled.has_tls_server_name = true;
    }
    compiled.has_timeout = route.timeout.has_value();
    compiled.timeout_value = route.timeout.value_or(Duration{});
    compiled.has_idle_timeout = route.idle_timeout.has_value();
    compiled.idle_timeout_value = route.idle_timeout.value_or(Duration{});
    const std::string& label = route.name.empty() ? route.id : route.name;
    compiled.metrics_label_data = label.data();
    compiled.metrics_label_length = static_cast<uint8_t>(std::min<size_t>(label.size(), 255));
    compiled.metrics_key = metrics::RequestMetrics::routeKey(compiled.metricsLabel());
    compiled.upstream_request_rules = route.preserve_host_header || !route.host_rewrite.empty() ||
                                      !route.host_rewrite_header.empty() ||
                                      !route.remove_request_headers.empty();
    if (!route.prefix_rewrite.empty()) {
      compiled.prefix_rewrite = &route.prefix_rewrite;
    } else if (route.regex_rewrite_pattern.empty() && !route.to.empty() &&
               !route.to.front().path.empty()) {
      compiled.prefix_rewrite = &route.to.front().path;
    }
    compiled.has_prefix_rewrite = compiled.prefix_rewrite != nullptr;
    compiled.exact_path = !route.path.empty();
    compiled.match_text = compiled.exact_path    ? route.path
                          : route.prefix.empty() ? std::string("/")
                                                 : route.prefix;
    uint64_t weight = 0;
    for (const config::UpstreamUrl& upstream : route.to) weight += upstream.weight;
    compiled.total_weight =
        static_cast<uint32_t>(std::min<uint64_t>(weight, std::numeric_limits<uint32_t>::max()));
    table->routes_.push_back(std::move(compiled));

    const auto index = static_cast<uint32_t>(i);
    if (route.from_host == "*") {
      table->any_host_.push_back(index);
    } else if (isWildcardHost(route.from_host)) {
      table->wildcard_[route.from_host.substr(1)].push_back(index);
    }
  }

  // Each exact host also falls back to the wildcard routes that cover it,
  // after its own routes: Pomerium puts an exact host in its own virtual
  // host, which Envoy always prefers to the catch-all holding the wildcard
  // routes, so a wildcard route must never take a request that one of the
  // host's own routes matches, whatever their order in the config.
  HostMap exact;
  for (size_t i = 0; i < routes.size(); ++i) {
    const config::Route& route = routes[i];
    if (route.from_host != "*" && !isWildcardHost(route.from_host)) {
      exact[route.from_host].push_back(static_cast<uint32_t>(i));
    }
  }
  if (!table->wildcard_.empty() || !table->any_host_.empty()) {
    for (auto& [host, candidates] : exact) {
      std::vector<uint32_t> covering;
      table->forEachWildcardSuffix(
          host, [&](const std::vector<uint32_t>& list) { mergeInConfigOrder(covering, list); });
      candidates.insert(candidates.end(), covering.begin(), covering.end());
      candidates.insert(candidates.end(), table->any_host_.begin(), table->any_host_.end());
    }
  }
  table->buildHostIndex(exact);
  return table;
}

void RouteTable::buildHostIndex(const HostMap& exact) {
  size_t capacity = 16;
  while (capacity < exact.size() * 2) capacity *= 2;
  host_slots_.assign(capacity, HostSlot{});
  size_t name_bytes = 0;
  size_t candidate_count = 0;
  for (const auto& [host, candidates] : exact) {
    if (host.size() > HostSlot::kInlineName) name_bytes += host.size();
    if (candidates.size() > 1) candidate_count += candidates.size();
  }
  host_names_.reserve(name_bytes);
  candidates_.reserve(candidate_count);
  for (const auto& [host, candidates] : exact) {
    const uint64_t hash = StringHash{}(host);
    size_t index = hash & (capacity - 1);
    while (host_slots_[index].count != 0) index = (index + 1) & (capacity - 1);
    HostSlot& slot = host_slots_[index];
    slot.hash = hash;
    slot.name_length = static_cast<uint32_t>(host.size());
    if (host.size() <= HostSlot::kInlineName) {
      std::copy(host.begin(), host.end(), slot.name);
    } else {
      slot.name_offset = static_cast<uint32_t>(host_names_.size());
      host_names_ += host;
    }
    slot.count = static_cast<uint32_t>(candidates.size());
    if (candidates.size() == 1) {
      slot.first = candidates.front();
    } else {
      slot.first = static_cast<uint32_t>(candidates_.size());
      candidates_.insert(candidates_.end(), candidates.begin(), candidates.end());
    }
  }
}

const RouteTable::HostSlot* RouteTable::findHost(std::string_view host) const {
  if (host_slots_.empty()) return nullptr;
  const uint64_t hash = StringHash{}(host);
  const size_t mask = host_slots_.size() - 1;
  for (size_t index = hash & mask;; index = (index + 1) & mask) {
    const HostSlot& slot = host_slots_[index];
    if (slot.count == 0) return nullptr;
    if (slot.hash != hash || slot.name_length != host.size()) continue;
    std::string_view name =
        host.size() <= HostSlot::kInlineName
            ? std::string_view(slot.name, host.size())
            : std::string_view(host_names_).substr(slot.name_offset, host.size());
    if (name == host) return &slot;
  }
}

const CompiledRoute* RouteTable::firstMatch(std::span<const uint32_t> candidates,
                                            std::string_view path) const {
  for (const uint32_t index : candidates) {
    if (routeMatchesPath(routes_[index], path)) return &routes_[index];
  }
  return nullptr;
}

const CompiledRoute* RouteTable::match(std::string_view host, std::string_view path) const {
  if (const HostSlot* slot = findHost(host)) {
    if (slot->count == 1) return firstMatch({&slot->first, 1}, path);
    return firstMatch(std::span<const uint32_t>(candidates_).subspan(slot->first, slot->count),
                      path);
  }
  // A host without routes of its own: every covering wildcard pattern is a
  // candidate and the first match in config order wins, as in Pomerium's
  // catch-all virtual host. Each list's first match is found separately and
  // the lowest route index among them is kept, which is the same answer
  // without building a merged list per request.
  const CompiledRoute* best = nullptr;
  forEachWildcardSuffix(host, [&](const std::vector<uint32_t>& list) {
    const CompiledRoute* found = firstMatch(list, path);
    if (found != nullptr && (best == nullptr || found < best)) best = found;
  });
  if (best != nullptr) return best;
  return firstMatch(any_host_, path);
}

}  // namespace gatehouse::proxy

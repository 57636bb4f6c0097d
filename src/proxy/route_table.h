#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/huge_pages.h"
#include "common/result.h"
#include "config/options.h"

namespace re2 {
class RE2;
}

namespace gatehouse::proxy {

// A route with its regular expressions compiled once per snapshot, and a
// copy of what every request on it reads. With thousands of routes picked
// at random, every per-route structure a request touches is a cache miss:
// the common request (one `to`, no redirect, no response header rules)
// reads this record and not the (over a kilobyte) config route.
struct alignas(64) CompiledRoute {
  // The first cache line holds all that a request on a plain route reads
  // (no regex, rewrite, timeout or TLS server name of its own: flags here
  // say so), so that a route picked among thousands costs one miss; the
  // rest after it.
  std::string match_text;  // the `path`, else the `prefix` ("/" when unset)
  uint32_t index = 0;      // config->index
  bool exact_path : 1 = false;  // `path` (else `prefix`)
  // config->redirect or config->response is set: not forwarded.
  bool redirect_or_response : 1 = false;
  bool allow_websockets : 1 = false;
  // An https `to`: the snapshot's upstream_tls[index] holds its context.
  bool upstream_tls : 1 = false;
  // The route's own set_response_headers (or `disable`) and
  // rewrite_response_headers: without them a response reads neither.
  bool response_headers : 1 = false;
  bool rewrite_response_headers : 1 = false;
  // preserve_host_header, host_rewrite, host_rewrite_header or
  // remove_request_headers: the upstream request reads the config route.
  bool upstream_request_rules : 1 = false;
  // Which of the fields after the first line are set.
  bool has_match_regex : 1 = false;
  bool has_rewrite_regex : 1 = false;
  bool has_prefix_rewrite : 1 = false;
  bool has_tls_server_name : 1 = false;
  bool has_timeout : 1 = false;
  bool has_idle_timeout : 1 = false;
  uint8_t metrics_label_length = 0;
  // The only `to` (null with several, or none), so that picking it reads
  // no list: the table's copy, shared by the routes with the same one.
  const config::UpstreamUrl* single_to = nullptr;
  // The route's metrics label (its name, else its id, cut to 255 bytes)
  // and its RequestMetrics::routeKey, hashed once here.
  uint64_t metrics_key = 0;
  const char* metrics_label_data = nullptr;

  // Read when the flags above say so.
  std::unique_ptr<re2::RE2> match_regex;    // `regex`, anchored
  std::unique_ptr<re2::RE2> rewrite_regex;  // `regex_rewrite_pattern`
  // The prefix that replaces the matched part of the path, as Pomerium's
  // getRewriteOptions picks it: `prefix_rewrite`, else (without a regex
  // rewrite) the path of the first `to`.
  const std::string* prefix_rewrite = nullptr;
  const std::string* tls_server_name = nullptr;  // config->tls_server_name
  Duration timeout_value{};                      // config->timeout
  Duration idle_timeout_value{};                 // config->idle_timeout
  // Read rarely.
  std::string_view id;                    // config->id
  const config::Route* config = nullptr;  // owned by the snapshot's Options
  uint32_t total_weight = 0;              // sum of `to` weights

  std::string_view metricsLabel() const { return {metrics_label_data, metrics_label_length}; }
  std::optional<Duration> timeout() const {
    if (!has_timeout) return std::nullopt;
    return timeoutValue();
  }
  std::optional<Duration> idle_timeout() const {
    if (!has_idle_timeout) return std::nullopt;
    return idleTimeoutValue();
  }

 private:
  // Calls, so that the compiler does not read the second cache line
  // before it tests the flag (a select would read both).
  [[gnu::noinline]] Duration timeoutValue() const;
  [[gnu::noinline]] Duration idleTimeoutValue() const;
};

// Maps (host, path) to the first matching route. Hosts are looked up in a
// hash (exact names first, then wildcard suffixes "*.example.com" from the
// most specific), then the candidate routes for that host are tried in
// config order; a host never scans the routes of other hosts.
class RouteTable {
 public:
  // `routes` must outlive the table (both live in one Snapshot).
  // Fails with a message naming the key ("routes[3].regex: ...") if a
  // regular expression does not compile.
  static Result<std::unique_ptr<RouteTable>> create(const std::vector<config::Route>& routes);

  // Out of line: destroying the compiled regexes needs re2::RE2 complete,
  // which users of this header do not have to include.
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // `host`: lower-case, without port. `path`: normalised, without query.
  // Returns null when no route matches.
  const CompiledRoute* match(std::string_view host, std::string_view path) const;

  size_t size() const { return routes_.size(); }
  std::span<const CompiledRoute> routes() const { return routes_; }

 private:
  // Lets the maps be searched with a string_view, so that a lookup on the
  // request path does not allocate.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using HostMap =
      std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>;

  // The exact hosts as one open-addressing table over flat arrays: a
  // lookup reads one slot, which holds the host's name when it is short
  // enough (most are) and its candidate when it has one, instead of a
  // bucket, a node, a heap string and a heap vector.
  struct alignas(64) HostSlot {
    static constexpr size_t kInlineName = 40;
    uint64_t hash = 0;
    // In candidates_; with one candidate (a host with one route, the
    // usual case), that route's index itself, so that no list is read.
    uint32_t first = 0;
    uint32_t count = 0;        // 0: a free slot
    uint32_t name_offset = 0;  // in host_names_, for a name longer than kInlineName
    uint32_t name_length = 0;
    char name[kInlineName] = {};  // a name of at most kInlineName bytes
  };
  void buildHostIndex(const HostMap& exact);
  const HostSlot* findHost(std::string_view host) const;

  RouteTable() = default;
  // Calls `fn` with the candidate list of every wildcard suffix covering
  // `host`, most specific first.
  template <typename Fn>
  void forEachWildcardSuffix(std::string_view host, Fn&& fn) const;
  const CompiledRoute* firstMatch(std::span<const uint32_t> candidates,
                                  std::string_view path) const;

  std::vector<CompiledRoute, HugePageAllocator<CompiledRoute>> routes_;
  // The single_to of the routes, one per distinct upstream.
  std::vector<std::unique_ptr<const config::UpstreamUrl>> upstreams_;
  // Candidate route indexes per exact host: the host's own routes in config
  // order, then the wildcard routes that cover it (in config order), then
  // the "*" routes. host_slots_ has a power-of-two size, at most half full.
  std::vector<HostSlot, HugePageAllocator<HostSlot>> host_slots_;
  std::string host_names_;  // the names longer than HostSlot::kInlineName
  std::vector<uint32_t> candidates_;
  // Per wildcard suffix, keyed without the '*': "*.example.com" is stored
  // under ".example.com".
  HostMap wildcard_;
  // Routes whose from host is "*": any host, after everything else.
  std::vector<uint32_t> any_host_;
};

}  // namespace gatehouse::proxy

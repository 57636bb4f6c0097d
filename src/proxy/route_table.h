#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "config/options.h"

namespace re2 {
class RE2;
}

namespace gatehouse::proxy {

// A route with its regular expressions compiled once per snapshot.
struct CompiledRoute {
  const config::Route* config = nullptr;   // owned by the snapshot's Options
  std::unique_ptr<re2::RE2> match_regex;   // `regex`, anchored; null if unset
  std::unique_ptr<re2::RE2> rewrite_regex; // `regex_rewrite_pattern`; null if unset
  uint32_t total_weight = 0;               // sum of `to` weights
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

  // `host`: lower-case, without port. `path`: normalised, without query.
  // Returns null when no route matches.
  const CompiledRoute* match(std::string_view host, std::string_view path) const;

  size_t size() const { return routes_.size(); }
  const std::vector<CompiledRoute>& routes() const { return routes_; }

 private:
  RouteTable() = default;
  std::vector<CompiledRoute> routes_;
  // Candidate route indexes per exact host (including the wildcard routes
  // that cover it, merged in config order) and per wildcard suffix.
  std::unordered_map<std::string, std::vector<uint32_t>> exact_;
  std::unordered_map<std::string, std::vector<uint32_t>> wildcard_;
};

}  // namespace gatehouse::proxy

#include "proxy/route_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "metrics/request_metrics.h"

namespace gatehouse::proxy {
namespace {

config::Route makeRoute(std::string host, std::string name) {
  config::Route route;
  route.from_host = std::move(host);
  route.from = "https://" + route.from_host;
  route.from_scheme = "https";
  route.name = std::move(name);
  config::UpstreamUrl upstream;
  upstream.scheme = "http";
  upstream.host = "upstream";
  upstream.port = 80;
  route.to.push_back(upstream);
  return route;
}

config::Route withPrefix(config::Route route, std::string prefix) {
  route.prefix = std::move(prefix);
  return route;
}

config::Route withPath(config::Route route, std::string path) {
  route.path = std::move(path);
  return route;
}

config::Route withRegex(config::Route route, std::string regex) {
  route.regex = std::move(regex);
  return route;
}

// Holds the routes for as long as the table that points into them.
class RouteTableTest : public testing::Test {
 protected:
  void build() {
    for (size_t i = 0; i < routes_.size(); ++i) routes_[i].index = i;
    auto table = RouteTable::create(routes_);
    ASSERT_TRUE(table.ok()) << table.error().message;
    table_ = std::move(table).value();
  }

  // Name of the matched route, "" for none.
  std::string match(std::string_view host, std::string_view path) const {
    const CompiledRoute* route = table_->match(host, path);
    return route == nullptr ? "" : route->config->name;
  }

  std::vector<config::Route> routes_;
  std::unique_ptr<RouteTable> table_;
};

TEST_F(RouteTableTest, EmptyTableMatchesNothing) {
  build();
  EXPECT_EQ(table_->size(), 0u);
  EXPECT_EQ(match("a.example.com", "/"), "");
}

TEST_F(RouteTableTest, ExactHostWithDefaultPrefix) {
  routes_.push_back(makeRoute("a.example.com", "a"));
  routes_.push_back(makeRoute("b.example.com", "b"));
  build();
  EXPECT_EQ(match("a.example.com", "/"), "a");
  EXPECT_EQ(match("a.example.com", "/anything/at/all"), "a");
  EXPECT_EQ(match("b.example.com", "/x"), "b");
  EXPECT_EQ(match("c.example.com", "/"), "");
  EXPECT_EQ(match("example.com", "/"), "");
}

TEST_F(RouteTableTest, HostNamesOfEveryLengthMatchOnlyThemselves) {
  // Names up to 40 bytes are kept in the host's slot, longer ones apart.
  std::vector<std::string> hosts;
  for (size_t length : {1, 39, 40, 41, 63, 200}) {
    std::string host(length, static_cast<char>('a' + length % 26));
    host.back() = 'x';
    hosts.push_back(host);
    routes_.push_back(makeRoute(host, "len" + std::to_string(length)));
  }
  // Two routes for one long host: a candidate list rather than one index.
  routes_.push_back(withPrefix(makeRoute(hosts.back(), "long-api"), "/api/"));
  std::swap(routes_[routes_.size() - 1], routes_[routes_.size() - 2]);
  build();
  for (const std::string& host : hosts) {
    std::string name = host == hosts.back() ? "len200" : "len" + std::to_string(host.size());
    EXPECT_EQ(match(host, "/"), name) << host.size();
    std::string other = host;
    other.back() = 'y';
    EXPECT_EQ(match(other, "/"), "") << host.size();
    EXPECT_EQ(match(host + "x", "/"), "") << host.size();
    EXPECT_EQ(match(host.substr(1), "/"), "") << host.size();
  }
  EXPECT_EQ(match(hosts.back(), "/api/x"), "long-api");
}

TEST_F(RouteTableTest, FirstMatchInConfigOrderWins) {
  routes_.push_back(withPrefix(makeRoute("a.example.com", "api"), "/api"));
  routes_.push_back(withPrefix(makeRoute("a.example.com", "api-v2"), "/api/v2"));
  routes_.push_back(makeRoute("a.example.com", "rest"));
  build();
  EXPECT_EQ(match("a.example.com", "/api/v2/users"), "api");  // listed first
  EXPECT_EQ(match("a.example.com", "/api"), "api");
  EXPECT_EQ(match("a.example.com", "/other"), "rest");
}

TEST_F(RouteTableTest, PrefixIsAPlainStringPrefix) {
  // As in Envoy: "/api" also matches "/apis" and "/api-docs".
  routes_.push_back(withPrefix(makeRoute("a.example.com", "api"), "/api"));
  build();
  EXPECT_EQ(match("a.example.com", "/apis"), "api");
  EXPECT_EQ(match("a.example.com", "/api-docs"), "api");
  EXPECT_EQ(match("a.example.com", "/ap"), "");
  EXPECT_EQ(match("a.example.com", "/API"), "");  // case-sensitive
}

TEST_F(RouteTableTest, PathIsExact) {
  routes_.push_back(withPath(makeRoute("a.example.com", "exact"), "/login"));
  routes_.push_back(withPrefix(makeRoute("a.example.com", "prefix"), "/log"));
  build();
  EXPECT_EQ(match("a.example.com", "/login"), "exact");
  EXPECT_EQ(match("a.example.com", "/login/"), "prefix");
  EXPECT_EQ(match("a.example.com", "/loginx"), "prefix");
  EXPECT_EQ(match("a.example.com", "/Login"), "");
}

TEST_F(RouteTableTest, RegexIsAnchoredAtBothEnds) {
  routes_.push_back(withRegex(makeRoute("a.example.com", "regex"), "/a.*"));
  routes_.push_back(withRegex(makeRoute("a.example.com", "ids"), "/items/[0-9]+"));
  build();
  EXPECT_EQ(match("a.example.com", "/a"), "regex");
  EXPECT_EQ(match("a.example.com", "/abc/def"), "regex");
  EXPECT_EQ(match("a.example.com", "/b/a"), "");
  EXPECT_EQ(match("a.example.com", "/xa"), "");
  EXPECT_EQ(match("a.example.com", "/items/42"), "ids");
  EXPECT_EQ(match("a.example.com", "/items/42/edit"), "");
  EXPECT_EQ(match("a.example.com", "/items/"), "");
}

TEST_F(RouteTableTest, RegexTakesPrecedenceOverPathAndPrefix) {
  // Pomerium's mkRouteMatch uses regex, else path, else prefix.
  config::Route route = withRegex(makeRoute("a.example.com", "regex"), "/only");
  route.path = "/other";
  route.prefix = "/";
  routes_.push_back(route);
  build();
  EXPECT_EQ(match("a.example.com", "/only"), "regex");
  EXPECT_EQ(match("a.example.com", "/other"), "");
}

TEST_F(RouteTableTest, WildcardMatchesAnySubdomainDepth) {
  routes_.push_back(makeRoute("*.example.com", "wild"));
  build();
  EXPECT_EQ(match("a.example.com", "/"), "wild");
  EXPECT_EQ(match("a.b.example.com", "/"), "wild");
  EXPECT_EQ(match("example.com", "/"), "");
  EXPECT_EQ(match("badexample.com", "/"), "");
  EXPECT_EQ(match("a.example.org", "/"), "");
}

TEST_F(RouteTableTest, MostSpecificWildcardIsTriedButConfigOrderDecides) {
  routes_.push_back(withPrefix(makeRoute("*.example.com", "broad-api"), "/api"));
  routes_.push_back(makeRoute("*.b.example.com", "narrow"));
  routes_.push_back(makeRoute("*.example.com", "broad"));
  routes_.push_back(makeRoute("*.com", "tld"));
  build();
  // Several wildcards cover a.b.example.com: their routes are merged in
  // config order, as in Pomerium's catch-all virtual host.
  EXPECT_EQ(match("a.b.example.com", "/api/x"), "broad-api");
  EXPECT_EQ(match("a.b.example.com", "/other"), "narrow");
  EXPECT_EQ(match("c.example.com", "/other"), "broad");
  EXPECT_EQ(match("c.example.com", "/api"), "broad-api");
  EXPECT_EQ(match("x.org.com", "/"), "tld");
  EXPECT_EQ(match("a.b.c.d.e.com", "/"), "tld");
}

TEST_F(RouteTableTest, ExactHostRoutesComeBeforeWildcardRoutes) {
  // Pomerium gives each exact host its own virtual host, which Envoy
  // prefers to the catch-all with the wildcard routes: a wildcard route
  // listed earlier must not take the exact host's requests.
  routes_.push_back(makeRoute("*.example.com", "wild"));
  routes_.push_back(withPrefix(makeRoute("admin.example.com", "admin"), "/admin"));
  build();
  EXPECT_EQ(match("admin.example.com", "/admin/users"), "admin");
  // Paths the exact host's routes do not match fall back to the wildcard.
  EXPECT_EQ(match("admin.example.com", "/public"), "wild");
  EXPECT_EQ(match("other.example.com", "/admin/users"), "wild");
}

TEST_F(RouteTableTest, WildcardFallbackForExactHostsFollowsConfigOrder) {
  routes_.push_back(withPrefix(makeRoute("*.example.com", "broad-api"), "/api"));
  routes_.push_back(makeRoute("*.b.example.com", "narrow"));
  routes_.push_back(withPath(makeRoute("a.b.example.com", "exact"), "/exact"));
  routes_.push_back(makeRoute("*", "any"));
  build();
  EXPECT_EQ(match("a.b.example.com", "/exact"), "exact");
  EXPECT_EQ(match("a.b.example.com", "/api"), "broad-api");
  EXPECT_EQ(match("a.b.example.com", "/x"), "narrow");
}

TEST_F(RouteTableTest, StarMatchesAnyHostAfterEverythingElse) {
  routes_.push_back(makeRoute("*", "any"));
  routes_.push_back(withPrefix(makeRoute("a.example.com", "a"), "/a"));
  routes_.push_back(withPrefix(makeRoute("*.example.com", "wild"), "/w"));
  build();
  EXPECT_EQ(match("a.example.com", "/a"), "a");
  EXPECT_EQ(match("a.example.com", "/w"), "wild");
  EXPECT_EQ(match("a.example.com", "/z"), "any");
  EXPECT_EQ(match("b.example.com", "/w"), "wild");
  EXPECT_EQ(match("b.example.com", "/z"), "any");
  EXPECT_EQ(match("localhost", "/"), "any");
}

TEST_F(RouteTableTest, HostsNeverSeeOtherHostsRoutes) {
  routes_.push_back(withPrefix(makeRoute("a.example.com", "a"), "/a"));
  routes_.push_back(makeRoute("b.example.com", "b"));
  build();
  EXPECT_EQ(match("a.example.com", "/b"), "");
}

TEST_F(RouteTableTest, InvalidRegexNamesTheRoute) {
  routes_.push_back(makeRoute("a.example.com", "ok"));
  routes_.push_back(withRegex(makeRoute("a.example.com", "bad"), "/a(b"));
  auto table = RouteTable::create(routes_);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(table.error().message.rfind("routes[1].regex: ", 0), 0u) << table.error().message;
  EXPECT_NE(table.error().message.find("missing )"), std::string::npos) << table.error().message;
}

TEST_F(RouteTableTest, InvalidRewriteRegexNamesTheKey) {
  config::Route route = makeRoute("a.example.com", "bad");
  route.regex_rewrite_pattern = "[z-a]";
  routes_.push_back(route);
  auto table = RouteTable::create(routes_);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().message.rfind("routes[0].regex_rewrite_pattern: ", 0), 0u)
      << table.error().message;
}

TEST_F(RouteTableTest, CompilesRegexesOnce) {
  config::Route route = withRegex(makeRoute("a.example.com", "r"), "/x/(.*)");
  route.regex_rewrite_pattern = "^/x/(.*)$";
  route.regex_rewrite_substitution = "/\\1";
  routes_.push_back(route);
  build();
  const CompiledRoute& compiled = table_->routes().front();
  EXPECT_NE(compiled.match_regex, nullptr);
  EXPECT_TRUE(compiled.has_match_regex);
  EXPECT_NE(compiled.rewrite_regex, nullptr);
  EXPECT_TRUE(compiled.has_rewrite_regex);
  EXPECT_EQ(compiled.config, &routes_.front());
}

TEST_F(RouteTableTest, CopiesWhatARequestReadsIntoTheCompiledRoute) {
  config::Route plain = withPrefix(makeRoute("a.example.com", ""), "/api/");
  plain.id = "0123456789abcdef";
  plain.to[0].path = "/base";
  config::Route rules = makeRoute("b.example.com", "named");
  rules.prefix_rewrite = "/v2/";
  rules.host_rewrite = "internal";
  rules.set_response_headers.push_back({"x-frame-options", "DENY"});
  rules.rewrite_response_headers.push_back({"location", "http://internal/", "/"});
  rules.to.push_back(rules.to[0]);
  rules.to[1].scheme = "https";
  rules.tls_server_name = "internal.example.com";
  routes_ = {plain, rules};
  build();
  const CompiledRoute& a = table_->routes()[0];
  EXPECT_EQ(a.index, 0U);
  EXPECT_EQ(a.id, "0123456789abcdef");
  ASSERT_NE(a.single_to, nullptr);
  EXPECT_EQ(a.single_to->text, routes_[0].to[0].text);
  EXPECT_EQ(a.single_to->host, routes_[0].to[0].host);
  EXPECT_EQ(a.single_to->port, routes_[0].to[0].port);
  EXPECT_EQ(a.single_to->path, "/base");
  EXPECT_TRUE(a.has_prefix_rewrite);
  ASSERT_NE(a.prefix_rewrite, nullptr);
  EXPECT_EQ(*a.prefix_rewrite, "/base");  // the `to` path
  EXPECT_EQ(a.metricsLabel(), "0123456789abcdef");  // no name: the id
  EXPECT_EQ(a.metrics_key, metrics::RequestMetrics::routeKey("0123456789abcdef"));
  EXPECT_FALSE(a.response_headers || a.rewrite_response_headers || a.upstream_request_rules ||
               a.upstream_tls || a.redirect_or_response || a.has_tls_server_name ||
               a.has_rewrite_regex || a.has_timeout || a.has_idle_timeout);
  const CompiledRoute& b = table_->routes()[1];
  EXPECT_EQ(b.index, 1U);
  EXPECT_EQ(b.single_to, nullptr);
  EXPECT_TRUE(b.has_prefix_rewrite);
  ASSERT_NE(b.prefix_rewrite, nullptr);
  EXPECT_EQ(*b.prefix_rewrite, "/v2/");
  EXPECT_EQ(b.metricsLabel(), "named");
  EXPECT_TRUE(b.response_headers && b.rewrite_response_headers && b.upstream_request_rules &&
              b.upstream_tls && b.has_tls_server_name);
  EXPECT_EQ(*b.tls_server_name, "internal.example.com");
}

TEST_F(RouteTableTest, RoutesToTheSameUpstreamShareOneCopyOfIt) {
  routes_.push_back(makeRoute("a.example.com", "a"));
  routes_.push_back(withPrefix(makeRoute("b.example.com", "b"), "/b/"));
  config::Route other_path = makeRoute("c.example.com", "c");
  other_path.to[0].path = "/c";
  routes_.push_back(other_path);
  config::Route other_port = makeRoute("d.example.com", "d");
  other_port.to[0].port = 8443;
  routes_.push_back(other_port);
  build();
  const auto& compiled = table_->routes();
  ASSERT_EQ(compiled.size(), 4U);
  EXPECT_EQ(compiled[0].single_to, compiled[1].single_to);
  EXPECT_NE(compiled[0].single_to, compiled[2].single_to);
  EXPECT_EQ(compiled[2].single_to->path, "/c");
  EXPECT_NE(compiled[0].single_to, compiled[3].single_to);
  EXPECT_EQ(compiled[3].single_to->port, 8443);
  EXPECT_EQ(compiled[0].single_to->port, routes_[0].to[0].port);
}

TEST_F(RouteTableTest, ALongMetricsLabelKeepsTheKeyOfTheWholeName) {
  routes_.push_back(makeRoute("a.example.com", std::string(300, 'n')));
  routes_.push_back(makeRoute("b.example.com", ""));
  routes_.back().id = "route-id";
  build();
  const CompiledRoute& named = table_->routes()[0];
  EXPECT_EQ(named.metricsLabel(), std::string(255, 'n'));
  EXPECT_EQ(named.metrics_key, metrics::RequestMetrics::routeKey(std::string(300, 'n')));
  EXPECT_EQ(table_->routes()[1].metricsLabel(), "route-id");
}

TEST_F(RouteTableTest, SumsUpstreamWeights) {
  config::Route route = makeRoute("a.example.com", "weighted");
  route.to[0].weight = 3;
  config::UpstreamUrl second = route.to[0];
  second.weight = 7;
  route.to.push_back(second);
  routes_.push_back(route);
  routes_.push_back(makeRoute("b.example.com", "one"));
  config::Route redirect = makeRoute("c.example.com", "redirect");
  redirect.to.clear();
  redirect.redirect = config::RedirectAction{};
  routes_.push_back(redirect);
  build();
  EXPECT_EQ(table_->routes()[0].total_weight, 10u);
  EXPECT_EQ(table_->routes()[1].total_weight, 1u);
  EXPECT_EQ(table_->routes()[2].total_weight, 0u);
}

TEST_F(RouteTableTest, TenThousandHostsBuildAndMatchQuickly) {
  constexpr int kHosts = 10000;
  routes_.reserve(kHosts + 1);
  for (int i = 0; i < kHosts; ++i) {
    routes_.push_back(
        makeRoute("app" + std::to_string(i) + ".example.com", "r" + std::to_string(i)));
  }
  routes_.push_back(makeRoute("*.example.com", "wild"));
  const auto start = std::chrono::steady_clock::now();
  build();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Generous bound for a debug build on a loaded machine; the point is that
  // building is not quadratic in the number of hosts.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(table_->size(), static_cast<size_t>(kHosts + 1));
  EXPECT_EQ(match("app0.example.com", "/"), "r0");
  EXPECT_EQ(match("app9999.example.com", "/x"), "r9999");
  EXPECT_EQ(match("app10000.example.com", "/x"), "wild");
}

}  // namespace
}  // namespace gatehouse::proxy

// Proxy costs per request, on realistic inputs: the route lookup (10 and
// 10,000 routes, hosts and paths drawn at random among the routes, and
// misses), path normalisation, the session cookie (parse the Cookie header,
// verify the HS256 handle) and the upstream request head (header rewrite).
// Each benchmark reports items/s and heap allocations per iteration.
//
//   proxy_bench [--benchmark_filter=Route] ...

#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "allocation_counter.h"
#include "http/message.h"
#include "http/path_normalizer.h"
#include "proxy/rewrite.h"
#include "proxy/route_table.h"
#include "session/cookie.h"
#include "session/handle.h"

namespace gatehouse::proxy {
namespace {

using bench::AllocationsPerIteration;

// ---- Route lookup -------------------------------------------------------

struct Request {
  std::string host;
  std::string path;
  const config::Route* expected = nullptr;  // null: no route matches
};

config::UpstreamUrl upstream(size_t index) {
  config::UpstreamUrl to;
  to.scheme = "http";
  to.host = "10.0." + std::to_string(index / 250 % 250) + "." + std::to_string(index % 250);
  to.port = 8080;
  to.text = "http://" + to.host + ":8080";
  return to;
}

// A config of `count` routes in the mix a large deployment has: most hosts
// are one app behind prefix "/", some have an API and a health check in
// front of the app (path, prefix, prefix), some a regex route, some are
// wildcard hosts, and some only publish a few prefixes. Also returns, for
// every route, a request it answers (drawn in config order).
struct RouteConfig {
  std::vector<config::Route> routes;
  std::vector<Request> requests_per_route;
};

RouteConfig routeConfig(size_t count) {
  RouteConfig out;
  out.routes.reserve(count);
  auto add = [&](const std::string& host, std::string request_host, std::string request_path,
                 auto&& configure) {
    if (out.routes.size() == count) return;
    config::Route r;
    r.index = out.routes.size();
    r.id = "route-" + std::to_string(r.index);
    r.from_scheme = "https";
    r.from_host = host;
    r.from = "https://" + host;
    r.to.push_back(upstream(r.index));
    configure(r);
    out.routes.push_back(std::move(r));
    out.requests_per_route.push_back({std::move(request_host), std::move(request_path), nullptr});
  };
  auto none = [](config::Route&) {};
  for (size_t h = 0; out.routes.size() < count; ++h) {
    const std::string name = "app-" + std::to_string(h);
    const std::string host = name + ".corp.example.com";
    // Per 10 hosts, 14 routes; the first 10 routes already hold every kind.
    switch (h % 10) {
      case 1:  // an app with its API and health check as routes of their own
        add(host, host, "/healthz", [](config::Route& r) { r.path = "/healthz"; });
        add(host, host, "/api/v1/users/42", [](config::Route& r) { r.prefix = "/api/"; });
        add(host, host, "/dashboard/settings", none);
        break;
      case 2:  // a regex route in front of the app
        add(host, host, "/v2/items/123456",
            [](config::Route& r) { r.regex = "/v[0-9]+/items/[0-9]+"; });
        add(host, host, "/v2/items", none);
        break;
      case 3:  // every tenant of a SaaS app: "*.app-3.tenants.example.com"
        add("*." + name + ".tenants.example.com", "acme." + name + ".tenants.example.com",
            "/projects/17/board", none);
        break;
      case 4:  // a host that publishes only some prefixes
        add(host, host, "/admin/users", [](config::Route& r) { r.prefix = "/admin/"; });
        add(host, host, "/static/app.3f9c1a.js", [](config::Route& r) { r.prefix = "/static/"; });
        break;
      default:  // one app behind prefix "/"
        add(host, host, "/dashboard/settings", none);
        break;
    }
  }
  for (size_t i = 0; i < out.routes.size(); ++i)
    out.requests_per_route[i].expected = &out.routes[i];
  return out;
}

// 4,096 requests, each for a route drawn at random (the health check path
// is also under its host's "/" route, but the path route comes first in
// config order, so it is the answer).
std::vector<Request> hits(const RouteConfig& config) {
  std::mt19937 random(42);
  std::vector<Request> out;
  for (int i = 0; i < 4096; ++i)
    out.push_back(config.requests_per_route[random() % config.routes.size()]);
  return out;
}

// 4,096 requests no route answers: half for hosts that have no route, half
// for a path outside the prefixes of a host that publishes only some.
std::vector<Request> misses(const RouteConfig& config) {
  std::mt19937 random(43);
  std::vector<std::string> partial_hosts;
  for (const auto& r : config.routes) {
    if (!r.prefix.empty() && r.prefix != "/api/") partial_hosts.push_back(r.from_host);
  }
  std::vector<Request> out;
  for (int i = 0; i < 4096; ++i) {
    if (i % 2 == 0 || partial_hosts.empty()) {
      out.push_back({"app-" + std::to_string(random() % 100000) + ".unknown.example.com",
                     "/dashboard", nullptr});
    } else {
      out.push_back({partial_hosts[random() % partial_hosts.size()], "/index.html", nullptr});
    }
  }
  return out;
}

void runLookups(benchmark::State& state, const std::vector<Request>& requests,
                const RouteTable& table) {
  // The answers are checked once, outside the timed loop.
  for (const Request& request : requests) {
    const CompiledRoute* found = table.match(request.host, request.path);
    const config::Route* got = found == nullptr ? nullptr : found->config;
    if (got != request.expected) {
      state.SkipWithError(("wrong route for " + request.host + request.path).c_str());
      return;
    }
  }
  const size_t mask = requests.size() - 1;
  size_t i = 0;
  AllocationsPerIteration allocations;
  for (auto _ : state) {
    const Request& request = requests[i++ & mask];
    benchmark::DoNotOptimize(table.match(request.host, request.path));
  }
  allocations.report(state);
  state.SetItemsProcessed(state.iterations());
}

void BM_RouteMatch(benchmark::State& state) {
  const RouteConfig config = routeConfig(static_cast<size_t>(state.range(0)));
  auto table = RouteTable::create(config.routes);
  if (!table) return state.SkipWithError(table.error().message.c_str());
  runLookups(state, hits(config), **table);
}
BENCHMARK(BM_RouteMatch)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

// 10,000 routes, but every request is for one of the first 10: the same
// lookups as BM_RouteMatch/10 in a large table. If this costs what the
// 10-route table does, what a large table adds is cache misses over its
// memory, not work that grows with the number of routes.
void BM_RouteMatchHotRoutes(benchmark::State& state) {
  RouteConfig config = routeConfig(static_cast<size_t>(state.range(0)));
  auto table = RouteTable::create(config.routes);
  if (!table) return state.SkipWithError(table.error().message.c_str());
  config.requests_per_route.resize(10);
  std::mt19937 random(44);
  std::vector<Request> requests;
  for (int i = 0; i < 4096; ++i) requests.push_back(config.requests_per_route[random() % 10]);
  runLookups(state, requests, **table);
}
BENCHMARK(BM_RouteMatchHotRoutes)->Arg(10000);

void BM_RouteMiss(benchmark::State& state) {
  const RouteConfig config = routeConfig(static_cast<size_t>(state.range(0)));
  auto table = RouteTable::create(config.routes);
  if (!table) return state.SkipWithError(table.error().message.c_str());
  runLookups(state, misses(config), **table);
}
BENCHMARK(BM_RouteMiss)->Arg(10)->Arg(10000)->Arg(100000);

// ---- Path normalisation -------------------------------------------------

void normalize(benchmark::State& state, const std::string& target, std::string_view want) {
  const http::PathNormalizerOptions options;
  const http::NormalizedTarget once = http::normalizeTarget(target, options);
  if (once.verdict != http::PathVerdict::kOk || once.path != want) {
    return state.SkipWithError(("normalised to " + once.path + " " + once.reason).c_str());
  }
  AllocationsPerIteration allocations;
  for (auto _ : state) benchmark::DoNotOptimize(http::normalizeTarget(target, options));
  allocations.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(target.size()));
}

void BM_NormalizeClean(benchmark::State& state) {
  normalize(state, "/api/v1/projects/1842/issues?state=open&sort=updated",
            "/api/v1/projects/1842/issues");
}
BENCHMARK(BM_NormalizeClean);

void BM_NormalizeDotsAndEscapes(benchmark::State& state) {
  normalize(state, "/static/../api/./v1//users/%7Ealice/%2e%2e/bob/My%20Files/a%2Db?download=1",
            "/api/v1/users/bob/My%20Files/a-b");
}
BENCHMARK(BM_NormalizeDotsAndEscapes);

// A 2 KiB path: 64 segments, such as a deep object-store key.
std::string longPath() {
  std::string path;
  for (int i = 0; i < 64; ++i) path += "/segment-" + std::to_string(1000000 + i) + "-abcdefghijklm";
  return path;
}

void BM_NormalizeLong(benchmark::State& state) {
  const std::string path = longPath();
  normalize(state, path + "?x=1", path);
}
BENCHMARK(BM_NormalizeLong);

// ---- Session cookie ------------------------------------------------------

// 32 bytes, as the shared secret decodes to.
const std::string kSecret = "b2a9c6ef4d1e8a7f5c3b0d9e2f1a4c6b";

session::Handle aliceHandle() {
  session::Handle handle;
  handle.session_id = "5f2b9c1e-7a43-4d8e-9b6a-0c3e1f2d4a5b";
  handle.user_id = "248289761001";
  handle.issuer = "authenticate.corp.example.com";
  handle.audience = {"authenticate.corp.example.com"};
  handle.issued_at = 1764000000;
  handle.idp_id = "";
  handle.server_version = 7301944125517273610ULL;
  handle.record_version = 1842;
  return handle;
}

// What a browser sends to an app behind Gatehouse: analytics and app
// cookies around the session cookie.
std::string cookieHeader(const std::string& handle) {
  return "_ga=GA1.2.1843920746.1764000000; _gid=GA1.2.917263541.1764000000; theme=dark; "
         "csrftoken=Jc8q0S3vX2kLmN9pQrT4uVwYz6aBcDeF; _pomerium=" +
         handle + "; lang=en-GB; _hjSessionUser_1234=eyJpZCI6ImFiYyJ9";
}

void BM_CookieFind(benchmark::State& state) {
  auto codec = session::HandleCodec::create(kSecret);
  if (!codec) return state.SkipWithError(codec.error().message.c_str());
  const std::string handle = codec->sign(aliceHandle());
  const std::string header = cookieHeader(handle);
  AllocationsPerIteration allocations;
  for (auto _ : state) {
    auto found = session::findCookies(header, "_pomerium");
    benchmark::DoNotOptimize(found);
  }
  allocations.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieFind);

// The Cookie header to a verified handle: what a request pays when the
// per-worker cache of verified handles misses.
void BM_CookieDecodeAndVerify(benchmark::State& state) {
  auto codec = session::HandleCodec::create(kSecret);
  if (!codec) return state.SkipWithError(codec.error().message.c_str());
  const std::string handle = codec->sign(aliceHandle());
  const std::string header = cookieHeader(handle);
  {
    auto found = session::findCookies(header, "_pomerium");
    auto verified = found.size() == 1 ? codec->verify(found.front()) : Error::invalid("no cookie");
    if (!verified || verified->session_id != aliceHandle().session_id) {
      return state.SkipWithError("the handle does not verify");
    }
  }
  AllocationsPerIteration allocations;
  for (auto _ : state) {
    auto found = session::findCookies(header, "_pomerium");
    auto verified = codec->verify(found.front());
    benchmark::DoNotOptimize(verified);
  }
  allocations.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieDecodeAndVerify);

// ---- Upstream request head -----------------------------------------------

// A browser's navigation request as it reaches the proxy (hop-by-hop
// fields already removed), with a spoofed assertion header that must not
// pass and a client X-Forwarded-For that the peer's address is appended
// to: 17 fields.
http::RequestHead browserRequest(const std::string& session_handle) {
  http::RequestHead in;
  in.method = "GET";
  in.scheme = "https";
  in.authority = "app-0.corp.example.com";
  in.target = "/dashboard/settings?tab=profile";
  auto& h = in.headers;
  h.add("host", "app-0.corp.example.com");
  h.add("sec-ch-ua", "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"");
  h.add("sec-ch-ua-mobile", "?0");
  h.add("sec-ch-ua-platform", "\"Linux\"");
  h.add("upgrade-insecure-requests", "1");
  h.add("user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36");
  h.add("accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7");
  h.add("sec-fetch-site", "same-origin");
  h.add("sec-fetch-mode", "navigate");
  h.add("sec-fetch-user", "?1");
  h.add("sec-fetch-dest", "document");
  h.add("referer", "https://app-0.corp.example.com/dashboard");
  h.add("accept-encoding", "gzip, deflate, br, zstd");
  h.add("accept-language", "en-GB,en-US;q=0.9,en;q=0.8");
  h.add("cookie", cookieHeader(session_handle));
  h.add("x-pomerium-jwt-assertion", "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFkbWluIn0.");
  h.add("x-forwarded-for", "203.0.113.9");
  return in;
}

// The decision's headers on a route that passes identity headers: an
// ES256 JWT of typical size, two claim headers and one set_request_headers.
std::vector<std::pair<std::string, std::string>> decisionHeaders() {
  std::string jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjBmM2E5YzFiIiwidHlwIjoiSldUIn0.";
  jwt += std::string(560, 'e');
  jwt += ".";
  jwt += std::string(86, 's');
  return {{"x-pomerium-jwt-assertion", jwt},
          {"x-pomerium-claim-email", "alice@example.com"},
          {"x-pomerium-claim-groups", "engineering,admins"},
          {"x-tenant", "acme"}};
}

void upstreamHead(benchmark::State& state, void (*configure)(config::Route&)) {
  std::vector<config::Route> routes(1);
  config::Route& route = routes.front();
  route.from_scheme = "https";
  route.from_host = "app-0.corp.example.com";
  route.from = "https://app-0.corp.example.com";
  route.to.push_back(upstream(5));
  route.pass_identity_headers = true;
  configure(route);
  auto table = RouteTable::create(routes);
  if (!table) return state.SkipWithError(table.error().message.c_str());
  const CompiledRoute& compiled = (*table)->routes().front();
  auto codec = session::HandleCodec::create(kSecret);
  if (!codec) return state.SkipWithError(codec.error().message.c_str());
  const http::RequestHead in = browserRequest(codec->sign(aliceHandle()));
  const auto decision = decisionHeaders();

  UpstreamRequestContext context;
  context.path = "/dashboard/settings";
  context.query = "tab=profile";
  context.session_cookie_name = "_pomerium";
  context.remote_ip = "198.51.100.23";
  context.tls = true;
  context.request_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
  context.decision_headers = decision;

  {
    http::RequestHead out;
    prepareUpstreamRequest(compiled, in, route.to.front(), context, out);
    const auto cookie = out.headers.get("cookie");
    const auto assertion = out.headers.get("x-pomerium-jwt-assertion");
    const auto forwarded_for = out.headers.get("x-forwarded-for");
    if (!cookie || cookie->find("_pomerium") != std::string_view::npos || !assertion ||
        *assertion != decision.front().second || forwarded_for != "203.0.113.9, 198.51.100.23") {
      return state.SkipWithError("the upstream head is not what the proxy must send");
    }
    state.counters["fields"] = static_cast<double>(out.headers.size());
  }
  AllocationsPerIteration allocations;
  for (auto _ : state) {
    http::RequestHead out;
    prepareUpstreamRequest(compiled, in, route.to.front(), context, out);
    benchmark::DoNotOptimize(out);
  }
  allocations.report(state);
  state.SetItemsProcessed(state.iterations());
}

void BM_UpstreamHead(benchmark::State& state) {
  upstreamHead(state, [](config::Route&) {});
}
BENCHMARK(BM_UpstreamHead);

// The same with a Host rewrite, a prefix rewrite and a removed header.
void BM_UpstreamHeadRewrites(benchmark::State& state) {
  upstreamHead(state, [](config::Route& route) {
    route.host_rewrite = "dashboard.internal";
    route.prefix_rewrite = "/app/";
    route.remove_request_headers = {"referer"};
  });
}
BENCHMARK(BM_UpstreamHeadRewrites);

}  // namespace
}  // namespace gatehouse::proxy

BENCHMARK_MAIN();

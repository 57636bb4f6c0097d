// Authorize costs per request: a route policy decision (a one-criterion
// email rule, and a rule of 50 criteria that all have to be evaluated), the
// identity JWT from the per-worker cache (a hit, and a miss that signs with
// ES256), and the identity headers of a route that passes them.
//
//   authorize_bench [--benchmark_filter=Jwt] ...

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "authorize/engine.h"
#include "authorize/jwt_cache.h"

namespace gatehouse::authorize {
namespace {

std::shared_ptr<const crypto::SigningKey> signingKey() {
  static auto key = std::make_shared<const crypto::SigningKey>(
      crypto::SigningKey::deriveFromSharedSecret(std::string(32, 's')).value());
  return key;
}

config::Route route(size_t index, std::string host) {
  config::Route r;
  r.index = index;
  r.id = "route-" + std::to_string(index);
  r.from = "https://" + host;
  r.from_scheme = "https";
  r.from_host = std::move(host);
  return r;
}

// Route 0: allowed_users [alice]. Route 1: 49 email criteria that do not
// match, then one that does, OR-ed (all 50 are evaluated). Route 2: any
// signed-in user, identity headers passed.
std::unique_ptr<Engine> engine() {
  std::vector<config::Route> routes;
  routes.push_back(route(0, "simple.example.com"));
  routes.back().allowed_users = {"alice@example.com"};
  routes.push_back(route(1, "big.example.com"));
  nlohmann::json criteria = nlohmann::json::array();
  for (int i = 0; i < 49; ++i) {
    criteria.push_back({{"email", {{"is", "user" + std::to_string(i) + "@example.com"}}}});
  }
  criteria.push_back({{"email", {{"is", "alice@example.com"}}}});
  routes.back().policy_json = nlohmann::json{{"allow", {{"or", criteria}}}}.dump();
  routes.push_back(route(2, "app.example.com"));
  routes.back().allow_any_authenticated_user = true;
  routes.back().pass_identity_headers = true;
  EngineSettings settings;
  settings.signing_key = signingKey();
  settings.claim_headers = ClaimHeaders::parse("email,groups").value();
  return std::move(Engine::create(routes, std::move(settings)).value());
}

policy::Input signedIn() {
  policy::Input input;
  input.request.method = "GET";
  input.request.path = "/";
  input.request.host = "simple.example.com";
  input.session.authenticated = true;
  input.session.user_id = "user-1";
  input.session.email = "alice@example.com";
  return input;
}

struct Alice {
  std::vector<std::string> groups = {"engineering", "admins"};
  nlohmann::json claims = {{"name", "Alice"}, {"groups", {"engineering", "admins"}}};
  Identity identity(uint64_t version = 1) const {
    Identity id;
    id.session_id = "2f6c1d7e-session";
    id.session_version = version;
    id.user_id = "user-1";
    id.email = "alice@example.com";
    id.groups = groups;
    id.claims = &claims;
    return id;
  }
};

void BM_EvaluateEmail(benchmark::State& state) {
  auto e = engine();
  policy::Input input = signedIn();
  for (auto _ : state) benchmark::DoNotOptimize(e->evaluate(0, input));
}
BENCHMARK(BM_EvaluateEmail);

void BM_Evaluate50Criteria(benchmark::State& state) {
  auto e = engine();
  policy::Input input = signedIn();
  if (e->policy(1).criterionCount() != 50) state.SkipWithError("expected 50 criteria");
  for (auto _ : state) benchmark::DoNotOptimize(e->evaluate(1, input));
}
BENCHMARK(BM_Evaluate50Criteria);

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

void BM_JwtCacheHit(benchmark::State& state) {
  auto e = engine();
  JwtCache cache;
  Alice alice;
  Identity identity = alice.identity();
  (void)cache.get(e->identityJwt(), identity, "app.example.com", IssuerFormat::kHostOnly, kNow);
  for (auto _ : state) {
    auto token =
        cache.get(e->identityJwt(), identity, "app.example.com", IssuerFormat::kHostOnly, kNow);
    benchmark::DoNotOptimize(token);
  }
  if (cache.stats().misses != 1) state.SkipWithError("expected hits only");
}
BENCHMARK(BM_JwtCacheHit);

void BM_JwtCacheMissSigns(benchmark::State& state) {
  auto e = engine();
  JwtCache cache;
  Alice alice;
  uint64_t version = 0;
  for (auto _ : state) {
    auto token = cache.get(e->identityJwt(), alice.identity(++version), "app.example.com",
                           IssuerFormat::kHostOnly, kNow);
    benchmark::DoNotOptimize(token);
  }
  if (cache.stats().hits != 0) state.SkipWithError("expected misses only");
}
BENCHMARK(BM_JwtCacheMissSigns);

void BM_IdentityHeadersCached(benchmark::State& state) {
  auto e = engine();
  JwtCache cache;
  Alice alice;
  Identity identity = alice.identity();
  OutputHeaders out;
  for (auto _ : state) {
    out.clear();
    auto ok = e->identityHeaders(2, identity, {.host = "app.example.com", .now = kNow}, cache, out);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_IdentityHeadersCached);

}  // namespace
}  // namespace gatehouse::authorize

BENCHMARK_MAIN();

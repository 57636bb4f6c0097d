#include "authorize/engine.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>

namespace gatehouse::authorize {
namespace {

constexpr std::string_view kJwtAssertionHeader = "X-Pomerium-Jwt-Assertion";
constexpr std::string_view kJwtAssertionForHeader = "X-Pomerium-Jwt-Assertion-For";

constexpr std::string_view kInternalPathsNeedingLogin[] = {
    "/.pomerium/jwt",         "/.pomerium/user",          "/.pomerium/webauthn",
    "/.pomerium/routes",      "/.pomerium/api/v1/routes", "/.pomerium/mcp/routes",
    "/.pomerium/mcp/connect",
};

void appendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
}

// Everything Policy::compile reads from a route, apart from its index
// (which only appears in error messages).
std::string policyKey(const config::Route& route) {
  std::string key;
  key += route.allow_public_unauthenticated_access ? '1' : '0';
  key += route.allow_any_authenticated_user ? '1' : '0';
  key += route.cors_allow_preflight ? '1' : '0';
  key += 'u';
  for (const auto& user : route.allowed_users) appendField(key, user);
  key += 'd';
  for (const auto& domain : route.allowed_domains) appendField(key, domain);
  key += 'c';
  for (const auto& [claim, values] : route.allowed_idp_claims) {
    appendField(key, claim);
    key += std::to_string(values.size());
    for (const auto& value : values) appendField(key, value);
  }
  key += 'p';
  appendField(key, route.policy_json);
  return key;
}

bool sameCompileOptions(const policy::CompileOptions& a, const policy::CompileOptions& b) {
  return a.deny_invalid_client_certificate == b.deny_invalid_client_certificate &&
         a.criteria == b.criteria && a.time_zones == b.time_zones;
}

// The route's own jwt_issuer_format. It is kept in Route::extra until the
// config layer gives it a typed field.
Result<std::optional<IssuerFormat>> routeIssuerFormat(const config::Route& route) {
  auto it = route.extra.find("jwt_issuer_format");
  if (it == route.extra.end() || it->second.empty()) return std::optional<IssuerFormat>{};
  auto format = parseIssuerFormat(it->second);
  if (!format) {
    return Error::invalid("routes[" + std::to_string(route.index) + "].jwt_issuer_format: \"" +
                          it->second + "\" is not one of hostOnly, uri");
  }
  return std::optional<IssuerFormat>{*format};
}

}  // namespace

Engine::Engine(EngineSettings settings) : settings_(std::move(settings)) {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(std::span<const config::Route> routes,
                                               EngineSettings settings, const Engine* previous) {
  if (settings.signing_key == nullptr) {
    return Error::invalid("authorize: no key to sign identity JWTs with");
  }
  std::unique_ptr<Engine> engine(new Engine(std::move(settings)));
  const EngineSettings& global = engine->settings_;

  // The previous engine's policies by route id (ids may repeat).
  std::unordered_multimap<std::string_view, const RouteState*> reusable;
  if (previous != nullptr &&
      sameCompileOptions(previous->settings_.compile_options, global.compile_options)) {
    reusable.reserve(previous->routes_.size());
    for (const auto& state : previous->routes_) reusable.emplace(state.id, &state);
  }

  // Routes with equal policy keys share one compiled policy: compiled
  // once, and thousands of routes with the same policy (all public, say)
  // keep one object warm in the cache rather than one each.
  std::unordered_map<std::string, std::shared_ptr<const policy::Policy>> by_key;

  std::string errors;
  engine->routes_.reserve(routes.size());
  for (const auto& route : routes) {
    RouteState state;
    state.id = route.id;
    state.policy_key = policyKey(route);
    auto [first, last] = reusable.equal_range(state.id);
    for (auto it = first; it != last; ++it) {
      if (it->second->policy_key == state.policy_key) {
        state.policy = it->second->policy;
        ++engine->reused_policy_count_;
        break;
      }
    }
    if (state.policy == nullptr) {
      if (auto shared = by_key.find(state.policy_key); shared != by_key.end()) {
        state.policy = shared->second;
      }
    }
    if (state.policy == nullptr) {
      auto compiled = policy::Policy::compile(route, global.compile_options);
      if (!compiled) {
        if (!errors.empty()) errors += "; ";
        errors += compiled.error().message;
      } else {
        state.policy = std::make_shared<const policy::Policy>(std::move(*compiled));
      }
    }
    if (state.policy != nullptr) {
      by_key.try_emplace(state.policy_key, state.policy);
      state.session_only = state.policy->readsSessionOnly();
    }
    state.pass_identity_headers =
        route.pass_identity_headers.value_or(global.pass_identity_headers);
    auto format = routeIssuerFormat(route);
    if (!format) {
      if (!errors.empty()) errors += "; ";
      errors += format.error().message;
    } else {
      state.issuer_format = format->value_or(global.issuer_format);
    }
    for (const auto& header : route.set_request_headers) {
      HeaderTemplate compiled = HeaderTemplate::compile(header.value);
      state.templates_use_jwt = state.templates_use_jwt || compiled.usesJwt();
      state.set_request_headers.emplace_back(header.name, std::move(compiled));
    }
    engine->routes_.push_back(std::move(state));
  }
  if (!errors.empty()) return Error::invalid(errors);

  auto claim_names = global.claim_headers.claimNames();
  engine->jwt_ = std::make_unique<IdentityJwt>(global.signing_key, claim_names);
  engine->jwks_ = JwksDocument::build(*global.signing_key);
  return engine;
}

policy::Decision Engine::evaluate(size_t route_index, const policy::Input& input) const {
  if (route_index >= routes_.size()) {
    policy::Decision decision;
    decision.deny = true;
    decision.deny_reasons = policy::Reason::kRouteNotFound;
    decision.reasons = decision.deny_reasons;
    return decision;
  }
  return routes_[route_index].policy->evaluate(input);
}

bool Engine::internalPathNeedsLogin(std::string_view path) {
  return std::find(std::begin(kInternalPathsNeedingLogin), std::end(kInternalPathsNeedingLogin),
                   path) != std::end(kInternalPathsNeedingLogin);
}

policy::Decision Engine::evaluateInternal(std::string_view path, bool has_session) {
  policy::Decision decision;
  if (internalPathNeedsLogin(path) && !has_session) {
    decision.allow_reasons = policy::Reason::kUserUnauthenticated;
    decision.reasons = decision.allow_reasons;
    return decision;
  }
  decision.allow = true;
  return decision;
}

bool Engine::passesIdentityHeaders(size_t route_index) const {
  return route_index < routes_.size() && routes_[route_index].pass_identity_headers;
}

void Engine::appendJwtHeaders(const Identity& identity, const HeaderRequest& request,
                              IssuerFormat format, const JwtCache::Token& token, JwtCache& cache,
                              OutputHeaders& out) const {
  out.emplace_back(kJwtAssertionHeader, token.jwt);
  if (settings_.claim_headers.entries().empty()) return;  // jwt_claims_headers unset
  // The claim headers' values are claims of the token (its identity, host
  // and stamp): rendered once per token, kept with it in the cache.
  const OutputHeaders& claim_headers = cache.derived(token, id_, [&](OutputHeaders& rendered) {
    std::string issuer = issuerFor(format, request.host);
    IdentityClaims claims(identity,
                          {.issuer = issuer,
                           .audience = request.host,
                           .jti = token.jti,
                           .issued_at = token.issued_at,
                           .expires_at = token.expires_at},
                          jwt_->extraClaims());
    settings_.claim_headers.render(claims, rendered);
  });
  for (const auto& [name, value] : claim_headers) out.emplace_back(name, value);
}

Result<void> Engine::identityHeaders(size_t route_index, const Identity& identity,
                                     const HeaderRequest& request, JwtCache& cache,
                                     OutputHeaders& out) const {
  if (route_index >= routes_.size()) return Error::invalid("authorize: no such route");
  const RouteState& route = routes_[route_index];
  // The assertion, the one forwarded, a header per claim and the route's
  // own: one allocation rather than a vector grown field by field, and none
  // for a route that adds nothing.
  size_t adding = route.set_request_headers.size();
  if (route.pass_identity_headers) adding += 2 + settings_.claim_headers.entries().size();
  if (adding > 0) out.reserve(out.size() + adding);
  JwtCache::Token token;
  if (route.pass_identity_headers || route.templates_use_jwt) {
    auto got = cache.get(*jwt_, identity, request.host, route.issuer_format, request.now);
    if (!got) return got.error();
    token = *got;
  }
  if (route.pass_identity_headers) {
    appendJwtHeaders(identity, request, route.issuer_format, token, cache, out);
    if (request.request_headers != nullptr) {
      auto incoming = request.request_headers->get(kJwtAssertionForHeader);
      if (!incoming || incoming->empty())
        incoming = request.request_headers->get(kJwtAssertionHeader);
      if (incoming && !incoming->empty()) out.emplace_back(kJwtAssertionForHeader, *incoming);
    }
  }
  HeaderTemplate::Context context{.identity = &identity,
                                  .jwt = token.jwt,
                                  .client_cert_fingerprint = request.client_cert_fingerprint,
                                  .request_headers = request.request_headers};
  for (const auto& [name, value] : route.set_request_headers) {
    out.emplace_back(name, value.render(context));
  }
  return {};
}

Result<void> Engine::internalIdentityHeaders(const Identity& identity, const HeaderRequest& request,
                                             JwtCache& cache, OutputHeaders& out) const {
  auto token = cache.get(*jwt_, identity, request.host, settings_.issuer_format, request.now);
  if (!token) return token.error();
  appendJwtHeaders(identity, request, settings_.issuer_format, *token, cache, out);
  return {};
}

}  // namespace gatehouse::authorize

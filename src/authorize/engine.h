#pragma once

// The authorize engine for one configuration snapshot: every route's
// compiled policy, its identity-header settings and compiled
// set_request_headers templates, and the identity JWT minter. Immutable once
// created and shared by all workers (std::shared_ptr<const Engine> in the
// snapshot); the per-worker part is the JwtCache the caller passes in.
//
// On reload, create() takes the previous engine and reuses the compiled
// policy of every route whose id and policy keys are unchanged, compiling
// only the routes that changed (Pomerium's getOrCreatePolicyEvaluators), so
// that a reload of a config with thousands of routes costs little.

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authorize/claim_headers.h"
#include "authorize/header_template.h"
#include "authorize/identity.h"
#include "authorize/identity_jwt.h"
#include "authorize/jwks_document.h"
#include "authorize/jwt_cache.h"
#include "authorize/output_headers.h"
#include "common/huge_pages.h"
#include "common/result.h"
#include "config/options.h"
#include "crypto/signing_key.h"
#include "policy/decision.h"
#include "policy/input.h"
#include "policy/policy.h"

namespace gatehouse::authorize {

// The global settings the engine needs besides the routes. Taken explicitly
// (not from config::Options) so that the caller decides where each comes
// from: `signing_key` / `signing_key_file` or the key derived from the
// shared secret, `jwt_claims_headers`, `jwt_issuer_format`,
// `pass_identity_headers`.
struct EngineSettings {
  std::shared_ptr<const crypto::SigningKey> signing_key;  // required
  ClaimHeaders claim_headers;
  IssuerFormat issuer_format = IssuerFormat::kHostOnly;  // a route's own jwt_issuer_format wins
  // The default for routes that do not set pass_identity_headers (Pomerium:
  // false, so identity headers reach an upstream only where asked for).
  bool pass_identity_headers = false;
  policy::CompileOptions compile_options;
};

class Engine {
 public:
  // What identityHeaders() needs to know about the request. Borrowed.
  struct HeaderRequest {
    // The request's host name (lower case, no port): the JWT's aud and iss.
    // For a wildcard route this is the host asked for, not "*.example.com".
    std::string_view host;
    // The request headers as the client sent them (before identity headers
    // are stripped): read by ${pomerium.request.headers.*} templates and for
    // X-Pomerium-Jwt-Assertion-For. nullptr = none.
    const policy::HeaderLookup* request_headers = nullptr;
    std::string_view client_cert_fingerprint;  // hex SHA-256, "" without a certificate
    std::chrono::system_clock::time_point now;
  };

  // Builds the engine for `routes` (config order; the index into `routes`
  // is the route index of evaluate() and identityHeaders()). With
  // `previous`, unchanged routes reuse its compiled policies. Every route's
  // error is reported, each naming its route ("routes[3].policy...").
  static Result<std::unique_ptr<Engine>> create(std::span<const config::Route> routes,
                                                EngineSettings settings,
                                                const Engine* previous = nullptr);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  size_t routeCount() const { return routes_.size(); }

  // Decides a request on route `route_index`. Thread-safe, does not
  // allocate. An index out of range is denied with route-not-found.
  policy::Decision evaluate(size_t route_index, const policy::Input& input) const;
  // True when route `route_index`'s policy reads only the session
  // (policy::Policy::readsSessionOnly): its decision for one session is its
  // decision for every request with it, so a caller may keep it.
  bool decidesBySessionOnly(size_t route_index) const {
    return route_index < routes_.size() && routes_[route_index].session_only;
  }
  // Names this engine among all the engines the process builds (never 0,
  // never reused): what kept decisions and rendered headers are kept under.
  uint64_t id() const { return id_; }

  // The decision for Gatehouse's own endpoints (/.pomerium/*,
  // /.well-known/pomerium/*, /ping, /healthz), which no route policy
  // guards: allowed, except that the paths of internalPathNeedsLogin()
  // require a session (user-unauthenticated otherwise). Pomerium's allow
  // reason for these ("pomerium-route") has no counterpart in
  // policy::Reason, so the allow reasons are empty.
  static policy::Decision evaluateInternal(std::string_view path, bool has_session);
  // /.pomerium/jwt, /.pomerium/user, /.pomerium/webauthn, /.pomerium/routes,
  // /.pomerium/api/v1/routes, /.pomerium/mcp/routes, /.pomerium/mcp/connect
  // (Pomerium's internalPathsNeedingLogin; exact paths).
  static bool internalPathNeedsLogin(std::string_view path);

  // Appends the headers an allowed request on route `route_index` carries
  // upstream: when the route passes identity headers, X-Pomerium-Jwt-
  // Assertion, the jwt_claims_headers and X-Pomerium-Jwt-Assertion-For (the
  // client's -For, else its X-Pomerium-Jwt-Assertion, to chain identity
  // across proxies); then, always, the route's set_request_headers with
  // their templates rendered. A JWT is signed (or taken from `cache`) only
  // when one of them needs it. Fails only when signing fails.
  Result<void> identityHeaders(size_t route_index, const Identity& identity,
                               const HeaderRequest& request, JwtCache& cache,
                               OutputHeaders& out) const;

  // The same for a request to Gatehouse's own endpoints, which the handlers
  // read (/.pomerium/jwt, /.pomerium/user): X-Pomerium-Jwt-Assertion and the
  // claim headers, with the global issuer format.
  Result<void> internalIdentityHeaders(const Identity& identity, const HeaderRequest& request,
                                       JwtCache& cache, OutputHeaders& out) const;

  // Whether route `route_index` sends identity headers upstream (its own
  // pass_identity_headers, else the global default). The proxy strips
  // client-sent identity headers in any case.
  bool passesIdentityHeaders(size_t route_index) const;

  const JwksDocument& jwks() const { return jwks_; }
  const IdentityJwt& identityJwt() const { return *jwt_; }
  const ClaimHeaders& claimHeaders() const { return settings_.claim_headers; }

  // The compiled policy of a route (shared with the engines that reuse it).
  const policy::Policy& policy(size_t route_index) const { return *routes_[route_index].policy; }
  // How many route policies create() took from `previous` instead of
  // compiling them (for logs and tests).
  size_t reusedPolicyCount() const { return reused_policy_count_; }

 private:
  struct alignas(64) RouteState {
    // What a decision reads first, in the state's first cache line: with
    // thousands of routes, each route's state is a cache miss.
    std::shared_ptr<const policy::Policy> policy;
    std::vector<std::pair<std::string, HeaderTemplate>> set_request_headers;
    bool pass_identity_headers = false;
    bool templates_use_jwt = false;
    bool session_only = false;  // the policy reads only the session
    IssuerFormat issuer_format = IssuerFormat::kHostOnly;
    // Read only when the engine is built.
    std::string id;
    // The route's policy keys, serialised; equal keys compile to equal
    // policies.
    std::string policy_key;
  };

  explicit Engine(EngineSettings settings);
  void appendJwtHeaders(const Identity& identity, const HeaderRequest& request, IssuerFormat format,
                        const JwtCache::Token& token, JwtCache& cache, OutputHeaders& out) const;

  EngineSettings settings_;
  std::vector<RouteState, HugePageAllocator<RouteState>> routes_;
  std::unique_ptr<IdentityJwt> jwt_;
  JwksDocument jwks_;
  size_t reused_policy_count_ = 0;
  uint64_t id_;
};

}  // namespace gatehouse::authorize

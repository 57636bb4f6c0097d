#include "authorize/service.h"

#include <nlohmann/json.hpp>

#include "authorize/response.h"
#include "common/strings.h"
#include "crypto/signing_key.h"
#include "session/cookie.h"
#include "session/urls.h"

namespace gatehouse::authorize {
namespace {

std::string htmlPage(std::string_view title, std::string_view body) {
  std::string out = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  out += htmlEscape(title);
  out += "</title></head><body>";
  out += body;
  out += "</body></html>\n";
  return out;
}

CheckResponse respond(int status, std::string content_type, std::string body) {
  CheckResponse r;
  r.kind = CheckResponse::Kind::kRespond;
  r.status = status;
  r.headers.emplace_back("content-type", std::move(content_type));
  r.headers.emplace_back("cache-control", "no-store");
  r.body = std::move(body);
  return r;
}

CheckResponse error(int status, std::string details, bool grpc = false) {
  CheckResponse r;
  r.kind = CheckResponse::Kind::kError;
  r.status = status;
  r.details = std::move(details);
  r.grpc = grpc;
  return r;
}

RequestFacts factsOf(const CheckRequest& request, bool from_header) {
  RequestFacts facts;
  facts.path = request.path;
  if (request.headers) {
    facts.accept = request.headers->get("accept").value_or("");
    facts.content_type = request.headers->get("content-type").value_or("");
    facts.user_agent = request.headers->get("user-agent").value_or("");
  }
  facts.session_from_header_or_query = from_header;
  return facts;
}

policy::SessionInput sessionInput(const session::Loaded& s) {
  policy::SessionInput input;
  input.authenticated = true;
  input.user_id = s.session.user_id;
  input.email = s.email;
  input.claims = &s.claims();
  input.groups = s.groups;
  return input;
}

Identity identityOf(const session::Loaded& s) {
  Identity identity;
  identity.session_id = s.session.id;
  identity.session_version = s.version;
  identity.user_id = s.session.user_id;
  identity.email = s.email;
  identity.name = s.name;
  identity.groups = s.groups;
  identity.claims = &s.claims();
  identity.access_token = s.session.oauth_token.access_token;
  identity.id_token = s.session.id_token;
  identity.view = s.id;
  return identity;
}

}  // namespace

void sessionCandidates(const RequestHeaders& headers, std::string_view cookie_name,
                       std::vector<std::string_view>& out, bool& from_header) {
  // One pass: the cookies come first, then the headers' handles (rare: no
  // allocation unless there is one). The visitor captures one pointer, so
  // that std::function keeps it in place instead of allocating.
  struct Found {
    std::string_view cookie_name;
    std::vector<std::string_view>& cookies;
    std::vector<std::string_view> from_headers;
  } found{cookie_name, out, {}};
  headers.forEach([&found](std::string_view name, std::string_view raw) {
    if (iequals(name, "cookie")) {
      session::findCookies(raw, found.cookie_name, found.cookies);
      return;
    }
    std::string_view value = trim(raw);
    if (iequals(name, "x-pomerium-authorization")) {
      found.from_headers.push_back(value);
    } else if (iequals(name, "authorization")) {
      if (value.size() > 9 && iequals(value.substr(0, 9), "pomerium ")) {
        found.from_headers.push_back(trim(value.substr(9)));
      } else if (value.size() > 16 && iequals(value.substr(0, 16), "bearer pomerium-")) {
        found.from_headers.push_back(trim(value.substr(16)));
      }
    }
  });
  out.insert(out.end(), found.from_headers.begin(), found.from_headers.end());
  from_header = !found.from_headers.empty();
}

// ---- State --------------------------------------------------------------

Result<std::shared_ptr<const State>> State::create(std::shared_ptr<const config::Options> options,
                                                   const State* previous) {
  std::shared_ptr<State> state(new State());
  state->options_ = std::move(options);
  const config::Options& opts = *state->options_;
  const config::AuthenticateOptions& auth = opts.authenticate;

  auto handles = session::HandleCodec::create(opts.secrets.shared_secret);
  if (!handles) return Error::invalid("shared_secret: " + handles.error().message);
  state->handles_ = std::make_shared<const session::HandleCodec>(std::move(*handles));
  state->signer_ = std::make_shared<const crypto::SignedUrl>(opts.secrets.shared_secret);
  state->sign_in_configured_ = !auth.idp.provider.empty() && !auth.service_url.empty();

  // Identity JWTs: signing_key, else the key Pomerium derives from the
  // shared secret (same kid, so upstreams keep verifying across a switch).
  auto signing_key = opts.identity.signing_key_pem.empty()
                         ? crypto::SigningKey::deriveFromSharedSecret(opts.secrets.shared_secret)
                         : crypto::SigningKey::fromPem(opts.identity.signing_key_pem);
  if (!signing_key) {
    return Error::invalid(
        (opts.identity.signing_key_pem.empty() ? "shared_secret: " : "signing_key: ") +
        signing_key.error().message);
  }
  EngineSettings settings;
  settings.signing_key = std::make_shared<const crypto::SigningKey>(std::move(*signing_key));
  settings.claim_headers = ClaimHeaders(opts.identity.jwt_claims_headers);
  if (auto format = parseIssuerFormat(opts.identity.jwt_issuer_format)) {
    settings.issuer_format = *format;
  }
  settings.pass_identity_headers = opts.identity.pass_identity_headers;
  // With a client CA (downstream_mtls), Pomerium's default enforcement
  // denies every request without a valid client certificate.
  if (auto mtls = opts.extra.find("downstream_mtls"); mtls != opts.extra.end()) {
    auto json = nlohmann::json::parse(mtls->second, nullptr, false);
    if (json.is_object() && (json.contains("ca") || json.contains("ca_file"))) {
      std::string enforcement = json.value("enforcement", "policy_with_default_deny");
      settings.compile_options.deny_invalid_client_certificate =
          enforcement == "policy_with_default_deny";
    }
  }
  auto engine = Engine::create(opts.routes, std::move(settings),
                               previous ? previous->engine_.get() : nullptr);
  if (!engine) return engine.error();
  state->engine_ = std::shared_ptr<const Engine>(std::move(*engine));

  std::string default_idp =
      session::idpId(auth.idp.provider, auth.idp.provider_url, auth.idp.client_id);
  for (const auto& route : opts.routes) {
    state->route_idp_ids_.push_back(
        route.idp_client_id.empty()
            ? default_idp
            : session::idpId(auth.idp.provider, auth.idp.provider_url, route.idp_client_id));
    state->route_by_id_.emplace(route.id, route.index);
  }
  if (auto flags = opts.extra.find("runtime_flags"); flags != opts.extra.end()) {
    auto json = nlohmann::json::parse(flags->second, nullptr, false);
    if (json.is_object()) {
      if (auto f = json.find("pomerium_jwt_endpoint"); f != json.end() && f->is_boolean()) {
        state->jwt_endpoint_ = f->get<bool>();
      }
      if (auto f = json.find("routes_portal"); f != json.end() && f->is_boolean()) {
        state->routes_portal_ = f->get<bool>();
      }
    }
  }
  return std::shared_ptr<const State>(std::move(state));
}

int State::routeIndex(std::string_view id) const {
  auto it = route_by_id_.find(std::string(id));
  return it == route_by_id_.end() ? -1 : static_cast<int>(it->second);
}

// ---- Service ------------------------------------------------------------

struct Service::Loaded {
  std::shared_ptr<const session::Loaded> session;
  bool unavailable = false;
  bool from_header = false;
};

Service::Service(std::function<std::shared_ptr<const State>()> state, session::Cache* sessions)
    : state_(std::move(state)), sessions_(sessions), session_view_(sessions) {}

// Plain functions around decide(), whose frame holds the configuration:
// one coroutine frame per decision.
Task<CheckResponse> Service::check(const CheckRequest& request) {
  return decide(request, state_());
}

Task<CheckResponse> Service::check(const CheckRequest& request, const State& state) {
  // Not owned: the caller keeps `state` alive until the decision is made.
  return decide(request, std::shared_ptr<const State>(std::shared_ptr<const State>(), &state));
}

std::shared_ptr<const session::Handle> Service::verifiedHandle(const State& state,
                                                               std::string_view text) {
  if (verifiedHandleNow(state, text) == nullptr) return nullptr;
  return verified_.find(text)->second;
}

const session::Handle* Service::verifiedHandleNow(const State& state, std::string_view text) {
  constexpr size_t kCapacity = 4096;
  if (verified_codec_ != state.handles_.get()) {
    // Another configuration (perhaps another shared secret): start afresh.
    verified_.clear();
    verified_codec_ = state.handles_.get();
  }
  if (auto it = verified_.find(text); it != verified_.end()) return it->second.get();
  auto handle = state.handles_->verify(text);
  if (!handle) return nullptr;
  if (verified_.size() >= kCapacity) verified_.clear();
  auto shared = std::make_shared<const session::Handle>(std::move(*handle));
  return verified_.emplace(std::string(text), std::move(shared)).first->second.get();
}

bool Service::loadSessionLocally(const CheckRequest& request, const State& state, int route,
                                 Loaded& out) {
  if (!request.headers) return true;
  std::vector<std::string_view>& candidates = local_candidates_;
  candidates.clear();
  sessionCandidates(*request.headers, state.options_->authenticate.cookie.name, candidates,
                    out.from_header);
  if (candidates.empty() || !sessions_) return true;
  const std::string* idp_id = route >= 0 ? &state.route_idp_ids_[route] : nullptr;
  auto now = std::chrono::system_clock::now();
  for (std::string_view candidate : candidates) {
    const session::Handle* handle = verifiedHandleNow(state, candidate);
    if (!handle) continue;
    if (idp_id && !handle->idp_id.empty() && handle->idp_id != *idp_id) continue;
    std::optional<session::Lookup> found = session_view_.lookupLocal(*handle, now);
    if (!found) return false;
    if (found->status == session::LookupStatus::kFound) {
      out.session = std::move(found->session);
      out.unavailable = false;
      return true;
    }
    if (found->status == session::LookupStatus::kUnavailable) out.unavailable = true;
  }
  return true;
}

Task<void> Service::loadSession(const CheckRequest& request, const State& state, int route,
                                Loaded& out) {
  if (!request.headers) co_return;
  std::vector<std::string_view> candidates;
  sessionCandidates(*request.headers, state.options_->authenticate.cookie.name, candidates,
                    out.from_header);
  if (candidates.empty() || !sessions_) co_return;
  const std::string* idp_id = route >= 0 ? &state.route_idp_ids_[route] : nullptr;
  auto now = std::chrono::system_clock::now();
  for (std::string_view candidate : candidates) {
    // Held across the lookup, which may wait: the cache may be cleared
    // meanwhile.
    std::shared_ptr<const session::Handle> handle = verifiedHandle(state, candidate);
    if (!handle) continue;
    // A session from another identity provider is not one for this route.
    if (idp_id && !handle->idp_id.empty() && handle->idp_id != *idp_id) continue;
    session::Lookup found = co_await sessions_->lookup(*handle, now);
    if (found.status == session::LookupStatus::kFound) {
      out.session = std::move(found.session);
      out.unavailable = false;
      co_return;
    }
    if (found.status == session::LookupStatus::kUnavailable) out.unavailable = true;
  }
}

// A browser is sent to sign in with a signed URL of the authenticate
// service that comes back to this very URL.
CheckResponse Service::loginRedirect(const CheckRequest& request, const State& state, int route) {
  std::string redirect_uri = std::string(request.scheme) + "://" + std::string(request.authority) +
                             std::string(request.path);
  if (!request.query.empty()) redirect_uri += "?" + std::string(request.query);

  constexpr size_t kRedirectCapacity = 1024;
  auto now = std::chrono::system_clock::now();
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (second != redirects_second_ || redirects_signer_ != state.signer_ ||
      redirects_.size() >= kRedirectCapacity) {
    redirects_.clear();
    redirects_second_ = second;
    redirects_signer_ = state.signer_;
  }
  redirect_key_ = std::to_string(route);
  redirect_key_ += ' ';
  redirect_key_ += redirect_uri;
  auto cached = redirects_.find(redirect_key_);
  if (cached == redirects_.end()) {
    Redirect made;
    made.location = signedSignInUrl(state, route, redirect_uri, now);
    made.body = "<a href=\"" + htmlEscape(made.location) + "\">Login</a>.\n";
    cached = redirects_.emplace(redirect_key_, std::move(made)).first;
  }
  CheckResponse r;
  r.kind = CheckResponse::Kind::kRespond;
  r.status = 302;
  r.headers.reserve(3);
  r.headers.emplace_back("location", cached->second.location);
  r.headers.emplace_back("cache-control", "no-store");
  r.headers.emplace_back("content-type", "text/html; charset=utf-8");
  r.body = cached->second.body;
  r.details = "sign in required";
  return r;
}

// The authenticate service's sign-in URL that comes back to
// `redirect_uri`, signed at `now`.
std::string Service::signedSignInUrl(const State& state, int route, const std::string& redirect_uri,
                                     std::chrono::system_clock::time_point now) const {
  const config::Options& options = *state.options_;
  session::Params params;
  params.emplace_back(session::param::kRedirectUri, redirect_uri);
  if (route >= 0) {
    params.emplace_back(session::param::kIdpId, state.route_idp_ids_[route]);
    const auto& depends_on = options.routes[route].depends_on;
    if (!depends_on.empty()) {
      std::string hosts;
      for (const auto& h : depends_on) hosts += (hosts.empty() ? "" : ",") + h;
      params.emplace_back(session::param::kAdditionalHosts, hosts);
    }
  }
  return state.signer_->sign(options.authenticate.service_url + std::string(session::kSignInPath) +
                                 "?" + session::encodeQuery(params),
                             now);
}

CheckResponse Service::unauthenticated(const CheckRequest& request, const State& state, int route,
                                       bool from_header, std::string details) {
  RequestFacts facts = factsOf(request, from_header);
  bool xhr = request.headers &&
             iequals(request.headers->get("x-requested-with").value_or(""), "xmlhttprequest");
  if (state.sign_in_configured_ && !xhr && shouldRedirect(facts)) {
    return loginRedirect(request, state, route);
  }
  if (!state.sign_in_configured_) {
    details =
        "sign in required, and sign-in is not configured "
        "(authenticate_service_url, idp_provider)";
  }
  return error(401, std::move(details),
               isGrpcRequest(facts.content_type) || isGrpcWebRequest(facts.content_type));
}

int Service::routeOf(const CheckRequest& request, const State& state) {
  const auto& routes = state.options_->routes;
  int route = static_cast<int>(request.route_index);
  // The proxy holds its configuration while it asks, so the same address
  // is the same object, not a later one at a freed address.
  if (request.options == state.options_.get() && route < static_cast<int>(routes.size())) {
    return route;
  }
  // Another configuration (a reload between matching and deciding, or
  // another process): the route at that index must have the same id, else
  // it is found by its id, or refused.
  std::string_view id = request.routeId();
  if (id.empty()) return -1;
  if (route < static_cast<int>(routes.size()) && routes[route].id == id) return route;
  return state.routeIndex(id);
}

std::optional<CheckResponse> Service::checkNow(const CheckRequest& request) {
  std::shared_ptr<const State> held = state_();
  if (!held) return error(503, "authorize has no configuration yet");
  if (request.internal) return std::nullopt;
  const State& state = *held;
  int route = routeOf(request, state);
  if (route < 0) return error(503, "the route is not in authorize's configuration");
  Loaded loaded;
  if (!loadSessionLocally(request, state, route, loaded)) return std::nullopt;
  return decideLoaded(request, state, route, loaded);
}

Task<CheckResponse> Service::decide(const CheckRequest& request,
                                    std::shared_ptr<const State> held) {
  if (!held) co_return error(503, "authorize has no configuration yet");
  const State& state = *held;
  if (request.internal) co_return co_await internal(request, state);
  int route = routeOf(request, state);
  if (route < 0) co_return error(503, "the route is not in authorize's configuration");
  Loaded loaded;
  if (!loadSessionLocally(request, state, route, loaded)) {
    loaded = Loaded{};
    co_await loadSession(request, state, route, loaded);
  }
  co_return decideLoaded(request, state, route, loaded);
}

policy::Decision Service::evaluate(const State& state, size_t route, const policy::Input& input,
                                   uint64_t view) {
  const Engine& engine = *state.engine_;
  if (view == 0 || !engine.decidesBySessionOnly(route)) return engine.evaluate(route, input);
  if (decided_.empty()) decided_.resize(size_t{1} << kDecidedBits);
  uint64_t mixed = (view * 0x9E3779B97F4A7C15ULL) ^ (route * 0xC2B2AE3D27D4EB4FULL) ^ engine.id();
  Decided& kept = decided_[(mixed * 0x9E3779B97F4A7C15ULL) >> (64 - kDecidedBits)];
  if (kept.engine != engine.id() || kept.view != view || kept.route != route) {
    kept = {engine.id(), view, route, engine.evaluate(route, input)};
  }
  return kept.decision;
}

CheckResponse Service::decideLoaded(const CheckRequest& request, const State& state, int route,
                                    const Loaded& loaded) {
  if (loaded.unavailable && !loaded.session) {
    return error(503, "the session store is unavailable");
  }

  policy::Input input;
  input.request.method = request.method;
  input.request.path = request.path;
  input.request.host = request.host;
  input.request.source_ip = policy::SourceAddress::fromText(request.client_ip);
  input.request.headers = request.headers;
  input.request.client_certificate = request.client_certificate;
  input.request.now = std::chrono::system_clock::now();
  if (loaded.session) input.session = sessionInput(*loaded.session);
  policy::Decision decision =
      evaluate(state, static_cast<size_t>(route), input, loaded.session ? loaded.session->id : 0);
  RequestFacts facts = factsOf(request, loaded.from_header);
  Response response = decideResponse(decision, facts);

  if (response.outcome == Outcome::kAllow) {
    Identity identity = loaded.session ? identityOf(*loaded.session) : Identity{};
    Engine::HeaderRequest header_request;
    header_request.host = request.host;
    header_request.request_headers = request.headers;
    header_request.client_cert_fingerprint = request.client_certificate.fingerprint_sha256;
    header_request.now = input.request.now;
    CheckResponse allow;
    allow.kind = CheckResponse::Kind::kAllow;
    allow.status = 200;
    if (request.header_storage != nullptr) {
      allow.headers = std::move(*request.header_storage);
      allow.headers.clear();
    }
    auto added = state.engine_->identityHeaders(static_cast<size_t>(route), identity,
                                                header_request, jwt_cache_, allow.headers);
    if (!added) return error(500, "identity headers: " + added.error().message);
    return allow;
  }
  std::string details = decision.reasons.toString();
  switch (response.outcome) {
    case Outcome::kRedirectToLogin:
      return unauthenticated(request, state, route, loaded.from_header, details);
    case Outcome::kUnauthenticated: {
      if (state.sign_in_configured_) {
        return error(
            401, details,
            response.format == BodyFormat::kGrpc || response.format == BodyFormat::kGrpcWeb);
      }
      return unauthenticated(request, state, route, loaded.from_header, details);
    }
    case Outcome::kRobotsTxt:
      return respond(200, "text/plain; charset=utf-8", std::string(kRobotsTxtBody));
    default:
      return error(response.status, details,
                   response.format == BodyFormat::kGrpc || response.format == BodyFormat::kGrpcWeb);
  }
}

// ---- The pages that show the session ------------------------------------

Task<CheckResponse> Service::internal(const CheckRequest& request, const State& state) {
  std::string_view path = request.path;
  int route = -1;
  // Sign in with the host's own route, when it has one.
  for (const auto& r : state.options_->routes) {
    if (r.from_host == request.host) {
      route = static_cast<int>(r.index);
      break;
    }
  }
  Loaded loaded;
  co_await loadSession(request, state, route, loaded);
  bool page = path == "/.pomerium" || path == "/.pomerium/";
  if (page) co_return userPage(state, loaded.session.get(), request.host, false);
  bool enabled =
      (path == "/.pomerium/jwt" && state.jwt_endpoint_) || path == "/.pomerium/user" ||
      (state.routes_portal_ && (path == "/.pomerium/routes" || path == "/.pomerium/api/v1/routes"));
  if (!enabled) co_return error(404, "this endpoint is not available");
  if (!loaded.session) {
    if (loaded.unavailable) co_return error(503, "the session store is unavailable");
    co_return unauthenticated(request, state, route, loaded.from_header, "sign in required");
  }
  const session::Loaded& s = *loaded.session;
  if (path == "/.pomerium/user") co_return userPage(state, &s, request.host, true);
  if (path == "/.pomerium/jwt") {
    auto token = jwt_cache_.get(state.engine_->identityJwt(), identityOf(s), request.host,
                                IssuerFormat::kHostOnly, std::chrono::system_clock::now());
    if (!token) co_return error(500, token.error().message);
    co_return respond(200, "application/jwt", std::string(token->jwt));
  }
  co_return routesPortal(request, state, s, path == "/.pomerium/api/v1/routes");
}

// /.pomerium/ (HTML) and /.pomerium/user (JSON): who is signed in, as the
// identity JWT says it (without iss, aud, exp, iat and jti). Never shows
// tokens.
CheckResponse Service::userPage(const State& state, const session::Loaded* s, std::string_view host,
                                bool json) const {
  if (!s)
    return respond(200, "text/html; charset=utf-8",
                   htmlPage("Not signed in", "<h1>Not signed in</h1>"));
  if (json) {
    Identity identity = identityOf(*s);
    IdentityClaims::Stamp stamp{};
    stamp.issuer = host;
    stamp.audience = host;
    IdentityClaims claims(identity, stamp, state.engine_->identityJwt().extraClaims());
    auto document = nlohmann::json::parse(claims.payloadJson(), nullptr, false);
    if (document.is_object()) {
      for (const char* key : {"iss", "aud", "exp", "iat", "jti"}) document.erase(key);
    }
    return respond(200, "application/json",
                   document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  std::string groups;
  for (const auto& g : s->groups) groups += (groups.empty() ? "" : ", ") + g;
  std::string body = "<h1>Signed in</h1><dl><dt>User</dt><dd>" + htmlEscape(s->session.user_id) +
                     "</dd><dt>Email</dt><dd>" + htmlEscape(s->email) + "</dd><dt>Name</dt><dd>" +
                     htmlEscape(s->name) + "</dd><dt>Groups</dt><dd>" + htmlEscape(groups) +
                     "</dd><dt>Session expires</dt><dd>" +
                     htmlEscape(session::formatTime(s->session.expires_at)) +
                     "</dd></dl><p><a href=\"/.pomerium/routes\">Routes</a> &middot; "
                     "<a href=\"/.pomerium/sign_out\">Sign out</a></p>";
  return respond(200, "text/html; charset=utf-8", htmlPage("Signed in", body));
}

// The routes portal: the routes this user may open, as HTML or JSON
// ({"routes":[{"id","name","type","from","description","logo_url"}]}).
CheckResponse Service::routesPortal(const CheckRequest& request, const State& state,
                                    const session::Loaded& s, bool json) const {
  nlohmann::json list = nlohmann::json::array();
  std::string items;
  auto now = std::chrono::system_clock::now();
  for (const config::Route& route : state.options_->routes) {
    if (route.redirect || route.response) continue;
    policy::Input input;
    input.request.method = "GET";
    input.request.path = route.path.empty() ? std::string_view(route.prefix) : route.path;
    if (input.request.path.empty()) input.request.path = "/";
    input.request.host = route.from_host;
    input.request.source_ip = policy::SourceAddress::fromText(request.client_ip);
    input.request.now = now;
    input.session = sessionInput(s);
    if (!state.engine_->evaluate(route.index, input).allowed()) continue;
    auto logo = route.extra.find("logo_url");
    std::string name = route.name.empty() ? route.from : route.name;
    list.push_back({{"id", route.id},
                    {"name", name},
                    {"type", "http"},
                    {"from", route.from},
                    {"description", route.description},
                    {"logo_url", logo == route.extra.end() ? "" : logo->second}});
    bool linkable = route.from_host.find('*') == std::string::npos;
    items += "<li>";
    if (linkable) items += "<a href=\"" + htmlEscape(route.from) + "\">";
    items += htmlEscape(name);
    if (linkable) items += "</a>";
    if (!route.description.empty()) items += " &mdash; " + htmlEscape(route.description);
    items += "</li>";
  }
  if (json) {
    nlohmann::json body = {{"routes", std::move(list)}};
    return respond(200, "application/json",
                   body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  return respond(200, "text/html; charset=utf-8",
                 htmlPage("Routes", "<h1>Routes</h1><ul>" + items + "</ul>"));
}

}  // namespace gatehouse::authorize

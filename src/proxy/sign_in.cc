// The proxy's part of signing in: reading the session a request carries,
// sending a user without one to sign in, and the /.pomerium/ endpoints every
// route host serves (the login callback, sign-out, programmatic login, the
// user page). The authenticate service itself is in src/authenticate; in
// all-in-one mode this process also answers its host.

#include "authorize/response.h"
#include "common/log.h"
#include "common/strings.h"
#include "proxy/error_page.h"
#include "proxy/proxy.h"
#include "proxy/request.h"
#include "session/urls.h"

namespace gatehouse::proxy {
namespace {

constexpr size_t kMaxFormBytes = 64 * 1024;

// The port part of an authority ("" when none), for building a URL to a
// sibling host on the same listener.
std::string_view portOf(std::string_view authority) {
  size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    return {};
  }
  return authority.substr(colon);
}

std::string scheme(const http::ServerExchange& exchange) {
  return exchange.connection().tls ? "https" : "http";
}

// Where a request's session handle may be (Pomerium's order): the session
// cookie, X-Pomerium-Authorization, Authorization: Pomerium <jwt> and
// Authorization: Bearer Pomerium-<jwt>. `from_header` tells which kind.
void sessionCandidates(const http::RequestHead& head, std::string_view cookie_name,
                       std::vector<std::string_view>& out, bool& from_header) {
  for (const auto& f : head.headers.fields()) {
    if (!iequals(f.name, "cookie")) continue;
    for (auto v : session::findCookies(f.value, cookie_name)) out.push_back(v);
  }
  size_t cookies = out.size();
  for (const auto& f : head.headers.fields()) {
    std::string_view value = trim(f.value);
    if (iequals(f.name, "x-pomerium-authorization")) {
      out.push_back(value);
    } else if (iequals(f.name, "authorization")) {
      if (value.size() > 9 && iequals(value.substr(0, 9), "pomerium ")) {
        out.push_back(trim(value.substr(9)));
      } else if (value.size() > 16 && iequals(value.substr(0, 16), "bearer pomerium-")) {
        out.push_back(trim(value.substr(16)));
      }
    }
  }
  from_header = out.size() > cookies;
}

}  // namespace

Task<void> Proxy::loadSession(Request& r) {
  if (r.session_loaded) co_return;
  r.session_loaded = true;
  std::vector<std::string_view> candidates;
  bool from_header = false;
  sessionCandidates(r.head(), r.snapshot->session_cookie_name, candidates, from_header);
  r.session_from_header = from_header;
  if (candidates.empty() || !sessions_) co_return;
  const std::string* idp_id =
      r.route ? &r.snapshot->route_idp_ids[r.routeConfig()->index] : nullptr;
  for (std::string_view candidate : candidates) {
    auto handle = r.snapshot->handles->verify(candidate);
    if (!handle) continue;
    // A session from another identity provider is not one for this route.
    if (idp_id && !handle->idp_id.empty() && handle->idp_id != *idp_id) continue;
    session::Lookup found = co_await sessions_->lookup(*handle, r.now);
    if (found.status == session::LookupStatus::kFound) {
      r.session = std::move(found.session);
      r.session_unavailable = false;
      co_return;
    }
    if (found.status == session::LookupStatus::kUnavailable) r.session_unavailable = true;
  }
}

// Sends a browser to sign in: a signed URL of the authenticate service
// that comes back to this very URL.
Task<void> Proxy::sendLoginRedirect(Request& r) {
  const http::RequestHead& head = r.head();
  const Snapshot& snap = *r.snapshot;
  if (!snap.authenticator) {
    r.details =
        "sign in required, and sign-in is not configured "
        "(authenticate_service_url, idp_provider)";
    co_await sendDenied(r, 401, "Unauthenticated", false);
    co_return;
  }
  // Internal paths have no route of their own: sign in with the host's.
  const CompiledRoute* route = r.route ? r.route : snap.routes->match(r.host, "/");
  std::string redirect_uri = scheme(r.exchange) + "://" + head.authority + r.path;
  if (!r.query.empty()) redirect_uri += "?" + r.query;
  session::Params params;
  params.emplace_back(session::param::kRedirectUri, redirect_uri);
  if (route) {
    params.emplace_back(session::param::kIdpId, snap.route_idp_ids[route->config->index]);
    const auto& depends_on = route->config->depends_on;
    if (!depends_on.empty()) {
      std::string hosts;
      for (const auto& h : depends_on) hosts += (hosts.empty() ? "" : ",") + h;
      params.emplace_back(session::param::kAdditionalHosts, hosts);
    }
  }
  std::string location =
      snap.signer->sign(snap.authenticate_url + std::string(session::kSignInPath) + "?" +
                            session::encodeQuery(params),
                        r.now);
  http::ResponseHead redirect;
  redirect.status = 302;
  redirect.headers.add("location", location);
  redirect.headers.add("cache-control", "no-store");
  redirect.headers.add("content-type", "text/html; charset=utf-8");
  r.details = "sign in required";
  co_await sendSimple(r, std::move(redirect),
                      "<a href=\"" + htmlEscape(location) + "\">Login</a>.\n");
}

// A refusal in the client's format: gRPC clients get a trailers-only
// answer with the matching grpc-status, the others the error page (HTML,
// or JSON with `error` and `request_id`).
Task<void> Proxy::sendDenied(Request& r, int status, std::string_view message, bool grpc) {
  if (!grpc) {
    co_await sendLocal(r, status, r.details.empty() ? std::string(message) : r.details);
    co_return;
  }
  http::ResponseHead head;
  head.status = 200;
  head.headers.add("content-type", "application/grpc");
  head.headers.add("grpc-status", std::to_string(authorize::grpcStatusForHttp(status)));
  head.headers.add("grpc-message", std::string(message));
  head.headers.add("x-request-id", r.id);
  co_await sendSimple(r, std::move(head), "");
  r.status = status;
}

// Internal paths that need a session: none means sign in first.
static bool isBrowser(const http::RequestHead& head, std::string_view path, bool from_header) {
  authorize::RequestFacts facts;
  facts.session_from_header_or_query = from_header;
  facts.path = path;
  facts.accept = head.headers.get("accept").value_or("");
  facts.content_type = head.headers.get("content-type").value_or("");
  facts.user_agent = head.headers.get("user-agent").value_or("");
  return authorize::shouldRedirect(facts);
}

Task<Result<std::string>> Proxy::readSmallBody(Request& r, size_t limit) {
  std::string body;
  if (!r.head().has_body) co_return body;
  while (true) {
    auto piece = co_await r.exchange.readBody();
    if (!piece) co_return piece.error();
    if (piece->empty()) break;
    if (body.size() + piece->size() > limit) {
      co_return Error{ErrorCode::kTooLarge, ErrorSource::kDownstream, "request body too large",
                      false};
    }
    body.append(*piece);
  }
  co_return body;
}

Task<void> Proxy::serveAuthenticate(Request& r) {
  std::string body;
  if (r.head().method == "POST") {
    auto read = co_await readSmallBody(r, kMaxFormBytes);
    if (!read) {
      r.details = read.error().message;
      co_await sendLocal(r, read.error().code == ErrorCode::kTooLarge ? 413 : 400, r.details);
      co_return;
    }
    body = std::move(*read);
  }
  authenticate::Request request;
  request.head = &r.head();
  request.host = r.host;
  request.path = r.path;
  request.query = r.query;
  request.body = body;
  request.now = r.now;
  authenticate::LocalResponse response = co_await r.snapshot->authenticator->handle(request);
  if (response.error_page) {
    for (auto& f : response.head.headers.fields()) r.extra_headers.add(f.name, f.value);
    r.details = response.details;
    // Sign-in errors are shown: they are about the user's own login.
    ErrorPage page = renderErrorPage(r.head(), response.head.status, r.id, r.details);
    http::ResponseHead head;
    head.status = response.head.status;
    head.headers.add("content-type", page.content_type);
    head.headers.add("cache-control", "no-store");
    head.headers.add("x-request-id", r.id);
    co_await sendSimple(r, std::move(head), page.body);
    co_return;
  }
  co_await sendSimple(r, std::move(response.head), response.body);
}

Task<Proxy::Outcome> Proxy::serveInternal(Request& r) {
  std::string_view path = r.path;
  if (path == session::kCallbackPath || path == "/.pomerium/callback") {
    co_await serveCallback(r);
  } else if (path == session::kSignOutPath) {
    co_await serveSignOut(r);
  } else if (path == "/.pomerium/api/v1/login") {
    co_await serveProgrammaticLogin(r);
  } else if (path == "/.pomerium" || path == "/.pomerium/") {
    co_await serveUserInfo(r, false);
  } else if (authorize::Engine::internalPathNeedsLogin(path) &&
             (path != "/.pomerium/jwt" || r.snapshot->jwt_endpoint) &&
             (path == "/.pomerium/jwt" || path == "/.pomerium/user" ||
              (r.snapshot->routes_portal &&
               (path == "/.pomerium/routes" || path == "/.pomerium/api/v1/routes")))) {
    co_await loadSession(r);
    if (!r.session) {
      if (r.session_unavailable) {
        r.details = "the session store is unavailable";
        co_await sendLocal(r, 503, r.details);
      } else if (isBrowser(r.head(), path, r.session_from_header)) {
        co_await sendLoginRedirect(r);
      } else {
        r.details = "sign in required";
        co_await sendDenied(r, 401, "Unauthenticated", false);
      }
    } else if (path == "/.pomerium/jwt") {
      co_await serveJwt(r);
    } else if (path == "/.pomerium/user") {
      co_await serveUserInfo(r, true);
    } else {
      co_await serveRoutes(r, path == "/.pomerium/api/v1/routes");
    }
  } else {
    r.details = "this endpoint is not available";
    co_await sendLocal(r, 404, r.details);
  }
  co_return Outcome::kDone;
}

// Receives the sealed session handle from the authenticate service, sets
// the session cookie for this host, then goes on to the next depends_on
// host or back to where the user started.
Task<void> Proxy::serveCallback(Request& r) {
  const Snapshot& snap = *r.snapshot;
  std::string url = scheme(r.exchange) + "://" + r.head().authority + r.path +
                    (r.query.empty() ? "" : "?" + r.query);
  if (auto verified = snap.signer->verify(url, r.now); !verified) {
    r.details = "invalid or expired sign-in callback: " + verified.error().message;
    co_await sendLocal(r, 400, r.details);
    co_return;
  }
  session::Params params = session::parseQuery(r.query);
  auto sealed = session::findParam(params, session::param::kSessionEncrypted);
  auto handle = sealed ? snap.handles->open(*sealed) : Result<session::Handle>(Error::invalid(""));
  if (!handle) {
    r.details = "sign-in callback without a valid session";
    co_await sendLocal(r, 400, r.details);
    co_return;
  }
  bool for_this_host = false;
  for (const auto& aud : handle->audience) for_this_host |= aud == r.host;
  if (!for_this_host) {
    r.details = "the session was not issued for this host";
    co_await sendLocal(r, 400, r.details);
    co_return;
  }
  auto redirect_uri = session::findParam(params, session::param::kRedirectUri);
  auto target = redirect_uri ? session::parseAbsoluteUrl(*redirect_uri) : std::nullopt;
  if (!target) {
    r.details = "sign-in callback without a valid pomerium_redirect_uri";
    co_await sendLocal(r, 400, r.details);
    co_return;
  }
  std::string jwt = snap.handles->sign(*handle);
  r.extra_headers.add(
      "set-cookie", session::setCookie(snap.session_cookie_name, jwt, snap.session_cookie, r.now));
  std::string location;
  auto hosts = session::findParam(params, session::param::kAdditionalHosts);
  bool programmatic = session::findParam(params, session::param::kProgrammatic) == "true";
  if (hosts && !hosts->empty()) {
    std::vector<std::string> list = splitList(*hosts);
    std::string next = list.front();
    std::string rest;
    for (size_t i = 1; i < list.size(); ++i) rest += (rest.empty() ? "" : ",") + list[i];
    session::Params forward;
    forward.emplace_back(session::param::kSessionEncrypted, *sealed);
    forward.emplace_back(session::param::kRedirectUri, *redirect_uri);
    if (programmatic) forward.emplace_back(session::param::kProgrammatic, "true");
    if (!rest.empty()) forward.emplace_back(session::param::kAdditionalHosts, rest);
    location = snap.signer->sign(
        scheme(r.exchange) + "://" + next + std::string(portOf(r.head().authority)) +
            std::string(session::kCallbackPath) + "?" + session::encodeQuery(forward),
        r.now);
  } else if (programmatic) {
    location = *redirect_uri + (redirect_uri->find('?') == std::string::npos ? "?" : "&") +
               std::string(session::param::kJwt) + "=" + session::escape(jwt);
  } else {
    location = *redirect_uri;
  }
  http::ResponseHead redirect;
  redirect.status = 302;
  redirect.headers.add("location", location);
  redirect.headers.add("cache-control", "no-store");
  co_await sendSimple(r, std::move(redirect), "");
}

// Clears this host's session cookie and hands over to the authenticate
// service, which ends the session everywhere.
Task<void> Proxy::serveSignOut(Request& r) {
  const Snapshot& snap = *r.snapshot;
  r.extra_headers.add("set-cookie",
                      session::clearCookie(snap.session_cookie_name, snap.session_cookie));
  if (snap.authenticate_url.empty()) {
    http::ResponseHead ok;
    ok.headers.add("content-type", "text/plain; charset=utf-8");
    ok.headers.add("cache-control", "no-store");
    co_await sendSimple(r, std::move(ok), "Signed out.\n");
    co_return;
  }
  std::string url = snap.authenticate_url + std::string(session::kSignOutPath);
  const std::string& after = snap.options.authenticate.signout_redirect_url;
  if (!after.empty()) {
    url += "?" + session::encodeQuery({{std::string(session::param::kRedirectUri), after}});
  }
  http::ResponseHead redirect;
  redirect.status = 302;
  redirect.headers.add("location", snap.signer->sign(url, r.now));
  redirect.headers.add("cache-control", "no-store");
  co_await sendSimple(r, std::move(redirect), "");
}

// Programmatic login (CLI tools): answers the sign-in URL as text; the
// login ends at the tool's own localhost URL with pomerium_jwt.
Task<void> Proxy::serveProgrammaticLogin(Request& r) {
  const Snapshot& snap = *r.snapshot;
  if (!snap.authenticator) {
    r.details = "sign-in is not configured";
    co_await sendLocal(r, 404, r.details);
    co_return;
  }
  session::Params params = session::parseQuery(r.query);
  auto redirect_uri = session::findParam(params, session::param::kRedirectUri);
  auto target = redirect_uri ? session::parseAbsoluteUrl(*redirect_uri) : std::nullopt;
  bool allowed = false;
  if (target) {
    for (const auto& domain : snap.options.authenticate.programmatic_redirect_domains) {
      allowed |= target->host == domain;
    }
  }
  if (!allowed) {
    r.details =
        "pomerium_redirect_uri must be an absolute URL on an allowed host "
        "(programmatic_redirect_domain_whitelist)";
    co_await sendLocal(r, 400, r.details);
    co_return;
  }
  const CompiledRoute* route = snap.routes->match(r.host, "/");
  const std::string& idp_id =
      route ? snap.route_idp_ids[route->config->index]
            : (snap.route_idp_ids.empty() ? std::string() : snap.route_idp_ids.front());
  session::Params query;
  query.emplace_back(session::param::kRedirectUri, *redirect_uri);
  query.emplace_back(session::param::kIdpId, idp_id);
  query.emplace_back(session::param::kCallbackUri, scheme(r.exchange) + "://" + r.head().authority +
                                                       std::string(session::kCallbackPath));
  query.emplace_back(session::param::kProgrammatic, "true");
  std::string url = snap.signer->sign(
      snap.authenticate_url + std::string(session::kSignInPath) + "?" + session::encodeQuery(query),
      r.now);
  http::ResponseHead ok;
  ok.headers.add("content-type", "text/plain; charset=utf-8");
  ok.headers.add("cache-control", "no-store");
  co_await sendSimple(r, std::move(ok), url);
}

// /.pomerium/ (HTML) and /.pomerium/user (JSON): who is signed in, as the
// identity JWT says it (without iss, aud, exp, iat and jti). Never shows
// tokens.
Task<void> Proxy::serveUserInfo(Request& r, bool json) {
  co_await loadSession(r);
  http::ResponseHead ok;
  ok.headers.add("cache-control", "no-store");
  if (!r.session) {
    ok.headers.add("content-type", "text/html; charset=utf-8");
    co_await sendSimple(r, std::move(ok),
                        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Not signed "
                        "in</title></head><body><h1>Not signed in</h1></body></html>\n");
    co_return;
  }
  const session::Loaded& s = *r.session;
  if (json) {
    authorize::Identity identity = identityOf(s);
    const authorize::IdentityJwt& minter = r.snapshot->authorizer->identityJwt();
    authorize::IdentityClaims::Stamp stamp{};
    stamp.issuer = r.host;
    stamp.audience = r.host;
    authorize::IdentityClaims claims(identity, stamp, minter.extraClaims());
    auto document = nlohmann::json::parse(claims.payloadJson(), nullptr, false);
    if (document.is_object()) {
      for (const char* key : {"iss", "aud", "exp", "iat", "jti"}) document.erase(key);
    }
    ok.headers.add("content-type", "application/json");
    co_await sendSimple(
        r, std::move(ok),
        document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    co_return;
  }
  std::string groups;
  for (const auto& g : s.groups) groups += (groups.empty() ? "" : ", ") + g;
  std::string body =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title>"
      "</head><body><h1>Signed in</h1><dl><dt>User</dt><dd>" +
      htmlEscape(s.session.user_id) + "</dd><dt>Email</dt><dd>" + htmlEscape(s.email) +
      "</dd><dt>Name</dt><dd>" + htmlEscape(s.name) + "</dd><dt>Groups</dt><dd>" +
      htmlEscape(groups) + "</dd><dt>Session expires</dt><dd>" +
      htmlEscape(session::formatTime(s.session.expires_at)) +
      "</dd></dl><p><a href=\"/.pomerium/routes\">Routes</a> &middot; "
      "<a href=\"/.pomerium/sign_out\">Sign out</a></p></body></html>\n";
  ok.headers.add("content-type", "text/html; charset=utf-8");
  co_await sendSimple(r, std::move(ok), body);
}

// /.pomerium/jwt (behind the pomerium_jwt_endpoint runtime flag): the
// identity JWT this host's upstreams would get.
Task<void> Proxy::serveJwt(Request& r) {
  authorize::Identity identity = identityOf(*r.session);
  RequestHeaderLookup headers(r.head().headers);
  authorize::Engine::HeaderRequest header_request;
  header_request.host = r.host;
  header_request.request_headers = &headers;
  header_request.now = r.now;
  auto token = jwt_cache_.get(r.snapshot->authorizer->identityJwt(), identity, r.host,
                              authorize::IssuerFormat::kHostOnly, r.now);
  if (!token) {
    r.details = token.error().message;
    co_await sendLocal(r, 500, r.details);
    co_return;
  }
  http::ResponseHead ok;
  ok.headers.add("content-type", "application/jwt");
  ok.headers.add("cache-control", "no-store");
  co_await sendSimple(r, std::move(ok), token->jwt);
}

// Whether the signed-in user of `r` may open `route` (its start page).
bool Proxy::allowsRoute(Request& r, const config::Route& route) {
  if (route.redirect || route.response) return false;
  policy::Input input;
  input.request.method = "GET";
  input.request.path = route.path.empty() ? std::string_view(route.prefix) : route.path;
  if (input.request.path.empty()) input.request.path = "/";
  input.request.host = route.from_host;
  input.request.source_ip = policy::IpAddress::parse(r.client_ip);
  input.request.now = r.now;
  const session::Loaded& s = *r.session;
  input.session.authenticated = true;
  input.session.user_id = s.session.user_id;
  input.session.email = s.email;
  input.session.claims = &s.claims;
  input.session.groups = s.groups;
  return r.snapshot->authorizer->evaluate(route.index, input).allowed();
}

// The routes portal: the routes this user may open, as HTML or JSON
// ({"routes":[{"id","name","type","from","description","logo_url"}]}).
Task<void> Proxy::serveRoutes(Request& r, bool json) {
  const config::Options& options = r.snapshot->options;
  nlohmann::json list = nlohmann::json::array();
  std::string items;
  for (const config::Route& route : options.routes) {
    if (!allowsRoute(r, route)) continue;
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
  http::ResponseHead ok;
  ok.headers.add("cache-control", "no-store");
  if (json) {
    ok.headers.add("content-type", "application/json");
    nlohmann::json body = {{"routes", std::move(list)}};
    co_await sendSimple(r, std::move(ok),
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    co_return;
  }
  ok.headers.add("content-type", "text/html; charset=utf-8");
  co_await sendSimple(r, std::move(ok),
                      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
                      "Routes</title></head><body><h1>Routes</h1><ul>" +
                          items + "</ul></body></html>\n");
}

}  // namespace gatehouse::proxy

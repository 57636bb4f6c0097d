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

}  // namespace

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
  } else if (path == "/.pomerium" || path == "/.pomerium/" ||
             authorize::Engine::internalPathNeedsLogin(path)) {
    // The pages that show the session are authorize's to answer.
    co_await ask(r, true);
  } else {
    r.details = "this endpoint is not available";
    co_await sendLocal(r, 404, r.details);
  }
  co_return Outcome::kDone;
}

// The facts of a request as authorize needs them. `headers` and
// `scheme_text` hold what `check` refers to.
void Proxy::describe(Request& r, bool internal, ProxyRequestHeaders& headers,
                     std::string& scheme_text, authorize::CheckRequest& check) const {
  const http::RequestHead& head = r.head();
  scheme_text = scheme(r.exchange);
  check.internal = internal;
  if (!internal) {
    check.route_index = r.route->index;
    // The id is read from `options` only if authorize needs it.
    check.options = r.snapshot->options.get();
  }
  check.method = head.method;
  check.scheme = scheme_text;
  check.authority = head.authority;
  check.host = r.host;
  check.path = r.path;
  check.query = r.query;
  check.headers = &headers;
  check.client_ip = r.client_ip;
  // As in Pomerium, every request counts as having a valid client
  // certificate when no client CA is configured.
  policy::ClientCertificateInput& certificate = check.client_certificate;
  certificate.valid = !r.snapshot->client_ca_configured;
  const net::ClientCertificate* presented = r.exchange.connection().client_certificate;
  if (presented && presented->presented) {
    certificate.presented = true;
    certificate.valid = certificate.valid || presented->valid;
    certificate.fingerprint_sha256 = presented->fingerprint_sha256;
    certificate.spki_sha256_base64 = presented->spki_sha256_base64;
    certificate.san_dns = presented->san_dns;
    certificate.san_email = presented->san_email;
    certificate.san_uri = presented->san_uri;
  }
}

void Proxy::recordDecision(const authorize::CheckResponse& answer,
                           net::Clock::time_point started) const {
  if (!metrics_) return;
  metrics_->recordDecision(answer.kind == authorize::CheckResponse::Kind::kAllow,
                           net::Clock::now() - started);
}

// Most decisions on a route request wait for nothing (the session is in
// the local index, or there is none): those are made here, on the
// request's stack, with no coroutine. Nullopt when only ask() can decide.
std::optional<authorize::CheckResponse> Proxy::askNow(Request& r) {
  ProxyRequestHeaders headers(r.head().headers);
  std::string scheme_text;
  authorize::CheckRequest check;
  describe(r, false, headers, scheme_text, check);
  if (!spare_identity_headers_.empty()) {
    r.identity_headers = std::move(spare_identity_headers_.back());
    spare_identity_headers_.pop_back();
  }
  check.header_storage = &r.identity_headers;
  auto started = net::Clock::now();
  std::optional<authorize::CheckResponse> answer = authorizer_.checkNow(check);
  if (answer) recordDecision(*answer, started);
  return answer;
}

// Asks for a decision on a route request (or an internal page), waiting
// for it, and acts on the answer.
Task<Proxy::Outcome> Proxy::ask(Request& r, bool internal) {
  ProxyRequestHeaders headers(r.head().headers);
  std::string scheme_text;
  authorize::CheckRequest check;
  describe(r, internal, headers, scheme_text, check);
  check.header_storage = &r.identity_headers;
  auto started = net::Clock::now();
  authorize::CheckResponse answer = co_await authorizer_.check(check);
  if (!internal) recordDecision(answer, started);
  co_return co_await act(r, std::move(answer), internal);
}

// Acts on authorize's answer: an allowed route request goes on with the
// identity headers; anything else is answered here.
Task<Proxy::Outcome> Proxy::act(Request& r, authorize::CheckResponse answer, bool internal) {
  switch (answer.kind) {
    case authorize::CheckResponse::Kind::kAllow:
      if (internal) break;
      r.identity_headers = std::move(answer.headers);
      co_return Outcome::kContinue;
    case authorize::CheckResponse::Kind::kRespond: {
      http::ResponseHead response;
      response.status = answer.status;
      for (auto& [name, value] : answer.headers) response.headers.add(name, value);
      r.details = std::move(answer.details);
      co_await sendSimple(r, std::move(response), answer.body);
      co_return Outcome::kDone;
    }
    case authorize::CheckResponse::Kind::kError: {
      r.details = std::move(answer.details);
      const net::ClientCertificate* presented = r.exchange.connection().client_certificate;
      if (answer.status == 495 && presented && !presented->verify_error.empty()) {
        r.details += " (" + presented->verify_error + ")";
      }
      co_await sendDenied(r, answer.status, http::statusReason(answer.status), answer.grpc);
      co_return Outcome::kDone;
    }
  }
  r.details = "unexpected answer from authorize";
  co_await sendLocal(r, 500, r.details);
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
  const std::string& after = snap.options->authenticate.signout_redirect_url;
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
    for (const auto& domain : snap.options->authenticate.programmatic_redirect_domains) {
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
  const authorize::State& state = *snap.authorize_state;
  std::string idp_id = route ? state.routeIdpId(route->config->index)
                             : (snap.options->routes.empty() ? std::string() : state.routeIdpId(0));
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

}  // namespace gatehouse::proxy

#include "proxy/proxy.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <charconv>
#include <cstring>

#include "authorize/response.h"
#include "common/log.h"
#include "common/strings.h"
#include "http/path_normalizer.h"
#include "proxy/error_page.h"
#include "proxy/request.h"
#include "proxy/rewrite.h"

namespace gatehouse::proxy {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
// How long an endpoint that refused a connection is skipped.
constexpr auto kDeadEndpointBackoff = std::chrono::seconds(5);
constexpr auto kDefaultRouteIdleTimeout = std::chrono::minutes(5);
// Spare upstream request heads a worker keeps: as many as requests it
// usually has in flight, and only ordinary ones, so that a burst of huge
// requests does not leave its memory behind.
constexpr size_t kMaxSpareHeads = 256;
constexpr size_t kMaxSpareHeadBytes = 16 * 1024;

using Duration = net::Clock::duration;

// Splits "host:port" / "[v6]:port" into a lower-case host; "" if invalid.
// The host is a part of `authority` when that is lower-case already (the
// usual case), else it is lowered into `storage`.
std::string_view hostOf(std::string_view authority, std::string& storage) {
  if (authority.empty()) return {};
  std::string_view host;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return {};
    host = authority.substr(1, close - 1);
  } else {
    size_t colon = authority.rfind(':');
    host = colon == std::string_view::npos ? authority : authority.substr(0, colon);
    // "example.com." is "example.com".
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  }
  if (hasAsciiUpper(host)) {
    storage = toLower(host);
    return storage;
  }
  return host;
}

std::string clientAddress(const http::RequestHead& request, const std::string& peer,
                          uint32_t trusted_hops) {
  if (trusted_hops == 0) return peer;
  std::vector<std::string> hops;
  for (const auto& f : request.headers.fields()) {
    if (!iequals(f.name, "x-forwarded-for")) continue;
    for (auto& h : splitList(f.value)) hops.push_back(std::move(h));
  }
  if (hops.size() < trusted_hops) return peer;
  return hops[hops.size() - trusted_hops];
}

std::string upstreamText(const config::UpstreamUrl& to) {
  return to.scheme + "://" +
         (to.host.find(':') != std::string::npos ? "[" + to.host + "]" : to.host) + ":" +
         std::to_string(to.port);
}

}  // namespace

Proxy::Proxy(SnapshotSource& snapshots, uint64_t seed, authorize::Client& authorizer,
             metrics::RequestMetrics* metrics)
    : snapshots_(snapshots), authorizer_(authorizer), metrics_(metrics), random_{seed} {}
Proxy::~Proxy() = default;

RequestId requestIdFrom(uint64_t high, uint64_t low) {
  // Two digits per byte from one table, each pair to its place between
  // the dashes.
  static constexpr auto kPairs = [] {
    constexpr char kHex[] = "0123456789abcdef";
    std::array<std::array<char, 2>, 256> pairs{};
    for (size_t i = 0; i < 256; ++i) pairs[i] = {kHex[i >> 4], kHex[i & 0xf]};
    return pairs;
  }();
  static constexpr uint8_t kPlace[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  RequestId id;
  for (size_t i = 0; i < 16; ++i) {
    const uint64_t word = i < 8 ? high : low;
    const auto byte = static_cast<uint8_t>(word >> (56 - 8 * (i % 8)));
    std::memcpy(id.text.data() + kPlace[i], kPairs[byte].data(), 2);
  }
  id.text[8] = id.text[13] = id.text[18] = id.text[23] = '-';
  id.text[14] = '4';
  return id;
}

RequestId Proxy::newRequestId() {
  // From the worker's generator: unique enough to find a request in the
  // logs, and not a secret.
  const uint64_t high = random_();
  return requestIdFrom(high, random_());
}

Task<void> Proxy::handle(http::ServerExchange& exchange) {
  Request r(exchange, snapshots_.current());
  r.id = newRequestId();
  r.client_ip = clientAddress(r.head(), exchange.connection().remote_ip,
                              r.snapshot->options->http.xff_num_trusted_hops);

  // The common path (a route request whose decision waits for nothing)
  // runs in this coroutine alone: admission and the decision are plain
  // calls, and the coroutines that answer are entered only when needed.
  Admission admission = classify(r);
  if (admission == Admission::kRoute || co_await admit(r, admission) == Outcome::kContinue) {
    r.route = r.snapshot->routes->match(r.host, r.path);
    if (!r.route) {
      r.details = "no route matches this host and path";
      co_await sendLocal(r, 404, r.details);
    } else {
      std::optional<authorize::CheckResponse> answer = askNow(r);
      Outcome decided = Outcome::kContinue;
      if (!answer) {
        decided = co_await authorize(r);
      } else if (answer->kind == authorize::CheckResponse::Kind::kAllow) {
        r.identity_headers = std::move(answer->headers);
      } else {
        decided = co_await act(r, std::move(*answer), false);
      }
      if (decided == Outcome::kContinue) co_await forward(r);
    }
  }
  logAccess(r);
  if (size_t kept = r.identity_headers.retainedBytes();
      kept > 0 && kept <= kMaxSpareHeadBytes && spare_identity_headers_.size() < kMaxSpareHeads) {
    spare_identity_headers_.push_back(std::move(r.identity_headers));
  }
  if (r.upstream_request && r.upstream_request_reusable && spare_heads_.size() < kMaxSpareHeads) {
    spare_heads_.push_back(std::move(r.upstream_request));
  }
}

// Phase 1: one authority and one path, decided once and used for routing,
// policy and the upstream alike; then the endpoints every host serves.
// Sets what it found (host, path, query, and details for an error) and
// says who answers; admit() sends the answers.
Proxy::Admission Proxy::classify(Request& r) {
  const http::RequestHead& head = r.head();
  r.host = hostOf(head.authority, r.host_storage);
  if (r.host.empty()) {
    r.details = "missing or invalid host";
    return Admission::kBadHost;
  }
  const http::ConnectionInfo& conn = r.exchange.connection();
  if (head.version == 20 && conn.tls && !conn.server_name.empty() && r.snapshot->server_tls &&
      !iequals(conn.server_name, r.host) &&
      r.snapshot->server_tls->selectIndex(conn.server_name) !=
          r.snapshot->server_tls->selectIndex(r.host)) {
    // A reused HTTP/2 connection whose certificate does not cover this
    // host: the client must open a new connection (RFC 9110 15.5.20).
    r.details = "this connection's certificate does not cover the requested host";
    return Admission::kMisdirected;
  }

  http::NormalizedTarget target = http::normalizeTarget(head.target, r.snapshot->path_options);
  if (target.verdict == http::PathVerdict::kReject) {
    r.details = target.reason.empty() ? "invalid request path" : target.reason;
    return Admission::kBadPath;
  }
  r.path = std::move(target.path);
  r.query = std::move(target.query);
  if (target.verdict == http::PathVerdict::kRedirect) return Admission::kPathRedirect;

  std::string_view path = r.path;
  if (path == "/ping" || path == "/healthz") return Admission::kPing;
  if (path == "/.well-known/pomerium" || path == "/.well-known/pomerium/") {
    return Admission::kDiscovery;
  }
  if (path == "/.well-known/pomerium/jwks.json") return Admission::kJwks;
  if (r.snapshot->authenticator && r.snapshot->serve_authenticate &&
      r.snapshot->authenticator->serves(r.host, path)) {
    return Admission::kAuthenticate;
  }
  if (!r.snapshot->serve_routes) {
    r.details = "this process serves only the authenticate service";
    return Admission::kRoutesNotServed;
  }
  if (path == "/.pomerium" || startsWith(path, "/.pomerium/")) return Admission::kInternal;
  if (startsWith(path, "/.well-known/pomerium/")) {
    r.details = "this endpoint is not available";
    return Admission::kUnknownWellKnown;
  }
  return Admission::kRoute;
}

Task<Proxy::Outcome> Proxy::admit(Request& r, Admission admission) {
  const http::RequestHead& head = r.head();
  switch (admission) {
    case Admission::kRoute:
      co_return Outcome::kContinue;
    case Admission::kBadHost:
    case Admission::kBadPath:
      co_await sendLocal(r, 400, r.details);
      break;
    case Admission::kMisdirected:
      co_await sendLocal(r, 421, r.details);
      break;
    case Admission::kPathRedirect: {
      http::ResponseHead redirect;
      redirect.status = 307;
      redirect.headers.add("location", r.query.empty() ? r.path : r.path + "?" + r.query);
      co_await sendSimple(r, std::move(redirect), "");
      break;
    }
    case Admission::kPing: {
      if (head.method != "GET" && head.method != "HEAD") {
        co_await sendLocal(r, 405, "");
        break;
      }
      http::ResponseHead ok;
      ok.headers.add("content-type", "text/plain; charset=utf-8");
      co_await sendSimple(r, std::move(ok), "OK");
      break;
    }
    case Admission::kDiscovery: {
      std::string base = "https://" + std::string(r.host);
      std::string body =
          "{\"issuer\":" + jsonQuote(base + "/") + ",\"authentication_callback_endpoint\":" +
          jsonQuote(r.snapshot->authenticate_url + "/oauth2/callback") +
          ",\"jwks_uri\":" + jsonQuote(base + "/.well-known/pomerium/jwks.json") +
          ",\"frontchannel_logout_uri\":" + jsonQuote(base + "/.pomerium/sign_out") + "}\n";
      http::ResponseHead ok;
      ok.headers.add("content-type", "application/json");
      ok.headers.add("access-control-allow-origin", "*");
      co_await sendSimple(r, std::move(ok), body);
      break;
    }
    case Admission::kJwks: {
      // Every public key in rotation, so that JWTs signed with a key being
      // retired still verify.
      const authorize::JwksDocument& jwks = r.snapshot->authorize_state->engine().jwks();
      http::ResponseHead ok;
      ok.headers.add("content-type", authorize::JwksDocument::kContentType);
      ok.headers.add("access-control-allow-origin", "*");
      ok.headers.add("cache-control", authorize::JwksDocument::kCacheControl);
      ok.headers.add("etag", jwks.etag);
      if (auto match = head.headers.get("if-none-match"); match && *match == jwks.etag) {
        ok.status = 304;
        co_await sendSimple(r, std::move(ok), "");
      } else {
        co_await sendSimple(r, std::move(ok), jwks.body);
      }
      break;
    }
    case Admission::kAuthenticate:
      co_await serveAuthenticate(r);
      break;
    case Admission::kRoutesNotServed:
    case Admission::kUnknownWellKnown:
      co_await sendLocal(r, 404, r.details);
      break;
    case Admission::kInternal:
      co_return co_await serveInternal(r);
  }
  co_return Outcome::kDone;
}

// Phase 2: the decision, asked of the authorize service (in process or
// over gRPC): it reads the session the request carries and the route's
// policy, and answers with the identity headers to forward or the response
// to send (sign-in redirect, 401, 403, 495, ...). Fail closed.
// (A plain function returning ask()'s task: no coroutine frame of its own.)
Task<Proxy::Outcome> Proxy::authorize(Request& r) { return ask(r, false); }

const config::UpstreamUrl* Proxy::pickUpstream(Request& r, const config::UpstreamUrl* avoid) {
  if (const config::UpstreamUrl* only = r.route->single_to) return avoid == only ? nullptr : only;
  const config::Route& route = *r.routeConfig();
  auto now = net::Clock::now();
  // Usually nothing is marked dead and no endpoint name is built; an
  // entry whose time is up is forgotten, so the map does not grow.
  auto alive = [&](const config::UpstreamUrl& to) {
    if (&to == avoid) return false;
    if (dead_until_.empty()) return true;
    auto it = dead_until_.find(upstreamText(to));
    if (it == dead_until_.end()) return true;
    if (it->second > now) return false;
    dead_until_.erase(it);
    return true;
  };
  uint64_t total = 0;
  for (const auto& to : route.to) {
    if (alive(to)) total += to.weight;
  }
  if (total == 0) {
    // Every endpoint is marked dead: try one anyway rather than refuse,
    // it may have come back.
    for (const auto& to : route.to) {
      if (&to != avoid) return &to;
    }
    return nullptr;
  }
  uint64_t pick = random_() % total;
  for (const auto& to : route.to) {
    if (!alive(to)) continue;
    if (pick < to.weight) return &to;
    pick -= to.weight;
  }
  return nullptr;
}

void Proxy::prepareUpstreamHeaders(Request& r, http::RequestHead& out,
                                   const config::UpstreamUrl& to) {
  const Snapshot& snap = *r.snapshot;
  const http::ConnectionInfo& conn = r.exchange.connection();
  UpstreamRequestContext context;
  context.path = r.path;
  context.query = r.query;
  context.session_cookie_name = snap.session_cookie_name;
  context.xff_num_trusted_hops = snap.options->http.xff_num_trusted_hops;
  context.skip_xff_append = snap.options->http.skip_xff_append;
  context.remote_ip = conn.remote_ip;
  context.tls = conn.tls;
  context.request_id = r.id;
  context.decision_headers = {r.identity_headers.data(), r.identity_headers.size()};
  prepareUpstreamRequest(*r.route, r.head(), to, context, out);
}

void Proxy::addResponseHeaders(Request& r, http::Headers& headers) const {
  // Most routes have no response headers of their own: their config is
  // not read.
  const config::Route* route = r.route && r.route->response_headers ? r.route->config : nullptr;
  if (route && route->disable_response_headers) return;
  for (const auto& h : r.snapshot->options->http.set_response_headers) {
    bool overridden = false;
    if (route) {
      for (const auto& rh : route->set_response_headers) overridden |= iequals(rh.name, h.name);
    }
    if (!overridden) headers.set(h.name, h.value);
  }
  if (route) {
    for (const auto& h : route->set_response_headers) headers.set(h.name, h.value);
  }
}

Task<void> Proxy::sendSimple(Request& r, http::ResponseHead head, std::string_view body) {
  for (auto& f : r.extra_headers.fields()) head.headers.add(f.name, f.value);
  addResponseHeaders(r, head.headers);
  r.status = head.status;
  auto result = co_await http::respond(r.exchange, std::move(head), body);
  if (result) r.bytes_sent += r.head().method == "HEAD" ? 0 : body.size();
}

Task<void> Proxy::sendLocal(Request& r, int status, std::string_view details) {
  const config::Route* route = r.routeConfig();
  bool show = route && route->show_error_details;
  ErrorPage page = renderErrorPage(r.head(), status, r.id, show ? details : std::string_view());
  http::ResponseHead head;
  head.status = status;
  head.headers.add("content-type", page.content_type);
  head.headers.add("cache-control", "no-store");
  head.headers.add("x-request-id", r.id);
  co_await sendSimple(r, std::move(head), page.body);
}

// A route's `redirect` or `response`: answered here, no upstream.
Task<void> Proxy::sendConfiguredAnswer(Request& r) {
  const config::Route& route = *r.route->config;
  http::ResponseHead head;
  if (route.redirect) {
    head.status = route.redirect->response_code;
    std::string_view scheme = r.exchange.connection().tls ? "https" : "http";
    head.headers.add("location",
                     redirectLocation(*r.route, scheme, r.head().authority, r.path, r.query));
    co_await sendSimple(r, std::move(head), "");
  } else {
    head.status = route.response->status;
    head.headers.add("content-type", "text/plain; charset=utf-8");
    co_await sendSimple(r, std::move(head), route.response->body);
  }
}

// Every local that lives across a co_await is part of this coroutine's
// frame, allocated for each proxied request: the large ones (the upstream
// request head) live in the Request, and the rare answers are coroutines
// of their own, so that the frame stays small enough for the worker's
// frame cache.
Task<void> Proxy::forward(Request& r) {
  const CompiledRoute& route = *r.route;
  const http::RequestHead& in = r.head();

  if (route.redirect_or_response) {
    co_await sendConfiguredAnswer(r);
    co_return;
  }

  bool websocket = route.allow_websockets && in.upgrade == "websocket";
  Duration response_timeout = std::chrono::duration_cast<Duration>(route.timeout().value_or(
      websocket ? Duration::zero() : r.snapshot->options->http.default_upstream_timeout));
  Duration idle_timeout = std::chrono::duration_cast<Duration>(route.idle_timeout().value_or(
      websocket ? Duration::zero() : Duration(kDefaultRouteIdleTimeout)));

  const config::UpstreamUrl* avoid = nullptr;
  bool body_touched = false;
  Error last_error = Error::internal("no upstream");
  for (int attempt = 0; attempt < 3; ++attempt) {
    const config::UpstreamUrl* to = pickUpstream(r, avoid);
    if (!to) break;
    r.upstream = to;
    UpstreamTarget target;
    target.scheme = to->scheme;
    target.host = to->host;
    target.port = to->port;
    if (route.upstream_tls) target.tls = r.snapshot->upstream_tls[route.index];
    target.server_name = route.has_tls_server_name ? std::string_view(*route.tls_server_name)
                                                   : std::string_view(to->host);
    // Nearly every request finds a connection open: no coroutine for that.
    std::unique_ptr<http::UpstreamExchange> upstream = pool_.reuse(target, attempt > 0);
    if (!upstream) {
      auto opened = co_await pool_.connect(target, kConnectTimeout);
      if (!opened) {
        last_error = opened.error();
        if (last_error.code == ErrorCode::kUnavailable) {
          dead_until_[upstreamText(*to)] = net::Clock::now() + kDeadEndpointBackoff;
          avoid = to;
          continue;
        }
        break;
      }
      upstream = std::move(*opened);
    }
    upstream->setTimeouts(response_timeout, idle_timeout);

    if (!r.upstream_request) {
      if (spare_heads_.empty()) {
        r.upstream_request = std::make_unique<http::RequestHead>();
      } else {
        r.upstream_request = std::move(spare_heads_.back());
        spare_heads_.pop_back();
      }
    }
    http::RequestHead& out = *r.upstream_request;
    out.reset();
    prepareUpstreamHeaders(r, out, *to);
    r.upstream_request_reusable = out.headers.retainedBytes() <= kMaxSpareHeadBytes;
    Result<void> sent = upstream->sendHead(out, in.content_length);
    if (sent && in.has_body) {
      body_touched = true;
      auto streamed = co_await sendRequestBody(r, *upstream);
      if (!streamed) co_return;  // the client's side failed, and was answered
      sent = std::move(*streamed);
    }
    if (sent) {
      auto now = upstream->finishRequestNow();
      sent = now ? std::move(*now) : co_await upstream->finishRequest();
    }
    Result<http::ResponseHead> response = Error::internal("not sent");
    if (sent || body_touched) {
      // An upstream may answer early (413, say) and close without reading
      // the rest of the body; our write then fails, but its answer is
      // already here to be read, and it is the one the client should get.
      response = co_await upstream->readResponse();
      if (!response && !sent) response = sent.error();
    } else {
      response = sent.error();
    }
    if (!response) {
      last_error = response.error();
      // A keep-alive connection the upstream closed while it sat idle:
      // safe to repeat on a new connection if no body went out.
      if (upstream->reusedConnection() && !upstream->responseStarted() && !body_touched &&
          last_error.code != ErrorCode::kTimeout) {
        continue;
      }
      break;
    }

    co_await relayResponse(r, *upstream, *response, websocket);
    upstream->recycleResponse(std::move(*response));
    co_return;
  }

  r.details = last_error.message;
  int status = last_error.code == ErrorCode::kTimeout ? 504 : 502;
  r.upstream_failure = last_error.code == ErrorCode::kTimeout ? metrics::UpstreamFailure::kTimeout
                       : last_error.code == ErrorCode::kUnavailable
                           ? metrics::UpstreamFailure::kConnect
                           : metrics::UpstreamFailure::kOther;
  log::warn("upstream request failed")
      .str("request-id", r.id)
      .str("upstream", r.upstream ? upstreamText(*r.upstream) : std::string())
      .str("error", last_error.message);
  if (!r.exchange.responseStarted()) co_await sendLocal(r, status, r.details);
}

// Passes the upstream's answer on: its head, then its body (or, for an
// accepted upgrade, the raw streams both ways).
Task<void> Proxy::relayResponse(Request& r, http::UpstreamExchange& upstream,
                                http::ResponseHead& head, bool websocket) {
  const CompiledRoute& route = *r.route;
  const http::RequestHead& in = r.head();
  if (head.status == 101) {
    if (!websocket) {
      r.details = "upstream switched protocols without being asked";
      co_await sendLocal(r, 502, r.details);
      co_return;
    }
    head.headers.set("connection", "Upgrade");
    head.headers.set("upgrade", "websocket");
  }
  if (route.rewrite_response_headers) {
    for (auto& f : head.headers.fields()) rewriteResponseHeader(*route.config, f.name, f.value);
  }
  head.headers.removeIf([](const http::Field& f) { return isIdentityHeader(f.name); });
  addResponseHeaders(r, head.headers);
  r.status = head.status;
  bool no_body =
      in.method == "HEAD" || head.status == 204 || head.status == 304 || head.status == 101;
  if (!r.exchange.sendHead(head, upstream.responseLength(), no_body)) co_return;
  // From here on a failure can only cut the connection.
  if (head.status == 101) {
    if (co_await r.exchange.finish()) co_await spliceUpgrade(r, upstream);
    co_return;
  }
  while (true) {
    auto piece = co_await upstream.readBody();
    if (!piece) {
      // The response has started: all that is left is to cut the
      // connection so the client sees an incomplete response.
      r.details = piece.error().message;
      r.upstream_failure = metrics::UpstreamFailure::kOther;
      co_return;
    }
    if (piece->empty()) break;
    r.bytes_sent += piece->size();
    if (upstream.bodyDone()) {
      auto now = r.exchange.sendLastNow(*piece, upstream.trailers());
      Result<void> sent =
          now ? std::move(*now) : co_await r.exchange.sendLast(*piece, upstream.trailers());
      if (!sent) r.details = "client went away";
      co_return;
    }
    if (!co_await r.exchange.sendBody(*piece)) co_return;
  }
  if (!co_await r.exchange.finish(upstream.trailers())) r.details = "client went away";
}

// Streams the client's request body to the upstream. The result is the
// upstream side's (a failed write ends the attempt); nullopt when the
// client's side failed, which is answered here (400 for a malformed body).
Task<std::optional<Result<void>>> Proxy::sendRequestBody(Request& r,
                                                         http::UpstreamExchange& upstream) {
  while (true) {
    auto piece = co_await r.exchange.readBody();
    if (!piece) {
      r.details = "client request body: " + piece.error().message;
      r.status = 0;
      // A malformed body (a bad chunk size) is answered with 400; a
      // client that broke off its own request has nobody to answer.
      if (piece.error().code == ErrorCode::kProtocol && !r.exchange.responseStarted()) {
        co_await sendLocal(r, 400, r.details);
      }
      co_return std::nullopt;
    }
    if (piece->empty()) co_return Result<void>();
    auto sent = co_await upstream.sendBody(*piece);
    if (!sent) co_return sent;
  }
}

Task<void> Proxy::spliceUpgrade(Request& r, http::UpstreamExchange& upstream) {
  using namespace asio::experimental::awaitable_operators;
  std::string down_buffered;
  std::string up_buffered;
  net::Stream* down = r.exchange.takeOverStream(down_buffered);
  net::Stream* up = upstream.takeOverStream(up_buffered);
  if (!down || !up) co_return;
  const config::Route& route = *r.routeConfig();
  Duration idle =
      std::chrono::duration_cast<Duration>(route.idle_timeout.value_or(Duration::zero()));
  auto touch = [&] {
    if (idle.count() > 0) {
      down->setTimeout(idle);
      up->setTimeout(idle);
    } else {
      down->setDeadline(net::Clock::time_point::max());
      up->setDeadline(net::Clock::time_point::max());
    }
  };
  touch();
  uint64_t& bytes = r.bytes_sent;
  // Copies one direction until its end; activity either way keeps both
  // directions alive (the idle timeout is for the connection as a whole).
  auto pump = [&](net::Stream& from, net::Stream& to, std::string initial,
                  bool count) -> Task<void> {
    if (!initial.empty()) {
      if (!co_await to.write(std::string_view(initial))) {
        from.close();
        co_return;
      }
    }
    std::vector<char> buffer(16 * 1024);
    while (true) {
      auto n = co_await from.readSome(asio::buffer(buffer));
      if (!n || *n == 0) break;
      if (!co_await to.write(std::string_view(buffer.data(), *n))) break;
      if (count) bytes += *n;
      touch();
    }
    co_await to.shutdownSend();
  };
  co_await (pump(*down, *up, std::move(down_buffered), false) &&
            pump(*up, *down, std::move(up_buffered), true));
  down->close();
  up->close();
}

void Proxy::logAccess(const Request& r) const {
  auto elapsed = net::Clock::now() - r.start;
  if (metrics_) {
    std::string_view label = r.route ? r.route->metricsLabel() : std::string_view();
    uint64_t key = r.route ? r.route->metrics_key : 0;
    metrics_->recordRequest({label, r.head().method, r.status, elapsed, r.upstream_failure, key});
  }
  // The line is built only when it is written: this runs for every request.
  if (!log::enabled(log::Level::kInfo)) return;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  const http::RequestHead& head = r.head();
  auto line = log::info("http-request");
  line.str("service", "proxy")
      .str("method", head.method)
      .str("authority", head.authority)
      .str("path", r.path.empty() ? std::string_view(head.target) : std::string_view(r.path))
      .num("response-code", static_cast<int64_t>(r.status))
      .num("duration", static_cast<double>(micros.count()) / 1000.0)
      .num("size", static_cast<int64_t>(r.bytes_sent))
      .str("upstream-cluster", r.route ? r.route->id : std::string_view())
      .str("upstream", r.upstream ? upstreamText(*r.upstream) : std::string())
      .str("request-id", r.id)
      .str("forwarded-for", r.client_ip)
      .str("user-agent", head.headers.get("user-agent").value_or(""));
  if (auto referer = head.headers.get("referer")) line.str("referer", *referer);
  if (!r.details.empty()) line.str("response-code-details", r.details);
}

Task<void> Proxy::handleMalformed(http::ServerExchange& exchange, int status,
                                  std::string_view reason) {
  Request r(exchange, snapshots_.current());
  r.id = newRequestId();
  r.details = std::string(reason);
  // Nothing of this request can be trusted, not even to pick a route.
  co_await sendLocal(r, status, "");
  logAccess(r);
}

Task<void> HttpsRedirector::handle(http::ServerExchange& exchange) {
  const http::RequestHead& head = exchange.request();
  auto snapshot = snapshots_.current();
  http::ResponseHead response;
  std::string lowered;
  std::string_view host = hostOf(head.authority, lowered);
  if (host.empty()) {
    response.status = 400;
    (void)co_await http::respond(exchange, std::move(response), "");
    co_return;
  }
  http::NormalizedTarget target = http::normalizeTarget(head.target, snapshot->path_options);
  if (target.verdict == http::PathVerdict::kReject) {
    response.status = 400;
    (void)co_await http::respond(exchange, std::move(response), "");
    co_return;
  }
  // Redirect to the HTTPS listener's port when it is not 443.
  std::string address = snapshot->options->listener.address;
  std::string port;
  if (https_port_ != 0) {
    port = std::to_string(https_port_);
  } else if (size_t colon = address.rfind(':'); colon != std::string::npos) {
    port = address.substr(colon + 1);
  }
  std::string location = "https://";
  if (host.find(':') != std::string_view::npos) {
    location.append("[").append(host).append("]");
  } else {
    location += host;
  }
  if (!port.empty() && port != "443") location += ":" + port;
  location += target.path;
  if (!target.query.empty()) location += "?" + target.query;
  response.status = 301;
  response.headers.add("location", location);
  response.headers.add("content-type", "text/plain; charset=utf-8");
  (void)co_await http::respond(exchange, std::move(response), "");
}

Task<void> HttpsRedirector::handleMalformed(http::ServerExchange& exchange, int status,
                                            std::string_view) {
  http::ResponseHead response;
  response.status = status;
  (void)co_await http::respond(exchange, std::move(response), "");
}

}  // namespace gatehouse::proxy

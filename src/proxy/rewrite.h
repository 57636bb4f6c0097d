#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "http/message.h"
#include "proxy/route_table.h"

namespace gatehouse::proxy {

// The path (plus "?query" if any) to send upstream for a request that
// matched `route`, applying prefix_rewrite (or the path of `to`) or the
// regex rewrite, as Envoy applies them for Pomerium.
std::string rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query);
// The same, written into `out` (a kept string: within its capacity no
// allocation).
void rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query,
                 std::string& out);

// The Location for a `redirect` route, as Envoy's RedirectAction builds it.
// `scheme`/`host` are the request's (host may include a port). A
// `prefix_rewrite` replaces the part of the path the route matched; this
// overload has no route and assumes the default prefix "/" matched, so for
// routes with `prefix`, `path` or `regex` use the overload taking the route.
std::string redirectLocation(const config::RedirectAction& redirect, std::string_view scheme,
                             std::string_view host, std::string_view path, std::string_view query);

// The same for the route `match` returned, whose `redirect` must be set;
// prefix_rewrite replaces exactly what that route matched.
std::string redirectLocation(const CompiledRoute& route, std::string_view scheme,
                             std::string_view host, std::string_view path, std::string_view query);

// The same with the length of the matched part of `path` given explicitly.
std::string redirectLocationAfterMatch(const config::RedirectAction& redirect,
                                       std::string_view scheme, std::string_view host,
                                       std::string_view path, std::string_view query,
                                       size_t matched_length);

// How much of `path` the route's match covers, which is what a prefix
// rewrite replaces: the whole path for `path` and `regex` routes, the
// configured prefix (default "/") for prefix routes. `path` must be one the
// route matched.
size_t matchedLength(const CompiledRoute& route, std::string_view path);

// Applies `rewrite_response_headers` to one upstream response header value:
// when `value` starts with a rule's prefix for that header, the prefix is
// replaced. Returns true if it changed `value`.
bool rewriteResponseHeader(const config::Route& route, std::string_view name, std::string& value);

// True for the headers only Gatehouse may set (every x-pomerium-* header):
// a client's or upstream's copy is never passed on.
bool isIdentityHeader(std::string_view name);

// What, besides the route, the endpoint and the client's request, decides
// the head of the request sent upstream. Everything is borrowed for the
// duration of the call.
struct UpstreamRequestContext {
  std::string_view path;   // normalised: what the route matched
  std::string_view query;  // raw, without '?'
  std::string_view session_cookie_name;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  std::string_view remote_ip;  // the peer's address, appended to X-Forwarded-For
  bool tls = false;            // how the client reached us (X-Forwarded-Proto)
  std::string_view request_id;
  // The decision's headers: the identity JWT, claim headers and the rendered
  // set_request_headers; each replaces any field of that name.
  std::span<const std::pair<std::string, std::string>> decision_headers;
};

// Fills `out` (a default-constructed head) with the request to send to
// `to` for a request `in` that matched `route`: the rewritten target, the
// upstream Host, the client's fields without identity headers, the session
// cookie, `Authorization: Pomerium`, untrusted X-Forwarded-* and the route's
// remove_request_headers, then X-Forwarded-For/-Proto/-Host, X-Request-Id
// and the decision's headers.
void prepareUpstreamRequest(const CompiledRoute& route, const http::RequestHead& in,
                            const config::UpstreamUrl& to, const UpstreamRequestContext& context,
                            http::RequestHead& out);

}  // namespace gatehouse::proxy

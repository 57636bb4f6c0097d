#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proxy/route_table.h"

namespace gatehouse::proxy {

// The path (plus "?query" if any) to send upstream for a request that
// matched `route`, applying prefix_rewrite (or the path of `to`) or the
// regex rewrite, as Envoy applies them for Pomerium.
std::string rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query);

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

}  // namespace gatehouse::proxy

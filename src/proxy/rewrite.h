#pragma once

#include <string>
#include <string_view>

#include "proxy/route_table.h"

namespace gatehouse::proxy {

// The path (plus "?query" if any) to send upstream for a request that
// matched `route`, applying prefix_rewrite (or the path of `to`) or the
// regex rewrite, as Envoy applies them for Pomerium.
std::string rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query);

// The Location for a `redirect` route, as Envoy's RedirectAction builds it.
// `scheme`/`host` are the request's (host may include a port).
std::string redirectLocation(const config::RedirectAction& redirect, std::string_view scheme,
                             std::string_view host, std::string_view path,
                             std::string_view query);

// Applies `rewrite_response_headers` to one upstream response header value:
// when `value` starts with a rule's prefix for that header, the prefix is
// replaced. Returns true if it changed `value`.
bool rewriteResponseHeader(const config::Route& route, std::string_view name, std::string& value);

}  // namespace gatehouse::proxy

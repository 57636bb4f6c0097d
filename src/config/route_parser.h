#pragma once

#include <vector>

#include "config/options.h"
#include "config/parse_context.h"

namespace gatehouse::config {

// Parses the `routes` list (or the legacy `policy` list; `routes.path` is the
// key as written, for messages) into validated routes. Problems go to `ctx`;
// the returned routes are meaningful only when `ctx` has no errors.
std::vector<Route> parseRoutes(ParseContext& ctx, const Value& routes);

// The stable identifier Pomerium derives from a route's matching and action
// (from, prefix, path, regex, to/redirect/response): 16 hex digits.
std::string routeId(const Route& route);

}  // namespace gatehouse::config

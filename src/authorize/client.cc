#include "authorize/client.h"

#include "config/options.h"

namespace gatehouse::authorize {

std::string_view CheckRequest::routeId() const {
  if (!route_id.empty() || options == nullptr) return route_id;
  if (route_index >= options->routes.size()) return {};
  return options->routes[route_index].id;
}

}  // namespace gatehouse::authorize

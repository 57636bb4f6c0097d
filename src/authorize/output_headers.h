#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gatehouse::authorize {

// Request headers authorize asks the proxy to set on the upstream request,
// in order. Each one replaces any header of the same name (compared
// case-insensitively) that the request already carries, as Envoy's
// OVERWRITE_IF_EXISTS_OR_ADD does for Pomerium's ext_authz response.
// Independent of src/http on purpose: authorize does not depend on it.
using OutputHeaders = std::vector<std::pair<std::string, std::string>>;

}  // namespace gatehouse::authorize

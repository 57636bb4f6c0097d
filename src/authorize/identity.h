#pragma once

// Who is asking, as authorize sees it: read by the caller from the session
// and user records, and handed in as borrowed views so that authorize does
// not depend on how sessions are stored.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

namespace gatehouse::authorize {

// Everything is borrowed: the caller keeps the data alive for the duration
// of the call it passes the Identity to.
struct Identity {
  std::string_view session_id;  // "" = no session
  uint64_t session_version =
      0;  // databroker record version of the session (part of the JWT cache key)
  std::string_view user_id;
  std::string_view email;  // the directory email if known, else the user record's
  // The "name" claim of the identity JWT. Pomerium takes the session's
  // `name` claim, else the user's; a caller that has both passes the
  // session's here. Empty: taken from `claims` ("name", comma-joined).
  std::string_view name;
  // The "groups" claim of the identity JWT (empty = [], never null).
  std::span<const std::string> groups;
  // Session claims merged with user claims (user wins); each claim value is
  // a scalar or an array of scalars. nullptr = no claims.
  const nlohmann::json* claims = nullptr;
  // Only for set_request_headers templates (${pomerium.access_token},
  // ${pomerium.id_token}). Never logged, never part of a cache key.
  std::string_view access_token;
  std::string_view id_token;
  // The immutable record the fields above were read from (session::Loaded's
  // id): two identities with the same nonzero view have the same content.
  // 0 = unknown.
  uint64_t view = 0;
};

}  // namespace gatehouse::authorize

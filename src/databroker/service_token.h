#pragma once

#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/result.h"
#include "databroker/record.h"

namespace gatehouse::databroker {

// Pomerium's service-to-service credential: an HS256 JWT signed with the
// shared secret whose only claim is `exp`, sent as the `jwt` gRPC metadata.
// Minted per call, so a short lifetime costs nothing and bounds replay.
std::string mintServiceToken(std::string_view shared_secret, Timestamp now,
                             Duration lifetime = std::chrono::minutes(1));

// Unauthenticated unless `token` is such a JWT, correctly signed and not
// expired (with a minute of leeway for clock skew between hosts).
Result<void> verifyServiceToken(std::string_view token, std::string_view shared_secret,
                                Timestamp now);

}  // namespace gatehouse::databroker

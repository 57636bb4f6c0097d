#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gatehouse::databroker {

// Where a gRPC client of another Gatehouse service connects: a target string
// for grpc::CreateCustomChannel and whether it speaks TLS.
struct GrpcTarget {
  std::string target;
  bool tls = false;
  // With TLS and several URLs, the name their certificates must carry: the
  // first URL's host (a gRPC channel checks one name for every address).
  // Empty for one URL: gRPC checks that URL's host.
  std::string tls_name;
};

// Service URLs (`databroker_service_urls`, `authorize_service_urls`: http://
// or https:// host:port) -> a gRPC target that the round_robin policy
// balances over: "dns:///host:port" for one URL (every address the name
// resolves to), "ipv4:a:p,b:q" / "ipv6:[a]:p,..." for several, which must
// then be IP addresses. Errors name `key`, the option the URLs came from.
Result<GrpcTarget> grpcTargetFor(const std::vector<std::string>& urls, std::string_view key);

}  // namespace gatehouse::databroker

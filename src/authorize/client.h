#pragma once
// How the proxy asks for a decision: the facts of one request in, what to
// do with it out. Two implementations behind one interface: in-process
// (services: all, or proxy and authorize in one process) and gRPC to
// authorize replicas in other processes (proto/authorize.proto). Nothing in
// the proxy knows which one it has.
//
// The authorize side owns everything that needs the session: reading the
// session handle (cookie or header), the policy decision, the identity
// headers, the sign-in redirect, and the pages that show the session
// (/.pomerium/user, /.pomerium/jwt, the routes portal).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authorize/output_headers.h"
#include "common/result.h"
#include "net/asio.h"
#include "policy/input.h"

namespace gatehouse::config {
struct Options;
}  // namespace gatehouse::config

namespace gatehouse::authorize {

using HeaderList = OutputHeaders;

// The client's request headers: looked up by the policy, and listed in full
// when the request travels to another process.
class RequestHeaders : public policy::HeaderLookup {
 public:
  virtual void forEach(
      const std::function<void(std::string_view name, std::string_view value)>& f) const = 0;
};

// A request, borrowed from the caller, who keeps it alive until check()
// completes.
struct CheckRequest {
  // The route the proxy matched, by index and id: a replica whose
  // configuration has another route there answers 503 (configurations out
  // of step), never a decision for the wrong route. Ignored for internal
  // paths.
  uint32_t route_index = 0;
  // Empty when `options` is set: routeId() reads it there.
  std::string_view route_id;
  // The configuration the proxy matched the route in. When it is
  // authorize's own (one process), the same object means the same routes
  // and route_index is taken as it is. Null over gRPC.
  const config::Options* options = nullptr;

  // route_id, else the id of route_index in `options`; "" if neither.
  std::string_view routeId() const;
  // An internal path needing a session (/.pomerium/user, /.pomerium/jwt,
  // /.pomerium/routes, /.pomerium/api/v1/routes) instead of a route.
  bool internal = false;
  std::string_view method;
  std::string_view scheme;                  // how the client reached the proxy: https or http
  std::string_view authority;               // as sent (host[:port])
  std::string_view host;                    // lower-case, no port
  std::string_view path;                    // normalised
  std::string_view query;                   // raw, without '?'
  const RequestHeaders* headers = nullptr;  // as the client sent them
  std::string_view client_ip;
  policy::ClientCertificateInput client_certificate;
  // Optional: the list of an earlier answer, whose strings an allow's
  // headers reuse (taken, so left empty). Ignored over gRPC.
  HeaderList* header_storage = nullptr;
};

struct CheckResponse {
  enum class Kind : uint8_t {
    kAllow,    // forward, setting `headers` on the upstream request
    kRespond,  // answer with status, headers and body as given
    kError,    // answer with the proxy's error page for `status` and `details`
  };
  Kind kind = Kind::kError;
  int status = 503;
  HeaderList headers;
  std::string body;
  std::string details;  // reasons, shown with show_error_details
  // kError: answer in gRPC's form (trailers-only, grpc-status) rather than
  // an error page.
  bool grpc = false;
};

class Client {
 public:
  virtual ~Client() = default;
  // Never fails: an authorize service that cannot be reached is a kError
  // response with status 503 (fail closed).
  virtual Task<CheckResponse> check(const CheckRequest& request) = 0;
  // The decision made at once, on the caller's thread, when making it
  // waits for nothing (the request's session, if any, is in the local
  // copy); nullopt when only check() can make it. When it answers, the
  // answer is the one check() gives.
  virtual std::optional<CheckResponse> checkNow(const CheckRequest& /*request*/) {
    return std::nullopt;
  }
};

}  // namespace gatehouse::authorize

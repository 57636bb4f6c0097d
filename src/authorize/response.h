#pragma once

// From a policy decision to what the client gets, as Pomerium's
// authorize/check_response.go decides it (handleResult, handleResultDenied,
// deniedResponse, shouldRedirect). Pure: the caller builds the sign-in URL,
// renders the HTML error page and writes the response.
//
// Order of the checks:
//   1. a deny reason client-certificate-required or invalid-client-certificate
//      -> denied with the deny reasons (495, or 404 for route-not-found);
//   2. user-unauthenticated among either side's reasons -> sign in: a 302
//      to the sign-in page when shouldRedirect(), else 401 "Unauthenticated";
//   3. deny -> denied with the deny reasons;
//   4. allow -> allowed;
//   5. otherwise denied with the allow reasons.
// Denied with reasons R: route-not-found in R -> 404; a client certificate
// reason in R -> 495; else 403.
// (Device criteria, 450 and the WebAuthn redirect are not implemented.)

#include <string>
#include <string_view>

#include "policy/decision.h"

namespace gatehouse::authorize {

// Facts about the request that choose the response. Borrowed views of the
// request's header values ("" when absent).
struct RequestFacts {
  std::string_view path;          // without the query
  std::string_view accept;        // Accept
  std::string_view content_type;  // Content-Type
  std::string_view user_agent;    // User-Agent
  // The session came from a header (Authorization: Pomerium, X-Pomerium-
  // Authorization) or the pomerium_session query parameter: a programmatic
  // client, which gets 401 rather than a redirect.
  bool session_from_header_or_query = false;
};

enum class Outcome {
  kAllow,              // forward, with the identity headers
  kRedirectToLogin,    // 302 to the sign-in URL ("Login")
  kUnauthenticated,    // 401 "Unauthenticated"
  kForbidden,          // 403 "Forbidden"
  kNotFound,           // 404 "Not Found"
  kClientCertificate,  // 495 "a valid client certificate is required to access this page"
  kRobotsTxt,          // any denial of /robots.txt: 200 text/plain "User-agent: *\nDisallow: /"
};

// How a denial's body is written, chosen from the request (first match):
enum class BodyFormat {
  kNone,              // allowed: no response of authorize's own
  kKubernetesStatus,  // User-Agent contains "kubernetes/": a k8s Status object, application/json
  kPlain,             // /robots.txt
  kJson,              // Accept prefers application/json over text/html: {"error","request_id"}
  kGrpc,     // Content-Type application/grpc[+...]: empty body, grpc-status, application/grpc+json
  kGrpcWeb,  // Content-Type application/grpc-web-text or application/grpc-web+...: same,
             // application/grpc-web+json
  kHtml,     // everything else: the HTML error page
};

struct Response {
  Outcome outcome = Outcome::kForbidden;
  int status = 403;  // the HTTP status to send
  BodyFormat format = BodyFormat::kHtml;
  std::string_view message;  // Pomerium's reason text: "Login", "Unauthenticated", "Forbidden", ...
};

Response decideResponse(const policy::Decision& decision, const RequestFacts& request);

// Whether an unauthenticated request is sent to sign in (302) rather than
// answered 401: not for gRPC, not for a session from a header or the query,
// and only when text/html is the most acceptable of text/html,
// application/json, text/plain and the gRPC types in Accept (a missing or
// unparsable Accept counts as a browser).
bool shouldRedirect(const RequestFacts& request);

// Which of `candidates` the Accept header value prefers, as the
// go.rfcx/rfc7231 library Pomerium uses decides it: media ranges by weight
// (q, with q=0 read as 1 as that library does, plus specificity), then the
// candidates in order; "" when none is acceptable. An empty Accept is */*.
// Sets `parsed` to false (and returns "") when the value does not parse.
std::string_view mostAcceptable(std::string_view accept,
                                std::initializer_list<std::string_view> candidates, bool& parsed);

bool isGrpcRequest(std::string_view content_type);
bool isGrpcWebRequest(std::string_view content_type);

// The gRPC status for an HTTP status (grpc/doc/http-grpc-status-mapping.md,
// as Pomerium maps it): 400 -> 13, 401 -> 16, 403 -> 7, 404 -> 12,
// 429/502/503/504 -> 14, anything else 2.
int grpcStatusForHttp(int status);

// {"error":<message>,"request_id":<id>}
std::string jsonErrorBody(const Response& response, std::string_view request_id);
// The Kubernetes Status object Pomerium answers kubectl with.
std::string kubernetesStatusBody(const Response& response);

inline constexpr std::string_view kRobotsTxtBody = "User-agent: *\nDisallow: /";

}  // namespace gatehouse::authorize

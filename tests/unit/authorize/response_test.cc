#include "authorize/response.h"

#include <gtest/gtest.h>

namespace gatehouse::authorize {
namespace {

using policy::Decision;
using policy::Reason;
using policy::Reasons;

Decision allowed(Reasons reasons = Reason::kEmailOk) {
  Decision d;
  d.allow = true;
  d.allow_reasons = reasons;
  d.reasons = reasons;
  return d;
}

Decision notAllowed(Reasons reasons) {
  Decision d;
  d.allow_reasons = reasons;
  d.reasons = reasons;
  return d;
}

Decision denied(Reasons deny_reasons, bool allow = false) {
  Decision d;
  d.allow = allow;
  d.deny = true;
  d.deny_reasons = deny_reasons;
  d.reasons = deny_reasons;
  return d;
}

constexpr std::string_view kBrowserAccept =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";

struct Row {
  const char* name;
  Decision decision;
  RequestFacts request;
  Outcome outcome;
  int status;
  BodyFormat format;
};

TEST(DecideResponse, Table) {
  RequestFacts browser{.path = "/x", .accept = kBrowserAccept};
  RequestFacts curl{.path = "/x", .accept = "*/*"};
  RequestFacts no_accept{.path = "/x"};
  RequestFacts api{.path = "/x", .accept = "application/json"};
  RequestFacts grpc{.path = "/svc/M", .content_type = "application/grpc"};
  RequestFacts grpc_web{
      .path = "/svc/M", .accept = "*/*", .content_type = "application/grpc-web+proto"};
  RequestFacts kubectl{.path = "/api",
                       .accept = "application/json",
                       .user_agent = "kubectl/v1.29 (linux/amd64) kubernetes/abc"};
  RequestFacts robots{.path = "/robots.txt", .accept = kBrowserAccept};
  RequestFacts programmatic = browser;
  programmatic.session_from_header_or_query = true;

  Decision unauthenticated = notAllowed(Reason::kUserUnauthenticated);
  Decision cert_required = denied(Reason::kClientCertificateRequired, /*allow=*/true);
  cert_required.allow_reasons = Reason::kUserUnauthenticated;  // cert wins over sign-in

  Row rows[] = {
      {"allowed", allowed(), browser, Outcome::kAllow, 200, BodyFormat::kNone},
      {"browser signs in", unauthenticated, browser, Outcome::kRedirectToLogin, 302,
       BodyFormat::kHtml},
      {"no Accept is a browser", unauthenticated, no_accept, Outcome::kRedirectToLogin, 302,
       BodyFormat::kHtml},
      {"*/* prefers text/html", unauthenticated, curl, Outcome::kRedirectToLogin, 302,
       BodyFormat::kHtml},
      {"API client gets 401", unauthenticated, api, Outcome::kUnauthenticated, 401,
       BodyFormat::kJson},
      {"gRPC gets 401", unauthenticated, grpc, Outcome::kUnauthenticated, 401, BodyFormat::kGrpc},
      {"gRPC-web with */* redirects", unauthenticated, grpc_web, Outcome::kRedirectToLogin, 302,
       BodyFormat::kGrpcWeb},
      {"session header gets 401", unauthenticated, programmatic, Outcome::kUnauthenticated, 401,
       BodyFormat::kHtml},
      {"kubectl gets a Status", unauthenticated, kubectl, Outcome::kUnauthenticated, 401,
       BodyFormat::kKubernetesStatus},
      {"unauthenticated in deny", denied(Reason::kUserUnauthenticated), api,
       Outcome::kUnauthenticated, 401, BodyFormat::kJson},
      {"not allowed is 403", notAllowed(Reason::kEmailUnauthorized), browser, Outcome::kForbidden,
       403, BodyFormat::kHtml},
      {"deny wins over allow", denied(Reason::kSourceIpUnauthorized, true), api,
       Outcome::kForbidden, 403, BodyFormat::kJson},
      {"route not found", denied(Reason::kRouteNotFound), browser, Outcome::kNotFound, 404,
       BodyFormat::kHtml},
      {"certificate required", cert_required, browser, Outcome::kClientCertificate, 495,
       BodyFormat::kHtml},
      {"invalid certificate", denied(Reason::kInvalidClientCertificate), api,
       Outcome::kClientCertificate, 495, BodyFormat::kJson},
      {"certificate reason on the allow side", notAllowed(Reason::kClientCertificateRequired),
       browser, Outcome::kClientCertificate, 495, BodyFormat::kHtml},
      {"robots.txt denied", notAllowed(Reason::kEmailUnauthorized), robots, Outcome::kRobotsTxt,
       200, BodyFormat::kPlain},
      {"robots.txt unauthenticated", unauthenticated, robots, Outcome::kRobotsTxt, 200,
       BodyFormat::kPlain},
      {"robots.txt allowed", allowed(), robots, Outcome::kAllow, 200, BodyFormat::kNone},
  };
  for (const auto& row : rows) {
    Response response = decideResponse(row.decision, row.request);
    EXPECT_EQ(response.outcome, row.outcome) << row.name;
    EXPECT_EQ(response.status, row.status) << row.name;
    EXPECT_EQ(response.format, row.format) << row.name;
  }
}

TEST(DecideResponse, Messages) {
  RequestFacts browser{.path = "/", .accept = "text/html"};
  EXPECT_EQ(decideResponse(notAllowed(Reason::kUserUnauthenticated), browser).message, "Login");
  EXPECT_EQ(decideResponse(notAllowed(Reason::kUserUnauthenticated), {.accept = "application/json"})
                .message,
            "Unauthenticated");
  EXPECT_EQ(decideResponse(notAllowed(Reason::kReject), browser).message, "Forbidden");
  EXPECT_EQ(decideResponse(denied(Reason::kRouteNotFound), browser).message, "Not Found");
  EXPECT_EQ(decideResponse(denied(Reason::kInvalidClientCertificate), browser).message,
            "a valid client certificate is required to access this page");
}

struct AcceptRow {
  std::string_view accept;
  bool redirect;
};

TEST(ShouldRedirect, AcceptNegotiation) {
  AcceptRow rows[] = {
      {"", true},
      {"*/*", true},
      {"text/html", true},
      {"application/json", false},
      {"text/plain", false},
      {"application/json, text/plain, */*", false},  // axios
      {"text/html;q=0.5, application/json", false},
      {"application/json;q=0.5, text/html", true},
      {"text/*", true},
      {"text/plain, text/html", false},  // equal weight: header order
      {"application/*", false},
      {"image/png", true},              // nothing acceptable: redirect
      {"text/html;level=1", true},      // parameters must match: nothing acceptable
      {"application/json;q=0", false},  // the library reads q=0 as 1
      {"text/html;q=abc", true},        // unparsable: redirect
      {"*/html", true},                 // unparsable
      {"application/grpc+proto", false},
      {"text/html ;q=0.1, application/json;q=0.5", false},  // "html " matches nothing
  };
  for (const auto& row : rows) {
    EXPECT_EQ(shouldRedirect({.accept = row.accept}), row.redirect) << "Accept: " << row.accept;
  }
}

TEST(ShouldRedirect, GrpcAndProgrammaticClientsNever) {
  EXPECT_FALSE(shouldRedirect({.accept = "text/html", .content_type = "application/grpc"}));
  EXPECT_FALSE(shouldRedirect({.accept = "text/html", .content_type = "application/grpc+proto"}));
  EXPECT_FALSE(shouldRedirect({.accept = "text/html", .session_from_header_or_query = true}));
}

TEST(ContentTypes, GrpcDetectionIsPomeriums) {
  EXPECT_TRUE(isGrpcRequest("application/grpc"));
  EXPECT_TRUE(isGrpcRequest("application/grpc+proto"));
  EXPECT_FALSE(isGrpcRequest("application/grpc-web+proto"));
  EXPECT_TRUE(isGrpcWebRequest("application/grpc-web+proto"));
  EXPECT_TRUE(isGrpcWebRequest("application/grpc-web-text"));
  EXPECT_FALSE(isGrpcWebRequest("application/grpc-web"));  // as Pomerium: neither gRPC kind
}

TEST(Bodies, JsonKubernetesAndGrpcStatus) {
  Response forbidden = decideResponse(notAllowed(Reason::kReject), {.accept = "application/json"});
  EXPECT_EQ(jsonErrorBody(forbidden, "req-1"), R"({"error":"Forbidden","request_id":"req-1"})");
  EXPECT_EQ(
      kubernetesStatusBody(forbidden),
      R"({"apiVersion":"v1","code":403,"kind":"Status","message":"Forbidden","reason":"Forbidden","status":"Failure"})");
  Response cert = decideResponse(denied(Reason::kClientCertificateRequired), {});
  EXPECT_EQ(
      kubernetesStatusBody(cert),
      R"({"apiVersion":"v1","code":495,"kind":"Status","message":"a valid client certificate is required to access this page","reason":"Unauthorized","status":"Failure"})");
  EXPECT_EQ(grpcStatusForHttp(401), 16);
  EXPECT_EQ(grpcStatusForHttp(403), 7);
  EXPECT_EQ(grpcStatusForHttp(404), 12);
  EXPECT_EQ(grpcStatusForHttp(302), 2);
  EXPECT_EQ(grpcStatusForHttp(503), 14);
}

TEST(MostAcceptable, PicksByWeightThenCandidateOrder) {
  bool parsed = false;
  EXPECT_EQ(mostAcceptable("", {"text/html", "application/json"}, parsed), "text/html");
  EXPECT_TRUE(parsed);
  EXPECT_EQ(mostAcceptable("*/*;q=0.1, application/json;q=0.2", {"text/html", "application/json"},
                           parsed),
            "application/json");
  EXPECT_EQ(mostAcceptable("TEXT/HTML", {"application/json", "text/html"}, parsed), "text/html");
  EXPECT_EQ(mostAcceptable("image/*", {"text/html"}, parsed), "");
  EXPECT_TRUE(parsed);
  EXPECT_EQ(mostAcceptable("text/html,,", {"text/html"}, parsed), "");
  EXPECT_FALSE(parsed);
}

}  // namespace
}  // namespace gatehouse::authorize

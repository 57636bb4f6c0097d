#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "proxy/rewrite.h"

namespace gatehouse::proxy {
namespace {

class UpstreamRequestTest : public testing::Test {
 protected:
  UpstreamRequestTest() {
    config::Route route;
    route.from_scheme = "https";
    route.from_host = "app.example.com";
    route.from = "https://app.example.com";
    config::UpstreamUrl to;
    to.scheme = "http";
    to.host = "10.0.0.5";
    to.port = 8080;
    route.to.push_back(to);
    routes_.push_back(std::move(route));

    in_.method = "GET";
    in_.authority = "app.example.com";
    in_.headers.add("host", "app.example.com");
    in_.headers.add("accept", "text/html");
    in_.headers.add("cookie", "a=1; _pomerium=handle; b=2");
    in_.headers.add("X-Pomerium-Jwt-Assertion", "forged");
    in_.headers.add("authorization", "Pomerium handle");
    in_.headers.add("x-forwarded-for", "203.0.113.9");
    in_.headers.add("x-forwarded-host", "evil.example.com");

    context_.path = "/a/b";
    context_.query = "x=1";
    context_.session_cookie_name = "_pomerium";
    context_.remote_ip = "198.51.100.23";
    context_.tls = true;
    context_.request_id = "id-1";
    context_.decision_headers = decision_;
  }

  http::RequestHead prepare() {
    auto table = RouteTable::create(routes_);
    EXPECT_TRUE(table.ok());
    http::RequestHead out;
    prepareUpstreamRequest((*table)->routes().front(), in_, routes_.front().to.front(), context_,
                           out);
    return out;
  }

  std::vector<config::Route> routes_;
  http::RequestHead in_;
  std::vector<std::pair<std::string, std::string>> decision_ = {
      {"x-pomerium-jwt-assertion", "signed"}, {"x-tenant", "acme"}};
  UpstreamRequestContext context_;
};

TEST_F(UpstreamRequestTest, ForwardsOnlyGatehouseIdentityAndTheClientsOwnFields) {
  http::RequestHead out = prepare();
  EXPECT_EQ(out.target, "/a/b?x=1");
  EXPECT_EQ(out.authority, "10.0.0.5:8080");
  EXPECT_EQ(out.headers.get("accept"), "text/html");
  EXPECT_EQ(out.headers.get("cookie"), "a=1; b=2");
  EXPECT_EQ(out.headers.count("x-pomerium-jwt-assertion"), 1u);
  EXPECT_EQ(out.headers.get("x-pomerium-jwt-assertion"), "signed");
  EXPECT_FALSE(out.headers.has("authorization"));
  EXPECT_FALSE(out.headers.has("host"));
  EXPECT_EQ(out.headers.get("x-forwarded-for"), "203.0.113.9, 198.51.100.23");
  EXPECT_EQ(out.headers.get("x-forwarded-proto"), "https");
  EXPECT_EQ(out.headers.get("x-forwarded-host"), "app.example.com");
  EXPECT_EQ(out.headers.get("x-request-id"), "id-1");
  EXPECT_EQ(out.headers.get("x-tenant"), "acme");
}

TEST_F(UpstreamRequestTest, EachDecisionHeaderReplacesAnyFieldOfItsName) {
  // The client's identity headers are not copied, so an identity decision
  // header replaces only an earlier decision header of its name; any other
  // decision header replaces the client's field too, whatever its case.
  in_.headers.add("X-Pomerium-Claim-Email", "forged@example.com");
  in_.headers.add("X-Tenant", "client");
  in_.headers.add("x-tenant", "client-2");
  decision_ = {{"x-pomerium-jwt-assertion", "first"},
               {"X-Pomerium-Claim-Email", "alice@example.com"},
               {"x-tenant", "acme"},
               {"X-POMERIUM-JWT-ASSERTION", "second"},
               {"X-Tenant", "acme-2"}};
  context_.decision_headers = decision_;
  http::RequestHead out = prepare();
  EXPECT_EQ(out.headers.count("x-pomerium-jwt-assertion"), 1u);
  EXPECT_EQ(out.headers.get("x-pomerium-jwt-assertion"), "second");
  EXPECT_EQ(out.headers.count("x-pomerium-claim-email"), 1u);
  EXPECT_EQ(out.headers.get("x-pomerium-claim-email"), "alice@example.com");
  EXPECT_EQ(out.headers.count("x-tenant"), 1u);
  EXPECT_EQ(out.headers.get("x-tenant"), "acme-2");
}

TEST_F(UpstreamRequestTest, TheSessionCookieIsTakenOutOfEveryCookieHeader) {
  // A kept head is written over request after request: a Cookie header
  // that held only the session cookie leaves no field, and the next
  // request's cookies are not mixed with the last one's.
  auto table = RouteTable::create(routes_);
  ASSERT_TRUE(table.ok());
  http::RequestHead out;
  in_.headers.remove("cookie");
  in_.headers.add("cookie", "_pomerium=handle");
  in_.headers.add("Cookie", " x=1 ;_pomerium=h2; ; y=2");
  in_.headers.add("cookie", "_pomerium=h3");
  for (int round = 0; round < 2; ++round) {
    prepareUpstreamRequest((*table)->routes().front(), in_, routes_.front().to.front(), context_,
                           out);
    std::vector<std::string> cookies;
    for (const auto& f : out.headers.fields()) {
      if (iequals(f.name, "cookie")) cookies.push_back(f.value);
    }
    EXPECT_EQ(cookies, (std::vector<std::string>{"x=1; y=2"})) << round;
    out.headers.clear();
  }
}

TEST_F(UpstreamRequestTest, HostRewriteAndRemovedHeaders) {
  routes_.front().host_rewrite = "internal.example.com";
  routes_.front().remove_request_headers = {"accept", "x-forwarded-host"};
  in_.headers.set("cookie", "_pomerium=handle");
  http::RequestHead out = prepare();
  EXPECT_EQ(out.authority, "internal.example.com");
  EXPECT_FALSE(out.headers.has("accept"));
  EXPECT_FALSE(out.headers.has("x-forwarded-host"));
  EXPECT_FALSE(out.headers.has("cookie"));
}

TEST_F(UpstreamRequestTest, AKeptHeadIsWrittenAnewForEachRequest) {
  // A worker fills the same head request after request: every string is
  // the new request's, whether it is longer or shorter than the last one.
  auto table = RouteTable::create(routes_);
  ASSERT_TRUE(table.ok());
  const CompiledRoute& route = (*table)->routes().front();
  http::RequestHead out;
  struct Case {
    std::string method, path, query, host;
    uint16_t port;
    std::string target, authority;
  };
  const std::vector<Case> cases = {
      {"GET", "/a", "", "10.0.0.5", 80, "/a", "10.0.0.5"},
      {"OPTIONS", "/a/much/longer/path/than/before", "page=2&sort=name", "fd00::1", 8443,
       "/a/much/longer/path/than/before?page=2&sort=name", "[fd00::1]:8443"},
      {"PUT", "/b", "q", "upstream.internal.example.com", 65535, "/b?q",
       "upstream.internal.example.com:65535"},
      {"GET", "/", "", "h", 80, "/", "h"},
  };
  for (const Case& c : cases) {
    config::UpstreamUrl to;
    to.scheme = "http";
    to.host = c.host;
    to.port = c.port;
    in_.method = c.method;
    context_.path = c.path;
    context_.query = c.query;
    out.reset();
    prepareUpstreamRequest(route, in_, to, context_, out);
    EXPECT_EQ(out.method, c.method);
    EXPECT_EQ(out.scheme, "http");
    EXPECT_EQ(out.target, c.target);
    EXPECT_EQ(out.authority, c.authority);
    EXPECT_EQ(out.upgrade, "");
  }
}

}  // namespace
}  // namespace gatehouse::proxy

#include "proxy/rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::proxy {
namespace {

config::Route makeRoute() {
  config::Route route;
  route.from_host = "a.example.com";
  route.from = "https://a.example.com";
  route.from_scheme = "https";
  config::UpstreamUrl upstream;
  upstream.scheme = "http";
  upstream.host = "upstream";
  upstream.port = 80;
  route.to.push_back(upstream);
  return route;
}

// Compiles one route the way the proxy does and keeps it alive.
class RewriteTest : public testing::Test {
 protected:
  const CompiledRoute& compile(config::Route route) {
    routes_.clear();
    routes_.push_back(std::move(route));
    auto table = RouteTable::create(routes_);
    EXPECT_TRUE(table.ok()) << table.error().message;
    table_ = std::move(table).value();
    return table_->routes().front();
  }

  std::string rewrite(config::Route route, std::string_view path, std::string_view query = "") {
    return rewritePath(compile(std::move(route)), path, query);
  }

  std::vector<config::Route> routes_;
  std::unique_ptr<RouteTable> table_;
};

TEST_F(RewriteTest, NoRewriteForwardsPathAndQuery) {
  EXPECT_EQ(rewrite(makeRoute(), "/a/b"), "/a/b");
  EXPECT_EQ(rewrite(makeRoute(), "/a/b", "x=1&y=../z"), "/a/b?x=1&y=../z");
}

TEST_F(RewriteTest, PrefixRewriteReplacesTheMatchedPrefix) {
  config::Route route = makeRoute();
  route.prefix = "/grafana/";
  route.prefix_rewrite = "/";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/grafana/d/home", "orgId=1"), "/d/home?orgId=1");
  EXPECT_EQ(rewrite(route, "/grafana/"), "/");
}

TEST_F(RewriteTest, PrefixRewriteIsAPlainSubstitutionAsInEnvoy) {
  // Pomerium's documented example: prefix /admin, prefix_rewrite / sends
  // /admin to /. Envoy does no slash bookkeeping, so /admin/x becomes //x.
  config::Route route = makeRoute();
  route.prefix = "/admin";
  route.prefix_rewrite = "/";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/admin"), "/");
  EXPECT_EQ(rewrite(route, "/admin/x"), "//x");

  // Default prefix "/" with "/app": "/x" becomes "/appx".
  route = makeRoute();
  route.prefix_rewrite = "/app";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/x"), "/appx");
  EXPECT_EQ(rewrite(route, "/"), "/app");
  route.prefix_rewrite = "/app/";
  EXPECT_EQ(rewrite(route, "/x", "q"), "/app/x?q");
}

TEST_F(RewriteTest, PathOfToIsThePrefixRewriteWhenNoneIsGiven) {
  // Pomerium's getRewriteOptions: the path of the first `to` URL.
  config::Route route = makeRoute();
  route.to[0].path = "/app/";
  EXPECT_EQ(rewrite(route, "/x/y", "a=b"), "/app/x/y?a=b");
  route.to[0].path = "/app";
  EXPECT_EQ(rewrite(route, "/x"), "/appx");
  route.prefix = "/mount/";
  route.to[0].path = "/";
  EXPECT_EQ(rewrite(route, "/mount/x"), "/x");
}

TEST_F(RewriteTest, ExplicitRewritesBeatThePathOfTo) {
  config::Route route = makeRoute();
  route.to[0].path = "/from-to/";
  route.prefix_rewrite = "/explicit/";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/x"), "/explicit/x");

  route.prefix_rewrite.clear();
  route.has_prefix_rewrite = false;
  route.regex_rewrite_pattern = "^/x$";
  route.regex_rewrite_substitution = "/y";
  EXPECT_EQ(rewrite(route, "/x"), "/y");
}

TEST_F(RewriteTest, PrefixRewriteBeatsRegexRewrite) {
  config::Route route = makeRoute();
  route.prefix_rewrite = "/p/";
  route.has_prefix_rewrite = true;
  route.regex_rewrite_pattern = ".*";
  route.regex_rewrite_substitution = "/regex";
  EXPECT_EQ(rewrite(route, "/x"), "/p/x");
}

TEST_F(RewriteTest, PathAndRegexMatchesReplaceTheWholePath) {
  config::Route route = makeRoute();
  route.path = "/old";
  route.prefix_rewrite = "/new";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/old", "q=1"), "/new?q=1");

  route = makeRoute();
  route.regex = "/items/[0-9]+";
  route.prefix_rewrite = "/item";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/items/42"), "/item");
}

TEST_F(RewriteTest, RegexRewriteSubstitutesGroups) {
  // Pomerium's documented example.
  config::Route route = makeRoute();
  route.regex_rewrite_pattern = "^/service/([^/]+)(/.*)$";
  route.regex_rewrite_substitution = "\\2/instance/\\1";
  EXPECT_EQ(rewrite(route, "/service/foo/v1/api", "x=/service/a/b"),
            "/v1/api/instance/foo?x=/service/a/b");
  // No match: the path is forwarded as it is.
  EXPECT_EQ(rewrite(route, "/other"), "/other");
}

TEST_F(RewriteTest, RegexRewriteReplacesEveryMatch) {
  // Envoy's regex_rewrite replaces all non-overlapping matches.
  config::Route route = makeRoute();
  route.regex_rewrite_pattern = "o";
  route.regex_rewrite_substitution = "0";
  EXPECT_EQ(rewrite(route, "/foo/boo", "o=o"), "/f00/b00?o=o");
}

TEST_F(RewriteTest, RewrittenPathAlwaysStartsWithASlash) {
  config::Route route = makeRoute();
  route.prefix = "/v1";
  route.prefix_rewrite = "v2";
  route.has_prefix_rewrite = true;
  EXPECT_EQ(rewrite(route, "/v1/a"), "/v2/a");
  route = makeRoute();
  route.regex_rewrite_pattern = "^/.*$";
  route.regex_rewrite_substitution = "";
  EXPECT_EQ(rewrite(route, "/gone", "q"), "/?q");
}

// ---------------------------------------------------------------------------

config::RedirectAction redirectTo() { return config::RedirectAction{}; }

TEST(RedirectLocationTest, DefaultsKeepTheRequestUrl) {
  EXPECT_EQ(redirectLocation(redirectTo(), "https", "a.example.com", "/p", "q=1"),
            "https://a.example.com/p?q=1");
}

TEST(RedirectLocationTest, HttpsRedirect) {
  config::RedirectAction redirect = redirectTo();
  redirect.https_redirect = true;
  EXPECT_EQ(redirectLocation(redirect, "http", "a.example.com", "/p", "q=1"),
            "https://a.example.com/p?q=1");
  // The old scheme's default port goes; any other port stays.
  EXPECT_EQ(redirectLocation(redirect, "http", "a.example.com:80", "/p", ""),
            "https://a.example.com/p");
  EXPECT_EQ(redirectLocation(redirect, "http", "a.example.com:8080", "/p", ""),
            "https://a.example.com:8080/p");
  EXPECT_EQ(redirectLocation(redirect, "http", "[::1]:80", "/", ""), "https://[::1]/");
  EXPECT_EQ(redirectLocation(redirect, "http", "[::1]", "/", ""), "https://[::1]/");
  // Same scheme: Envoy leaves the host alone.
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com:443", "/p", ""),
            "https://a.example.com:443/p");
}

TEST(RedirectLocationTest, SchemeRedirect) {
  config::RedirectAction redirect = redirectTo();
  redirect.scheme_redirect = "http";
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com:443", "/p", ""),
            "http://a.example.com/p");
  // Pomerium sets https_redirect in preference to scheme_redirect.
  redirect.https_redirect = true;
  EXPECT_EQ(redirectLocation(redirect, "http", "a.example.com", "/p", ""),
            "https://a.example.com/p");
}

TEST(RedirectLocationTest, HostAndPortRedirect) {
  config::RedirectAction redirect = redirectTo();
  redirect.host_redirect = "b.example.com";
  // host_redirect replaces the whole authority, request port included.
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com:8443", "/p", "q"),
            "https://b.example.com/p?q");
  redirect.port_redirect = 9443;
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com:8443", "/p", ""),
            "https://b.example.com:9443/p");

  redirect = redirectTo();
  redirect.port_redirect = 9443;
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com:8443", "/p", ""),
            "https://a.example.com:9443/p");
  EXPECT_EQ(redirectLocation(redirect, "https", "a.example.com", "/p", ""),
            "https://a.example.com:9443/p");
}

TEST(RedirectLocationTest, PathRedirect) {
  config::RedirectAction redirect = redirectTo();
  redirect.path_redirect = "/new";
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/old/x", "q=1"), "https://h/new?q=1");
  redirect.strip_query = true;
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/old/x", "q=1"), "https://h/new");
  // A query in path_redirect replaces the request's and survives
  // strip_query.
  redirect.path_redirect = "/new?from=redirect";
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/old", "q=1"), "https://h/new?from=redirect");
  redirect.strip_query = false;
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/old", "q=1"), "https://h/new?from=redirect");
  redirect.path_redirect = "relative";
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/old", ""), "https://h/relative");
}

TEST(RedirectLocationTest, StripQuery) {
  config::RedirectAction redirect = redirectTo();
  redirect.strip_query = true;
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/p", "secret=1"), "https://h/p");
}

TEST(RedirectLocationTest, PrefixRewriteWithoutRouteAssumesDefaultPrefix) {
  config::RedirectAction redirect = redirectTo();
  redirect.prefix_rewrite = "/new/";
  redirect.has_prefix_rewrite = true;
  EXPECT_EQ(redirectLocation(redirect, "https", "h", "/x", "q"), "https://h/new/x?q");
  EXPECT_EQ(redirectLocationAfterMatch(redirect, "https", "h", "/old/x", "", 5), "https://h/new/x");
}

TEST_F(RewriteTest, RedirectPrefixRewriteReplacesWhatTheRouteMatched) {
  config::Route route = makeRoute();
  route.to.clear();
  route.prefix = "/old/";
  config::RedirectAction redirect;
  redirect.prefix_rewrite = "/new/";
  redirect.has_prefix_rewrite = true;
  route.redirect = redirect;
  EXPECT_EQ(redirectLocation(compile(route), "https", "h", "/old/x/y", "q"), "https://h/new/x/y?q");

  route.prefix.clear();
  route.path = "/exact";
  route.redirect->prefix_rewrite = "/moved";
  EXPECT_EQ(redirectLocation(compile(route), "https", "h", "/exact", ""), "https://h/moved");
}

// ---------------------------------------------------------------------------

TEST(RewriteResponseHeaderTest, ReplacesAMatchingPrefix) {
  config::Route route = makeRoute();
  route.rewrite_response_headers.push_back(
      {"Location", "http://localhost:8000/two/", "http://frontend/one/"});
  std::string value = "http://localhost:8000/two/some/path?x=1";
  EXPECT_TRUE(rewriteResponseHeader(route, "location", value));
  EXPECT_EQ(value, "http://frontend/one/some/path?x=1");
}

TEST(RewriteResponseHeaderTest, LeavesOtherValuesAndHeadersAlone) {
  config::Route route = makeRoute();
  route.rewrite_response_headers.push_back({"Location", "http://internal/", "https://public/"});
  std::string value = "http://elsewhere/http://internal/";
  EXPECT_FALSE(rewriteResponseHeader(route, "Location", value));
  EXPECT_EQ(value, "http://elsewhere/http://internal/");

  value = "http://internal/x";
  EXPECT_FALSE(rewriteResponseHeader(route, "Content-Location", value));
  EXPECT_EQ(value, "http://internal/x");

  // The prefix comparison is case-sensitive, as in Pomerium's Lua script.
  value = "HTTP://INTERNAL/x";
  EXPECT_FALSE(rewriteResponseHeader(route, "location", value));
}

TEST(RewriteResponseHeaderTest, RulesApplyInOrderToTheRewrittenValue) {
  config::Route route = makeRoute();
  route.rewrite_response_headers.push_back({"Location", "http://a/", "http://b/"});
  route.rewrite_response_headers.push_back({"LOCATION", "http://b/", "https://c/"});
  std::string value = "http://a/x";
  EXPECT_TRUE(rewriteResponseHeader(route, "Location", value));
  EXPECT_EQ(value, "https://c/x");
}

TEST(RewriteResponseHeaderTest, EmptyPrefixPrependsTheValue) {
  config::Route route = makeRoute();
  route.rewrite_response_headers.push_back({"X-Path", "", "/prefix"});
  std::string value = "/x";
  EXPECT_TRUE(rewriteResponseHeader(route, "x-path", value));
  EXPECT_EQ(value, "/prefix/x");
}

}  // namespace
}  // namespace gatehouse::proxy

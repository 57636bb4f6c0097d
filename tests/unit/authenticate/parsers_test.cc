#include <gtest/gtest.h>

#include "authenticate/oidc/discovery_document.h"
#include "authenticate/oidc/form_encoding.h"
#include "authenticate/oidc/http_url.h"
#include "authenticate/oidc/token_response.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr std::string_view kMinimalDiscovery =
    R"({"issuer":"https://idp.example.com","authorization_endpoint":"https://idp.example.com/a",)"
    R"("token_endpoint":"https://idp.example.com/t"})";

TEST(DiscoveryDocument, ParsesRequiredAndOptionalMembers) {
  auto minimal = parseDiscoveryDocument(kMinimalDiscovery);
  ASSERT_TRUE(minimal.ok()) << minimal.error().message;
  EXPECT_EQ(minimal->token_endpoint, "https://idp.example.com/t");
  EXPECT_TRUE(minimal->jwks_uri.empty());
  EXPECT_FALSE(minimal->supportsPkceS256());
  EXPECT_FALSE(minimal->useClientSecretPost());

  auto full = parseDiscoveryDocument(
      R"({"issuer":"http://127.0.0.1:9000","authorization_endpoint":"http://127.0.0.1:9000/auth",)"
      R"("token_endpoint":"http://127.0.0.1:9000/token","jwks_uri":"http://127.0.0.1:9000/jwks",)"
      R"("code_challenge_methods_supported":["S256"],"unknown":{"x":[1,2]},)"
      R"("token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt"]})");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_TRUE(full->supportsPkceS256());
  EXPECT_TRUE(full->useClientSecretPost());
}

TEST(DiscoveryDocument, RefusesMalformedDocuments) {
  for (
      std::string_view body : {
          std::string_view(""),
          std::string_view("[]"),
          std::string_view(R"({"issuer":"https://idp.example.com"})"),
          // duplicate member
          std::string_view(
              R"({"issuer":"https://a","issuer":"https://b",)"
              R"("authorization_endpoint":"https://a/a","token_endpoint":"https://a/t"})"),
          // endpoint not a URL, not a string, a list not of strings
          std::string_view(
              R"({"issuer":"https://a","authorization_endpoint":"/a","token_endpoint":"https://a/t"})"),
          std::string_view(
              R"({"issuer":"https://a","authorization_endpoint":1,"token_endpoint":"https://a/t"})"),
          std::string_view(
              R"({"issuer":"https://a","authorization_endpoint":"https://a/a","token_endpoint":"https://a/t",)"
              R"("code_challenge_methods_supported":[1]})"),
          // an https issuer cannot send tokens over http
          std::string_view(
              R"({"issuer":"https://a","authorization_endpoint":"https://a/a","token_endpoint":"http://a/t"})"),
          std::string_view(
              R"({"issuer":"https://a","authorization_endpoint":"https://a/a#f","token_endpoint":"https://a/t"})"),
      }) {
    auto parsed = parseDiscoveryDocument(body);
    EXPECT_FALSE(parsed.ok()) << body;
    if (!parsed.ok()) EXPECT_EQ(parsed.error().code, ErrorCode::kProtocol) << body;
  }
}

TEST(DiscoveryDocument, IssuerMatchingAndUrl) {
  EXPECT_TRUE(issuerMatches("https://a.example.com", "https://a.example.com"));
  EXPECT_TRUE(issuerMatches("https://a.example.com/", "https://a.example.com"));
  EXPECT_TRUE(issuerMatches("https://a.example.com", "https://a.example.com/"));
  EXPECT_FALSE(issuerMatches("https://a.example.com", "https://a.example.com.evil"));
  EXPECT_FALSE(issuerMatches("https://a.example.com/x", "https://a.example.com"));
  EXPECT_EQ(discoveryUrl("https://a.example.com/realms/r/"),
            "https://a.example.com/realms/r/.well-known/openid-configuration");
}

TEST(TokenResponse, ParsesStrictly) {
  auto ok = parseTokenResponse(
      R"({"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","id_token":"i"})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->access_token, "a");
  EXPECT_EQ(ok->expires_in, std::chrono::seconds(3600));
  EXPECT_EQ(parseTokenResponse(R"({"access_token":"a","expires_in":"60"})")->expires_in,
            std::chrono::seconds(60));
  EXPECT_FALSE(parseTokenResponse(R"({"access_token":"a"})")->expires_in.has_value());

  for (std::string_view body :
       {R"({})", R"({"access_token":""})", R"({"access_token":1})",
        R"({"access_token":"a","expires_in":-1})", R"({"access_token":"a","expires_in":1.5})",
        R"({"access_token":"a","expires_in":"1h"})", R"({"access_token":"a","id_token":{}})",
        R"({"access_token":"a","access_token":"b"})", "not json"}) {
    auto parsed = parseTokenResponse(body);
    EXPECT_FALSE(parsed.ok()) << body;
    if (!parsed.ok()) EXPECT_EQ(parsed.error().code, ErrorCode::kProtocol) << body;
  }
  EXPECT_EQ(parseTokenResponse(R"({"error":"invalid_grant"})").error().code,
            ErrorCode::kUnauthenticated);
}

TEST(TokenResponse, ErrorStatusesAreClassified) {
  auto invalid_grant = tokenEndpointError(400, R"({"error":"invalid_grant"})", "refresh");
  EXPECT_EQ(invalid_grant.code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(invalid_grant.message, "refresh: HTTP 400 invalid_grant");
  EXPECT_EQ(tokenEndpointError(401, "", "x").code, ErrorCode::kUnauthenticated);
  EXPECT_TRUE(tokenEndpointError(502, "<html>", "x").retryable);
  EXPECT_TRUE(tokenEndpointError(429, "", "x").retryable);
  EXPECT_EQ(tokenEndpointError(302, "", "x").code, ErrorCode::kProtocol);
}

TEST(FormEncoding, EscapesAsRfc6749AppendixB) {
  EXPECT_EQ(formEscape("a b+c/d:e%f~g._-"), "a+b%2Bc%2Fd%3Ae%25f~g._-");
  EXPECT_EQ(formEncode({{"a", "1"}, {"b c", "é"}}), "a=1&b+c=%C3%A9");
  EXPECT_EQ(appendQuery("https://x/a", {{"k", "v"}}), "https://x/a?k=v");
  EXPECT_EQ(appendQuery("https://x/a?tenant=t", {{"k", "v"}}), "https://x/a?tenant=t&k=v");
  // RFC 6749 2.3.1: the id and secret are form-encoded before base64.
  EXPECT_EQ(basicAuthorization("id:1", "s p"), "Basic aWQlM0ExOnMrcA==");
}

TEST(HttpUrl, SplitsWhatAClientNeeds) {
  auto url = parseHttpUrl("https://IdP.example.com/a/b?c=d#frag");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "idp.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->authority, "idp.example.com");
  EXPECT_EQ(url->target, "/a/b?c=d");

  url = parseHttpUrl("http://[::1]:8080?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->authority, "[::1]:8080");
  EXPECT_EQ(url->target, "/?x=1");

  for (std::string_view bad : {"ftp://a/", "https://user:pw@a/", "https://a/ b", "https://*.a/",
                               "//a/b", "https://a:99999/"}) {
    EXPECT_FALSE(parseHttpUrl(bad).ok()) << bad;
  }
  EXPECT_EQ(urlForMessages("https://a/t?code=secret"), "https://a/t");
}

}  // namespace
}  // namespace gatehouse::authenticate::oidc

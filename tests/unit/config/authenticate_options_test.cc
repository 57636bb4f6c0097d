#include "config_test_util.h"

namespace gatehouse::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::load;
using testing::loadOk;
using ::testing::Pair;

TEST(AuthenticateOptionsTest, DefaultsAsPomerium) {
  Options o = loadOk("");
  EXPECT_EQ(o.authenticate.service_url, "");
  EXPECT_EQ(o.authenticate.callback_path, "/oauth2/callback");
  EXPECT_EQ(o.authenticate.cookie.name, "_pomerium");
  EXPECT_EQ(o.authenticate.cookie.expire, std::chrono::hours(14));
  EXPECT_TRUE(o.authenticate.cookie.http_only);
  EXPECT_EQ(o.authenticate.cookie.same_site, "");
  EXPECT_THAT(o.authenticate.programmatic_redirect_domains, ElementsAre("localhost"));
  EXPECT_EQ(o.authenticate.idp.provider, "");
  EXPECT_FALSE(o.identity.pass_identity_headers);
}

TEST(AuthenticateOptionsTest, FullLoginSettings) {
  Options o = loadOk(R"(
authenticate_service_url: https://Authenticate.Example.com:8443/
idp_provider: OIDC
idp_provider_url: https://idp.example.com/realms/x
idp_client_id: gatehouse
idp_client_secret: s3cret
idp_scopes: [openid, email]
idp_request_params: {prompt: select_account}
cookie_name: _sess
cookie_domain: .Example.com
cookie_expire: 2h
cookie_http_only: false
cookie_same_site: Lax
signout_redirect_url: https://example.com/bye
programmatic_redirect_domain_whitelist: [localhost, cli.example.com]
pass_identity_headers: true
jwt_claims_headers: email,groups
jwt_issuer_format: IssuerURI
routes:
  - from: https://app.example.com
    to: http://127.0.0.1:1
    allow_any_authenticated_user: true
    idp_client_id: other
    idp_client_secret: other-secret
    depends_on: [a.example.com, https://b.example.com]
)");
  const AuthenticateOptions& a = o.authenticate;
  EXPECT_EQ(a.service_url, "https://authenticate.example.com:8443");
  EXPECT_EQ(a.host, "authenticate.example.com");
  EXPECT_EQ(a.idp.provider, "oidc");
  EXPECT_EQ(a.idp.provider_url, "https://idp.example.com/realms/x");
  EXPECT_EQ(a.idp.client_id, "gatehouse");
  EXPECT_EQ(a.idp.client_secret, "s3cret");
  EXPECT_THAT(a.idp.scopes, ElementsAre("openid", "email"));
  EXPECT_THAT(a.idp.request_params, ElementsAre(Pair("prompt", "select_account")));
  EXPECT_EQ(a.cookie.name, "_sess");
  EXPECT_EQ(a.cookie.domain, ".example.com");
  EXPECT_EQ(a.cookie.expire, std::chrono::hours(2));
  EXPECT_FALSE(a.cookie.http_only);
  EXPECT_EQ(a.cookie.same_site, "lax");
  EXPECT_EQ(a.signout_redirect_url, "https://example.com/bye");
  EXPECT_THAT(a.programmatic_redirect_domains, ElementsAre("localhost", "cli.example.com"));
  EXPECT_TRUE(o.identity.pass_identity_headers);
  EXPECT_THAT(o.identity.jwt_claims_headers,
              ElementsAre(Pair("X-Pomerium-Claim-Email", "email"),
                          Pair("X-Pomerium-Claim-Groups", "groups")));
  EXPECT_EQ(o.identity.jwt_issuer_format, "uri");
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].idp_client_id, "other");
  EXPECT_EQ(o.routes[0].idp_client_secret, "other-secret");
  EXPECT_THAT(o.routes[0].depends_on, ElementsAre("a.example.com", "b.example.com"));
}

TEST(AuthenticateOptionsTest, ErrorsNameTheKey) {
  EXPECT_THAT(load("idp_provider: facebook").errors,
              Contains(HasSubstr("idp_provider: \"facebook\" is not one of")));
  EXPECT_THAT(load("idp_provider: oidc\nauthenticate_service_url: https://a.example.com\n"
                   "idp_provider_url: https://idp.example.com\n")
                  .errors,
              ElementsAre("idp_client_id: required when idp_provider is set"));
  EXPECT_THAT(load("idp_provider: oidc\nidp_client_id: x\nauthenticate_service_url: "
                   "https://a.example.com\n")
                  .errors,
              ElementsAre("idp_provider_url: required when idp_provider is oidc"));
  EXPECT_THAT(load("idp_provider: google\nidp_client_id: x\n").errors,
              ElementsAre(HasSubstr("authenticate_service_url: required when idp_provider")));
  EXPECT_THAT(load("authenticate_service_url: https://a.example.com/path").errors,
              ElementsAre(HasSubstr("authenticate_service_url: must be a URL with no path")));
  EXPECT_THAT(load("authenticate_service_url: ftp://a.example.com").errors,
              ElementsAre("authenticate_service_url: must be an https:// URL"));
  EXPECT_THAT(load("cookie_expire: 0s").errors,
              ElementsAre("cookie_expire: must be a positive duration, e.g. 14h"));
  EXPECT_THAT(load("cookie_same_site: sometimes").errors,
              ElementsAre("cookie_same_site: \"sometimes\" is not one of strict, lax, none"));
  EXPECT_THAT(load("cookie_name: 'a b'").errors,
              ElementsAre("cookie_name: \"a b\" is not a valid cookie name"));
  EXPECT_THAT(load("idp_request_params: [a]").errors,
              ElementsAre("idp_request_params: expected a map of parameter names to values"));
  EXPECT_THAT(load("jwt_issuer_format: url").errors,
              ElementsAre("jwt_issuer_format: \"url\" is not one of hostOnly, uri"));
}

TEST(AuthenticateOptionsTest, ClaimHeadersShapes) {
  EXPECT_THAT(loadOk("jwt_claims_headers: [email, given-name]").identity.jwt_claims_headers,
              ElementsAre(Pair("X-Pomerium-Claim-Email", "email"),
                          Pair("X-Pomerium-Claim-Given-Name", "given-name")));
  EXPECT_THAT(loadOk("jwt_claims_headers: {X-Email: email}").identity.jwt_claims_headers,
              ElementsAre(Pair("X-Email", "email")));
  EXPECT_THAT(load("jwt_claims_headers: {'bad header': email}").errors,
              ElementsAre(HasSubstr("jwt_claims_headers.bad header: expected a header name")));
}

TEST(AuthenticateOptionsTest, ServicesThatCannotShareAProcess) {
  EXPECT_THAT(load("services: authorize,databroker").errors,
              ElementsAre(HasSubstr("services: authorize and databroker each serve gRPC")));
  EXPECT_THAT(load("services: proxy,authorize,databroker").errors, ::testing::IsEmpty());
}

TEST(AuthenticateOptionsTest, SecretsFromFiles) {
  testing::TempDir dir;
  auto secret = dir.path() / "secret";
  std::ofstream(secret) << "from-file\n";
  Options o = loadOk("idp_client_secret_file: " + secret.string() + "\n");
  EXPECT_EQ(o.authenticate.idp.client_secret, "from-file");
}

}  // namespace
}  // namespace gatehouse::config

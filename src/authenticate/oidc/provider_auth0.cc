#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// Auth0: its issuer is "https://<tenant>.auth0.com/" with a trailing slash,
// which the tokens repeat exactly; and sign-out goes to Auth0's own
// /v2/logout endpoint (returnTo), as in Pomerium.
ProviderResult makeAuth0Provider(const ProviderSettings& settings, std::shared_ptr<Fetcher> fetcher,
                                 Clock clock) {
  OidcFlavor flavor;
  flavor.name = "auth0";
  flavor.trailing_slash = OidcFlavor::TrailingSlash::kEnsure;
  flavor.auth0_logout = true;
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

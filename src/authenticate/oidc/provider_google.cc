#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// Google: offline access is asked for with access_type=offline (Google does
// not know the offline_access scope), and prompt=consent makes it issue a
// refresh token at every login, select_account lets the user pick an
// account. As Pomerium does; idp_request_params replaces both.
ProviderResult makeGoogleProvider(const ProviderSettings& settings,
                                  std::shared_ptr<Fetcher> fetcher, Clock clock) {
  OidcFlavor flavor;
  flavor.name = "google";
  flavor.default_provider_url = "https://accounts.google.com";
  flavor.trailing_slash = OidcFlavor::TrailingSlash::kTrim;
  flavor.default_scopes = {"openid", "profile", "email"};
  flavor.default_auth_params = {{"access_type", "offline"}, {"prompt", "select_account consent"}};
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// GitLab (gitlab.com or a self-managed instance at idp_provider_url).
// GitLab does not know offline_access; it issues refresh tokens anyway.
ProviderResult makeGitLabProvider(const ProviderSettings& settings,
                                  std::shared_ptr<Fetcher> fetcher, Clock clock) {
  OidcFlavor flavor;
  flavor.name = "gitlab";
  flavor.default_provider_url = "https://gitlab.com";
  flavor.trailing_slash = OidcFlavor::TrailingSlash::kTrim;
  flavor.default_scopes = {"openid", "profile", "email"};
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

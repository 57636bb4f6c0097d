#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// Okta: plain OpenID Connect at the Okta org or authorization server URL.
ProviderResult makeOktaProvider(const ProviderSettings& settings, std::shared_ptr<Fetcher> fetcher,
                                Clock clock) {
  OidcFlavor flavor;
  flavor.name = "okta";
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

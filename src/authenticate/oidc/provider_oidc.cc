#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// Any OpenID Connect provider, found through its discovery document at
// idp_provider_url (required).
ProviderResult makeOidcProvider(const ProviderSettings& settings, std::shared_ptr<Fetcher> fetcher,
                                Clock clock) {
  OidcFlavor flavor;
  flavor.name = "oidc";
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

#include "authenticate/oidc/oidc_provider.h"
#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {

// Microsoft Entra ID (Azure AD), v2.0 endpoints. The user id is the "oid"
// claim: "sub" is pairwise per application, "oid" is the same for the user
// everywhere in the tenant (Pomerium uses it too). The default "common"
// endpoint serves every tenant: its discovery names the issuer
// "https://login.microsoftonline.com/{tenantid}/v2.0", and each token is
// checked against that template filled in with its own "tid" (Pomerium
// skips the issuer check there instead).
ProviderResult makeAzureProvider(const ProviderSettings& settings, std::shared_ptr<Fetcher> fetcher,
                                 Clock clock) {
  OidcFlavor flavor;
  flavor.name = "azure";
  flavor.default_provider_url = "https://login.microsoftonline.com/common/v2.0";
  flavor.default_auth_params = {{"prompt", "select_account"}};
  flavor.subject_claim = "oid";
  flavor.tenant_issuer_template = true;
  auto provider =
      OidcProvider::create(settings, std::move(flavor), std::move(fetcher), std::move(clock));
  if (!provider) return provider.error();
  return std::shared_ptr<Provider>(std::move(*provider));
}

}  // namespace gatehouse::authenticate::oidc

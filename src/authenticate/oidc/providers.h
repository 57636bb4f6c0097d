#pragma once

// The named identity providers, one file each (provider_<name>.cc), put
// together by the registry (provider_registry.cc). Each factory validates
// the settings and touches no network.

#include <memory>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/fetcher.h"
#include "authenticate/oidc/provider.h"

namespace gatehouse::authenticate::oidc {

using ProviderResult = Result<std::shared_ptr<Provider>>;

ProviderResult makeOidcProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeGoogleProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeGitHubProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeGitLabProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeOktaProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeAuth0Provider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);
ProviderResult makeAzureProvider(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);

}  // namespace gatehouse::authenticate::oidc

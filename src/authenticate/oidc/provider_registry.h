#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "authenticate/oidc/clock.h"
#include "authenticate/oidc/fetcher.h"
#include "authenticate/oidc/provider.h"

namespace gatehouse::authenticate::oidc {

// Builds the provider named by settings.type (idp_provider): "oidc",
// "google", "github", "gitlab", "okta", "auth0" or "azure". An unknown name
// or invalid settings are kInvalidArgument naming the idp_* key. No network
// access happens here. `fetcher` is shared by the provider's threads.
Result<std::shared_ptr<Provider>> makeProvider(const ProviderSettings& settings,
                                               std::shared_ptr<Fetcher> fetcher,
                                               Clock clock = Clock::system());

// The names makeProvider knows, in registry order (for messages and docs).
std::vector<std::string_view> providerNames();

}  // namespace gatehouse::authenticate::oidc

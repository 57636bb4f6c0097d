#include "authenticate/oidc/provider_registry.h"

#include "authenticate/oidc/providers.h"

namespace gatehouse::authenticate::oidc {
namespace {

using Factory = ProviderResult (*)(const ProviderSettings&, std::shared_ptr<Fetcher>, Clock);

struct Entry {
  std::string_view name;
  Factory factory;
};

// Every provider, in one explicit list.
constexpr Entry kProviders[] = {
    {"oidc", makeOidcProvider},     {"google", makeGoogleProvider}, {"github", makeGitHubProvider},
    {"gitlab", makeGitLabProvider}, {"okta", makeOktaProvider},     {"auth0", makeAuth0Provider},
    {"azure", makeAzureProvider},
};

}  // namespace

Result<std::shared_ptr<Provider>> makeProvider(const ProviderSettings& settings,
                                               std::shared_ptr<Fetcher> fetcher, Clock clock) {
  if (!fetcher) return Error::internal("identity provider without a fetcher");
  for (const Entry& entry : kProviders) {
    if (entry.name == settings.type)
      return entry.factory(settings, std::move(fetcher), std::move(clock));
  }
  std::string known;
  for (const Entry& entry : kProviders) {
    if (!known.empty()) known += ", ";
    known += entry.name;
  }
  return Error::invalid("idp_provider: \"" + settings.type + "\" is not one of " + known);
}

std::vector<std::string_view> providerNames() {
  std::vector<std::string_view> names;
  for (const Entry& entry : kProviders) names.push_back(entry.name);
  return names;
}

}  // namespace gatehouse::authenticate::oidc

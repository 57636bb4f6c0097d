#include "authenticate/oidc/discovery_cache.h"

#include <algorithm>

#include "authenticate/oidc/http_status.h"
#include "authenticate/oidc/json_document.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr std::chrono::seconds kFirstBackoff{1};
constexpr std::chrono::seconds kMaxBackoff{60};

}  // namespace

DiscoveryCache::DiscoveryCache(std::string configured_issuer, std::shared_ptr<Fetcher> fetcher,
                               Clock clock, IssuerCheck issuer_check)
    : configured_issuer_(std::move(configured_issuer)),
      fetcher_(std::move(fetcher)),
      clock_(std::move(clock)),
      issuer_check_(std::move(issuer_check)) {}

Task<Result<std::shared_ptr<const DiscoveryDocument>>> DiscoveryCache::get() {
  {
    std::lock_guard lock(mutex_);
    if (document_) co_return document_;
    if (last_error_ && clock_.monotonic() < retry_after_) co_return *last_error_;
  }
  auto loaded = co_await load();
  std::lock_guard lock(mutex_);
  if (loaded) {
    if (!document_) document_ = *loaded;
    last_error_.reset();
    backoff_ = {};
    co_return document_;
  }
  backoff_ = backoff_.count() == 0
                 ? std::chrono::steady_clock::duration(kFirstBackoff)
                 : std::min<std::chrono::steady_clock::duration>(backoff_ * 2, kMaxBackoff);
  retry_after_ = clock_.monotonic() + backoff_;
  last_error_ = loaded.error();
  co_return loaded.error();
}

Task<Result<std::shared_ptr<const DiscoveryDocument>>> DiscoveryCache::load() {
  FetchRequest request;
  request.url = discoveryUrl(configured_issuer_);
  request.headers.add("Accept", "application/json");
  auto response = co_await fetcher_->fetch(std::move(request));
  if (!response) co_return response.error();
  if (response->status != 200) co_return unexpectedStatus(*response, "discovery");
  if (!isJson(*response)) co_return protocolError("discovery: response is not JSON");
  auto document = parseDiscoveryDocument(response->body);
  if (!document) co_return document.error();
  if (!issuer_check_(configured_issuer_, document->issuer)) {
    // An IdP that names another issuer would have its tokens checked
    // against the wrong "iss" (OpenID Connect Discovery section 4.3).
    co_return protocolError("discovery: issuer \"" + document->issuer.substr(0, 200) +
                            "\" is not the configured idp_provider_url \"" + configured_issuer_ +
                            "\"");
  }
  co_return std::make_shared<const DiscoveryDocument>(std::move(*document));
}

}  // namespace gatehouse::authenticate::oidc

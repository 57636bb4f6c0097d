#include "authenticate/oidc/jwks_cache.h"

#include "authenticate/oidc/http_status.h"
#include "authenticate/oidc/json_document.h"

namespace gatehouse::authenticate::oidc {
namespace {

Error noKey(const Error& cause, std::string_view why) {
  return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream,
               "ID token: " + cause.message + " (" + std::string(why) + ")", false};
}

}  // namespace

JwksCache::JwksCache(std::shared_ptr<Fetcher> fetcher, Clock clock,
                     std::chrono::steady_clock::duration min_refetch_interval)
    : fetcher_(std::move(fetcher)),
      clock_(std::move(clock)),
      min_refetch_interval_(min_refetch_interval) {}

std::shared_ptr<const crypto::Jwks> JwksCache::current() {
  std::lock_guard lock(mutex_);
  return keys_;
}

void JwksCache::store(std::shared_ptr<const crypto::Jwks> keys) {
  std::lock_guard lock(mutex_);
  keys_ = std::move(keys);
}

Task<Result<void>> JwksCache::verify(const crypto::Jws& jws, const std::string& jwks_uri) {
  if (jwks_uri.empty()) {
    co_return protocolError("ID token: the identity provider publishes no jwks_uri");
  }
  std::shared_ptr<const crypto::Jwks> keys = current();
  if (!keys) {
    auto loaded = co_await fetchKeys(jwks_uri);
    if (!loaded) co_return loaded.error();
    keys = *loaded;
    store(keys);
  }
  auto verified = jws.verify(*keys);
  if (verified || verified.error().code != ErrorCode::kNotFound) co_return verified;

  // No published key fits: the IdP may have rotated its keys since they
  // were fetched. Claim the one refetch of this interval, or give up.
  bool may_refetch = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.monotonic();
    if (!last_refetch_ || now - *last_refetch_ >= min_refetch_interval_) {
      last_refetch_ = now;
      may_refetch = true;
    }
  }
  if (!may_refetch) co_return noKey(verified.error(), "keys were refetched moments ago");
  auto refetched = co_await fetchKeys(jwks_uri);
  if (!refetched) co_return refetched.error();
  store(*refetched);
  verified = jws.verify(**refetched);
  if (!verified && verified.error().code == ErrorCode::kNotFound) {
    co_return noKey(verified.error(), "not in the refetched keys either");
  }
  co_return verified;
}

Task<Result<std::shared_ptr<const crypto::Jwks>>> JwksCache::fetchKeys(
    const std::string& jwks_uri) {
  FetchRequest request;
  request.url = jwks_uri;
  request.headers.add("Accept", "application/json");
  auto response = co_await fetcher_->fetch(std::move(request));
  if (!response) co_return response.error();
  if (response->status != 200) co_return unexpectedStatus(*response, "jwks_uri");
  auto keys = crypto::Jwks::parse(response->body);
  if (!keys) co_return protocolError("jwks_uri: " + keys.error().message);
  if (keys->keys().empty()) co_return protocolError("jwks_uri: no usable signing key");
  co_return std::make_shared<const crypto::Jwks>(std::move(*keys));
}

}  // namespace gatehouse::authenticate::oidc

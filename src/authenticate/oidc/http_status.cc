#include "authenticate/oidc/http_status.h"

#include "common/strings.h"

namespace gatehouse::authenticate::oidc {

Error unexpectedStatus(const FetchResponse& response, std::string_view what) {
  std::string message = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (response.status >= 500 || response.status == 429) {
    return Error{ErrorCode::kUnavailable, ErrorSource::kUpstream, std::move(message), true};
  }
  if (response.status == 401 || response.status == 403) {
    return Error{ErrorCode::kUnauthenticated, ErrorSource::kUpstream, std::move(message), false};
  }
  return Error{ErrorCode::kProtocol, ErrorSource::kUpstream, std::move(message), false};
}

bool isJson(const FetchResponse& response) {
  auto type = response.headers.get("content-type");
  if (!type) return true;
  std::string_view media = trim(type->substr(0, type->find(';')));
  return iequals(media, "application/json") ||
         (media.size() > 5 && iequals(media.substr(media.size() - 5), "+json"));
}

}  // namespace gatehouse::authenticate::oidc

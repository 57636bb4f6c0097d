#pragma once
// The authenticate service: the OpenID Connect login, as Pomerium's
// stateful flow runs it (see the design notes in service.cc). It answers
// requests for the authenticate host, in the same process as the proxy or
// on its own.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "authenticate/oidc/fetcher.h"
#include "authenticate/oidc/provider.h"
#include "common/result.h"
#include "config/options.h"
#include "crypto/aead.h"
#include "crypto/signed_url.h"
#include "databroker/client.h"
#include "http/message.h"
#include "net/asio.h"
#include "session/cache.h"
#include "session/cookie.h"
#include "session/handle.h"
#include "session/urls.h"

namespace gatehouse::authenticate {

// What a handler answers. With `error_page` set the caller renders its own
// error page (HTML or JSON, as the client asked) for `status` with
// `details`, and adds `head`'s headers (cookies) to it.
struct LocalResponse {
  http::ResponseHead head;
  std::string body;
  bool error_page = false;
  std::string details;
};

struct Request {
  const http::RequestHead* head = nullptr;
  std::string_view host;   // lower-case, no port
  std::string_view path;   // normalised
  std::string_view query;  // raw, without '?'
  std::string_view body;   // a POSTed form, bounded by the caller
  std::chrono::system_clock::time_point now;
};

class Authenticator {
 public:
  struct Dependencies {
    databroker::Client* databroker = nullptr;
    session::Cache* sessions = nullptr;
    std::shared_ptr<oidc::Fetcher> fetcher;
  };

  // Builds sign-in for a configuration; nullptr (and no error) when no
  // identity provider is configured. Providers whose settings did not
  // change are taken over from `previous`, with their cached discovery
  // document and keys.
  static Result<std::shared_ptr<const Authenticator>> create(const config::Options& options,
                                                             Dependencies dependencies,
                                                             const Authenticator* previous);

  // Whether a request for `host` and `path` is the authenticate service's.
  bool serves(std::string_view host, std::string_view path) const;

  Task<LocalResponse> handle(const Request& request) const;

  // The provider a route signs in with, by its idp id; null if unknown.
  std::shared_ptr<oidc::Provider> provider(std::string_view idp_id) const;
  // Every configured provider by idp id (for the session refresher).
  const std::map<std::string, std::shared_ptr<oidc::Provider>, std::less<>>& providers() const {
    return providers_;
  }

 private:
  Authenticator() = default;

  Task<LocalResponse> signIn(const Request& request) const;
  Task<LocalResponse> callback(const Request& request) const;
  Task<LocalResponse> signOut(const Request& request) const;
  LocalResponse signedOut() const;
  Task<LocalResponse> userInfo(const Request& request) const;
  Task<LocalResponse> startLogin(const Request& request, const std::string& idp_id,
                                 std::string_view sign_in_query) const;
  LocalResponse completeLogin(const session::Handle& session_handle, const session::Params& sign_in,
                              std::chrono::system_clock::time_point now,
                              LocalResponse response) const;
  Task<std::optional<session::Handle>> currentSession(const Request& request,
                                                      std::string_view idp_id) const;
  session::CookieAttributes cookieAttributes() const;
  session::CookieAttributes csrfCookieAttributes() const;
  LocalResponse error(int status, std::string details) const;

  config::AuthenticateOptions options_;
  std::string authenticate_url_;     // service_url
  std::string authenticate_cookie_;  // cookie_name + "_authenticate"
  std::string default_idp_id_;
  std::map<std::string, std::shared_ptr<oidc::Provider>, std::less<>> providers_;
  std::map<std::string, oidc::ProviderSettings, std::less<>> settings_;
  Dependencies dependencies_;
  std::shared_ptr<const session::HandleCodec> handles_;
  std::shared_ptr<const crypto::SignedUrl> signer_;
  std::shared_ptr<const crypto::Aead> cookie_cipher_;
};

}  // namespace gatehouse::authenticate

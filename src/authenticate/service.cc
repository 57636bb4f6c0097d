// The login, step by step (Pomerium's stateful flow, section 1.6 of the
// behaviour reference):
//
//  1. The proxy sends a browser without a session to
//     /.pomerium/sign_in?pomerium_redirect_uri=...&pomerium_idp_id=...,
//     signed with the shared secret (5 minute expiry).
//  2. sign_in verifies the signature. With a valid authenticate-host
//     session it goes straight to step 5; otherwise it sets the CSRF cookie
//     and a PKCE verifier cookie and redirects to the IdP with a sealed
//     `state`, a `nonce` and the PKCE challenge.
//  3. The IdP redirects to the callback path with `code` and `state`.
//  4. The callback checks the state (sealed with cookie_secret, bound to
//     the CSRF cookie, at most 10 minutes old) and the RFC 9207 `iss`,
//     redeems the code with the verifier, has the ID token verified, writes
//     the session and user records and sets the authenticate-host cookie.
//  5. A route-scoped handle, sealed with the shared secret, goes to the
//     route host's /.pomerium/callback/ in a signed URL; the proxy there
//     sets the session cookie and returns the user to where they started.
//
// Where Pomerium's callback redirects back to sign_in (whose signature may
// have expired while the user typed a password), Gatehouse completes the
// login directly: the sign-in parameters were verified in step 2 and
// travel sealed in the state.

#include "authenticate/service.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "authenticate/login_state.h"
#include "authenticate/oidc/provider_registry.h"
#include "common/base64.h"
#include "common/log.h"
#include "common/strings.h"
#include "crypto/random.h"
#include "databroker/client_awaitable.h"
#include "session/urls.h"

namespace gatehouse::authenticate {
namespace {

using session::findParam;
using session::Params;
using Time = std::chrono::system_clock::time_point;

constexpr std::string_view kCsrfCookie = "_pomerium_csrf";
constexpr auto kCsrfLifetime = std::chrono::hours(12);

std::string randomToken() { return base64UrlEncode(crypto::randomBytes(32)); }

std::string sha256Base64Url(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool isToken(std::string_view value) {
  if (value.size() != 43) return false;
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Every value of cookie `name` across the request's Cookie headers (HTTP/2
// clients may send one header per cookie).
std::vector<std::string_view> cookies(const http::RequestHead& head, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& f : head.headers.fields()) {
    if (!iequals(f.name, "cookie")) continue;
    session::findCookies(f.value, name, out);
  }
  return out;
}

int64_t unixSeconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string page(std::string_view title, std::string_view body_html) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>";
  out += htmlEscape(title);
  out +=
      "</title><style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em "
      "auto;padding:0 1em;color:#222}button{font-size:1em;padding:.5em 1.5em}"
      "dt{font-weight:bold}dd{margin:0 0 .5em 0;word-break:break-all}</style></head><body>";
  out += body_html;
  out += "</body></html>\n";
  return out;
}

LocalResponse htmlResponse(int status, std::string body) {
  LocalResponse r;
  r.head.status = status;
  r.head.headers.add("content-type", "text/html; charset=utf-8");
  r.head.headers.add("cache-control", "no-store");
  r.body = std::move(body);
  return r;
}

LocalResponse redirect(std::string_view location, LocalResponse r = {}) {
  r.head.status = 302;
  r.head.headers.set("location", location);
  r.head.headers.set("cache-control", "no-store");
  r.head.headers.set("content-type", "text/html; charset=utf-8");
  r.body = "<a href=\"" + htmlEscape(location) + "\">Found</a>.\n";
  return r;
}

int statusFor(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout ? 503 : 502;
}

bool sameSettings(const oidc::ProviderSettings& a, const oidc::ProviderSettings& b) {
  return a.type == b.type && a.provider_url == b.provider_url && a.client_id == b.client_id &&
         a.client_secret == b.client_secret && a.scopes == b.scopes &&
         a.request_params == b.request_params && a.redirect_url == b.redirect_url &&
         a.ca_pem == b.ca_pem;
}

}  // namespace

Result<std::shared_ptr<const Authenticator>> Authenticator::create(const config::Options& options,
                                                                   Dependencies dependencies,
                                                                   const Authenticator* previous) {
  const config::AuthenticateOptions& auth = options.authenticate;
  if (auth.idp.provider.empty() || auth.service_url.empty()) {
    return std::shared_ptr<const Authenticator>();
  }
  std::shared_ptr<Authenticator> a(new Authenticator());
  a->options_ = auth;
  a->authenticate_url_ = auth.service_url;
  a->authenticate_cookie_ = auth.cookie.name + "_authenticate";
  a->dependencies_ = std::move(dependencies);

  auto handles = session::HandleCodec::create(options.secrets.shared_secret);
  if (!handles) return Error::invalid("shared_secret: " + handles.error().message);
  a->handles_ = std::make_shared<const session::HandleCodec>(std::move(*handles));
  a->signer_ = std::make_shared<const crypto::SignedUrl>(options.secrets.shared_secret);
  auto cipher = crypto::Aead::create(crypto::AeadAlgorithm::kXChaCha20Poly1305,
                                     options.secrets.cookie_secret);
  if (!cipher) return Error::invalid("cookie_secret: " + cipher.error().message);
  a->cookie_cipher_ = std::make_shared<const crypto::Aead>(std::move(*cipher));

  oidc::ProviderSettings base;
  base.type = auth.idp.provider;
  base.provider_url = auth.idp.provider_url;
  base.client_id = auth.idp.client_id;
  base.client_secret = auth.idp.client_secret;
  base.scopes = auth.idp.scopes;
  base.request_params = auth.idp.request_params;
  base.redirect_url = auth.service_url + auth.callback_path;
  base.ca_pem = auth.certificate_authority_pem;
  a->default_idp_id_ = session::idpId(base.type, base.provider_url, base.client_id);
  a->settings_[a->default_idp_id_] = base;
  for (const config::Route& route : options.routes) {
    if (route.idp_client_id.empty()) continue;
    oidc::ProviderSettings settings = base;
    settings.client_id = route.idp_client_id;
    settings.client_secret = route.idp_client_secret;
    a->settings_[session::idpId(settings.type, settings.provider_url, settings.client_id)] =
        settings;
  }
  for (const auto& [id, settings] : a->settings_) {
    if (previous) {
      auto old = previous->settings_.find(id);
      if (old != previous->settings_.end() && sameSettings(old->second, settings)) {
        a->providers_[id] = previous->providers_.at(id);
        continue;
      }
    }
    auto provider = oidc::makeProvider(settings, a->dependencies_.fetcher);
    if (!provider) return provider.error();
    a->providers_[id] = std::move(*provider);
  }
  return std::shared_ptr<const Authenticator>(std::move(a));
}

std::shared_ptr<oidc::Provider> Authenticator::provider(std::string_view idp_id) const {
  auto it = providers_.find(idp_id);
  return it == providers_.end() ? nullptr : it->second;
}

bool Authenticator::serves(std::string_view host, std::string_view) const {
  return host == options_.host;
}

session::CookieAttributes Authenticator::cookieAttributes() const {
  session::CookieAttributes a;
  a.domain = "";  // the authenticate host's own cookie is host-only
  a.http_only = options_.cookie.http_only;
  a.same_site = options_.cookie.same_site;
  a.max_age = std::chrono::duration_cast<std::chrono::seconds>(options_.cookie.expire);
  return a;
}

session::CookieAttributes Authenticator::csrfCookieAttributes() const {
  session::CookieAttributes a;
  a.http_only = true;
  // The IdP sends the browser back with a top-level navigation: Lax lets
  // the cookie come along, Strict would not (None only when asked for).
  a.same_site = options_.cookie.same_site == "none" ? "none" : "lax";
  a.max_age = kCsrfLifetime;
  return a;
}

LocalResponse Authenticator::error(int status, std::string details) const {
  LocalResponse r;
  r.head.status = status;
  r.error_page = true;
  r.details = std::move(details);
  return r;
}

Task<LocalResponse> Authenticator::handle(const Request& request) const {
  std::string_view path = request.path;
  if (path == session::kSignInPath) co_return co_await signIn(request);
  if (path == options_.callback_path) co_return co_await callback(request);
  if (path == session::kSignOutPath) co_return co_await signOut(request);
  if (path == session::kSignedOutPath) co_return signedOut();
  if (path == "/.pomerium" || path == "/.pomerium/") co_return co_await userInfo(request);
  if (path == "/robots.txt") {
    LocalResponse r;
    r.head.headers.add("content-type", "text/plain; charset=utf-8");
    r.body = "User-agent: *\nDisallow: /\n";
    co_return r;
  }
  if (path == "/") co_return redirect("/.pomerium/");
  co_return error(404, "not an endpoint of the authenticate service");
}

Task<std::optional<session::Handle>> Authenticator::currentSession(const Request& request,
                                                                   std::string_view idp_id) const {
  for (std::string_view value : cookies(*request.head, authenticate_cookie_)) {
    auto handle = handles_->verify(value);
    if (!handle || handle->idp_id != idp_id) continue;
    if (!dependencies_.sessions) continue;
    session::Lookup found = co_await dependencies_.sessions->lookup(*handle, request.now);
    if (found.status == session::LookupStatus::kFound) co_return *handle;
  }
  co_return std::nullopt;
}

Task<LocalResponse> Authenticator::signIn(const Request& request) const {
  std::string url =
      authenticate_url_ + std::string(session::kSignInPath) + "?" + std::string(request.query);
  if (auto verified = signer_->verify(url, request.now); !verified) {
    co_return error(400, "invalid or expired sign-in link: " + verified.error().message);
  }
  Params params = session::parseQuery(request.query);
  auto redirect_uri = findParam(params, session::param::kRedirectUri);
  if (!redirect_uri || !session::parseAbsoluteUrl(*redirect_uri)) {
    co_return error(400, "sign-in link without a valid pomerium_redirect_uri");
  }
  std::string idp_id = findParam(params, session::param::kIdpId).value_or(default_idp_id_);
  if (!provider(idp_id)) co_return error(400, "unknown identity provider");

  if (auto current = co_await currentSession(request, idp_id)) {
    co_return completeLogin(*current, params, request.now, {});
  }
  if (auto xhr = request.head->headers.get("x-requested-with");
      xhr && iequals(*xhr, "xmlhttprequest")) {
    co_return error(401, "sign in required");
  }
  co_return co_await startLogin(request, idp_id, request.query);
}

Task<LocalResponse> Authenticator::startLogin(const Request& request, const std::string& idp_id,
                                              std::string_view sign_in_query) const {
  std::shared_ptr<oidc::Provider> idp = provider(idp_id);
  LoginState state;
  // Keep the browser's CSRF token if it has one, so that two logins in two
  // tabs do not invalidate each other.
  for (std::string_view existing : cookies(*request.head, kCsrfCookie)) {
    if (isToken(existing)) {
      state.csrf = std::string(existing);
      break;
    }
  }
  if (state.csrf.empty()) state.csrf = randomToken();
  state.issued = unixSeconds(request.now);
  state.idp_id = idp_id;
  state.nonce = randomToken();
  state.pkce = co_await idp->supportsPkce();
  state.sign_in_query = std::string(sign_in_query);
  std::string encoded = state.encode(*cookie_cipher_);

  std::string verifier;
  std::string challenge;
  if (state.pkce) {
    verifier = randomToken();
    challenge = sha256Base64Url(verifier);
  }
  auto location = co_await idp->authorizeUrl(encoded, state.nonce, challenge);
  if (!location) {
    log::warn("sign-in: identity provider unavailable").str("error", location.error().message);
    co_return error(statusFor(location.error()),
                    "the identity provider cannot be reached: " + location.error().message);
  }
  LocalResponse r;
  r.head.headers.add("set-cookie", session::setCookie(kCsrfCookie, state.csrf,
                                                      csrfCookieAttributes(), request.now));
  if (state.pkce) {
    auto sealed = cookie_cipher_->sealBase64Url(verifier, encoded);
    session::CookieAttributes pkce = csrfCookieAttributes();
    pkce.path = options_.callback_path;
    pkce.max_age = std::chrono::duration_cast<std::chrono::seconds>(LoginState::kLifetime);
    r.head.headers.add("set-cookie", session::setCookie(pkceCookieName(encoded),
                                                        sealed ? *sealed : "", pkce, request.now));
  }
  co_return redirect(*location, std::move(r));
}

Task<LocalResponse> Authenticator::callback(const Request& request) const {
  bool post = request.head->method == "POST";
  if (!post && request.head->method != "GET") co_return error(405, "use GET or POST");
  Params params = session::parseQuery(post ? request.body : request.query);
  if (auto idp_error = findParam(params, "error")) {
    std::string details = "the identity provider refused the login: " + *idp_error;
    if (auto description = findParam(params, "error_description")) details += ": " + *description;
    bool denied = *idp_error == "access_denied" || *idp_error == "unauthorized_client";
    co_return error(denied ? 401 : 400, details);
  }
  auto code = findParam(params, "code");
  auto state_text = findParam(params, "state");
  if (!code || code->empty() || !state_text || state_text->empty()) {
    co_return error(400, "the identity provider's answer has no code or state");
  }
  auto state = LoginState::decode(*state_text, *cookie_cipher_, request.now);
  if (!state) co_return error(400, state.error().message);
  bool csrf_ok = false;
  for (std::string_view value : cookies(*request.head, kCsrfCookie)) {
    csrf_ok |= constantTimeEquals(value, state->csrf);
  }
  if (!csrf_ok) {
    co_return error(400, "this login was not started in this browser (CSRF check failed)");
  }
  std::shared_ptr<oidc::Provider> idp = provider(state->idp_id);
  if (!idp) co_return error(400, "unknown identity provider");
  if (auto iss = findParam(params, "iss")) {
    auto expected = co_await idp->issuer();
    if (!expected) co_return error(statusFor(expected.error()), expected.error().message);
    if (!expected->empty() && *iss != *expected) {
      co_return error(400, "the authorization response comes from another issuer");
    }
  }
  std::string verifier;
  std::string pkce_cookie = pkceCookieName(*state_text);
  if (state->pkce) {
    for (std::string_view value : cookies(*request.head, pkce_cookie)) {
      if (auto opened = cookie_cipher_->openBase64Url(value, *state_text)) {
        verifier = std::move(*opened);
        break;
      }
    }
    if (verifier.empty()) co_return error(400, "the PKCE verifier of this login is missing");
  }

  auto identity = co_await idp->exchangeCode(*code, verifier, state->nonce);
  if (!identity) {
    log::warn("sign-in: code exchange failed").str("error", identity.error().message);
    int status = identity.error().code == ErrorCode::kUnavailable ||
                         identity.error().code == ErrorCode::kTimeout
                     ? 503
                     : 400;
    co_return error(status, "sign-in failed: " + identity.error().message);
  }
  if (identity->subject.empty()) co_return error(400, "the identity provider named no user");

  // A new session id at every login: a session id is never fixed by the
  // browser.
  session::Session s;
  s.id = crypto::randomId();
  s.user_id = identity->subject;
  s.idp_id = state->idp_id;
  s.issued_at = request.now;
  s.accessed_at = request.now;
  s.expires_at = request.now + std::chrono::duration_cast<Time::duration>(options_.cookie.expire);
  s.oauth_token.access_token = identity->tokens.access_token;
  s.oauth_token.refresh_token = identity->tokens.refresh_token;
  s.oauth_token.token_type = identity->tokens.token_type;
  s.oauth_token.expires_at = identity->tokens.expiry;
  s.id_token = identity->tokens.id_token;
  if (auto exp = identity->claims.find("exp");
      exp != identity->claims.end() && exp->is_number_integer()) {
    s.id_token_expires_at = Time(std::chrono::seconds(exp->get<int64_t>()));
  }
  s.claims = session::flattenClaims(identity->claims);
  s.audience = {options_.host};
  session::User u;
  u.id = s.user_id;
  u.name = session::firstClaim(s.claims, "name");
  u.email = session::firstClaim(s.claims, "email");
  u.claims = s.claims;

  std::vector<databroker::Record> records;
  records.push_back(session::toRecord(u));
  records.push_back(session::toRecord(s));
  databroker::Client* db = dependencies_.databroker;
  auto stored = co_await databroker::awaitCall<databroker::PutResult>(
      [&](auto done) { db->put(std::move(records), std::move(done)); });
  if (!stored || stored->records.size() != 2) {
    std::string why = stored ? "short answer" : stored.error().message;
    log::warn("sign-in: cannot store the session").str("error", why);
    co_return error(503, "the session store is unavailable: " + why);
  }
  session::Handle handle;
  handle.session_id = s.id;
  handle.user_id = s.user_id;
  handle.issuer = options_.host;
  handle.audience = {options_.host};
  handle.issued_at = unixSeconds(request.now);
  handle.idp_id = state->idp_id;
  handle.server_version = stored->server_version;
  handle.record_version = stored->records[1].version;
  log::info("sign-in: new session")
      .str("session-id", s.id)
      .str("user-id", s.user_id)
      .str("email", u.email);

  LocalResponse r;
  r.head.headers.add("set-cookie", session::setCookie(authenticate_cookie_, handles_->sign(handle),
                                                      cookieAttributes(), request.now));
  r.head.headers.add("set-cookie", session::clearCookie(kCsrfCookie, csrfCookieAttributes()));
  if (state->pkce) {
    session::CookieAttributes pkce = csrfCookieAttributes();
    pkce.path = options_.callback_path;
    r.head.headers.add("set-cookie", session::clearCookie(pkce_cookie, pkce));
  }
  co_return completeLogin(handle, session::parseQuery(state->sign_in_query), request.now,
                          std::move(r));
}

LocalResponse Authenticator::completeLogin(const session::Handle& session_handle,
                                           const Params& sign_in, Time now,
                                           LocalResponse response) const {
  auto redirect_uri = findParam(sign_in, session::param::kRedirectUri);
  auto target = redirect_uri ? session::parseAbsoluteUrl(*redirect_uri) : std::nullopt;
  if (!target) return error(400, "sign-in link without a valid pomerium_redirect_uri");
  std::string callback =
      target->scheme + "://" + target->authority + std::string(session::kCallbackPath);
  std::string callback_host = target->host;
  if (auto given = findParam(sign_in, session::param::kCallbackUri)) {
    auto parsed = session::parseAbsoluteUrl(*given);
    if (!parsed) return error(400, "invalid pomerium_callback_uri");
    callback = parsed->scheme + "://" + parsed->authority + parsed->path_and_query;
    callback_host = parsed->host;
    if (size_t q = callback.find('?'); q != std::string::npos) callback.resize(q);
  }
  session::Handle route = session_handle;
  route.audience = {options_.host, target->host};
  if (callback_host != target->host) route.audience.push_back(callback_host);
  std::optional<std::string> hosts = findParam(sign_in, session::param::kAdditionalHosts);
  if (hosts && !hosts->empty()) {
    // The route's depends_on hosts: the proxy chains the callback through
    // each of them, and each checks that the handle names it.
    for (auto& host : splitList(*hosts)) {
      if (!host.empty()) route.audience.push_back(toLower(host));
    }
  }
  Params params;
  params.emplace_back(session::param::kSessionEncrypted, handles_->seal(route));
  params.emplace_back(session::param::kRedirectUri, *redirect_uri);
  if (findParam(sign_in, session::param::kProgrammatic) == "true") {
    params.emplace_back(session::param::kProgrammatic, "true");
  }
  if (hosts && !hosts->empty()) params.emplace_back(session::param::kAdditionalHosts, *hosts);
  std::string url = signer_->sign(callback + "?" + session::encodeQuery(params), now);
  return redirect(url, std::move(response));
}

Task<LocalResponse> Authenticator::signOut(const Request& request) const {
  const http::RequestHead& head = *request.head;
  std::string target = options_.signout_redirect_url.empty()
                           ? authenticate_url_ + std::string(session::kSignedOutPath)
                           : options_.signout_redirect_url;
  if (head.method == "POST") {
    // The confirmation form: its token must be the CSRF cookie's.
    Params form = session::parseQuery(request.body);
    auto token = findParam(form, "csrf");
    bool ok = false;
    for (std::string_view value : cookies(head, kCsrfCookie)) {
      ok |= token && isToken(value) && constantTimeEquals(value, *token);
    }
    if (!ok) co_return error(400, "the sign-out form has expired; open the sign-out page again");
  } else if (head.method == "GET" || head.method == "HEAD") {
    std::string url =
        authenticate_url_ + std::string(session::kSignOutPath) + "?" + std::string(request.query);
    bool is_signed = !request.query.empty() && signer_->verify(url, request.now).ok();
    if (!is_signed) {
      // Someone may have been sent here by a link: ask first, and ignore
      // any redirect parameter the link carried.
      std::string csrf;
      for (std::string_view value : cookies(head, kCsrfCookie)) {
        if (isToken(value)) csrf = std::string(value);
      }
      if (csrf.empty()) csrf = randomToken();
      LocalResponse r = htmlResponse(
          200, page("Sign out", "<h1>Sign out?</h1><form method=\"post\" action=\"" +
                                    std::string(session::kSignOutPath) +
                                    "\"><input type=\"hidden\" name=\"csrf\" value=\"" + csrf +
                                    "\"><button type=\"submit\">Sign out</button></form>"));
      r.head.headers.add(
          "set-cookie", session::setCookie(kCsrfCookie, csrf, csrfCookieAttributes(), request.now));
      co_return r;
    }
    if (auto given = findParam(session::parseQuery(request.query), session::param::kRedirectUri);
        given && session::parseAbsoluteUrl(*given)) {
      target = *given;
    }
  } else {
    co_return error(405, "use GET or POST");
  }

  // Revoke every session this browser holds on the authenticate host.
  std::string id_token;
  std::shared_ptr<oidc::Provider> idp;
  databroker::Client* db = dependencies_.databroker;
  for (std::string_view value : cookies(head, authenticate_cookie_)) {
    auto handle = handles_->verify(value);
    if (!handle) continue;
    std::string id = handle->session_id;
    auto record = co_await databroker::awaitCall<databroker::Record>(
        [&](auto done) { db->get(std::string(session::kSessionType), id, std::move(done)); });
    if (!record) continue;
    auto stored = session::Session::fromJson(record->data);
    if (!stored) continue;
    idp = provider(stored->idp_id);
    if (idp) {
      oidc::Tokens tokens;
      tokens.access_token = stored->oauth_token.access_token;
      tokens.refresh_token = stored->oauth_token.refresh_token;
      tokens.token_type = stored->oauth_token.token_type;
      tokens.id_token = stored->id_token;
      if (auto revoked = co_await idp->revoke(tokens); !revoked) {
        log::warn("sign-out: token revocation failed").str("error", revoked.error().message);
      }
    }
    id_token = stored->id_token;
    databroker::Record deletion = session::sessionDeletion(id);
    auto deleted = co_await databroker::awaitCall<databroker::PutResult>(
        [&](auto done) { db->put({deletion}, std::move(done)); });
    if (!deleted) {
      co_return error(503, "the session store is unavailable: " + deleted.error().message);
    }
    log::info("sign-out").str("session-id", id).str("user-id", stored->user_id);
  }

  LocalResponse r;
  r.head.headers.add("set-cookie", session::clearCookie(authenticate_cookie_, cookieAttributes()));
  if (idp && !id_token.empty()) {
    auto end_session = co_await idp->endSessionUrl(id_token, target, "");
    if (end_session && !end_session->empty()) co_return redirect(*end_session, std::move(r));
  }
  co_return redirect(target, std::move(r));
}

LocalResponse Authenticator::signedOut() const {
  return htmlResponse(200,
                      page("Signed out", "<h1>Signed out</h1><p>You have been signed out.</p>"));
}

Task<LocalResponse> Authenticator::userInfo(const Request& request) const {
  std::shared_ptr<const session::Loaded> current;
  bool unavailable = false;
  for (std::string_view value : cookies(*request.head, authenticate_cookie_)) {
    auto handle = handles_->verify(value);
    if (!handle || !dependencies_.sessions) continue;
    session::Lookup found = co_await dependencies_.sessions->lookup(*handle, request.now);
    if (found.status == session::LookupStatus::kFound) {
      current = std::move(found.session);
      break;
    }
    if (found.status == session::LookupStatus::kUnavailable) unavailable = true;
  }
  if (!current && unavailable) {
    co_return error(503, "the session store cannot be reached; try again shortly");
  }
  if (!current) {
    co_return htmlResponse(200, page("Not signed in", "<h1>Not signed in</h1>"));
  }
  std::string body =
      "<h1>Signed in</h1><dl><dt>User</dt><dd>" + htmlEscape(current->session.user_id) +
      "</dd><dt>Email</dt><dd>" + htmlEscape(current->email) + "</dd><dt>Session expires</dt><dd>" +
      htmlEscape(session::formatTime(current->session.expires_at)) +
      "</dd></dl><form method=\"get\" action=\"" + std::string(session::kSignOutPath) +
      "\"><button type=\"submit\">Sign out</button></form>";
  co_return htmlResponse(200, page("Signed in", body));
}

}  // namespace gatehouse::authenticate

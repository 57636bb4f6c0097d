// Sign-in and identity settings: `authenticate_service_url`, `idp_*`,
// `cookie_*`, `signing_key`, `jwt_*`. The loader keeps these keys as text
// while it reads the file (they are checked against each other only once
// every key is known); finishAuthenticate() turns them into
// AuthenticateOptions and IdentityOptions, naming the key of every problem.

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/strings.h"
#include "config/options_builder.h"
#include "config/url.h"

namespace gatehouse::config {
namespace {

constexpr std::string_view kProviders[] = {"oidc", "google", "github", "gitlab",
                                           "okta", "auth0",  "azure"};
// Providers whose issuer has no sensible default.
constexpr std::string_view kProvidersNeedingUrl[] = {"oidc", "okta", "auth0"};

std::optional<std::string> lookup(std::map<std::string, std::string>& extra, std::string_view key) {
  auto it = extra.find(std::string(key));
  if (it == extra.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> splitCommaList(std::string_view text) {
  std::vector<std::string> out;
  for (auto& item : splitList(text)) {
    if (!item.empty()) out.push_back(std::move(item));
  }
  return out;
}

// PEM given inline or as base64 of PEM (Pomerium accepts both).
std::optional<std::string> pemText(ParseContext& ctx, std::string_view key,
                                   std::string_view value) {
  std::string_view trimmed = trim(value);
  if (startsWith(trimmed, "-----BEGIN")) return std::string(trimmed);
  return ctx.decodeBase64Pem(key, trimmed);
}

// An https:// (or, for loopback setups, http://) URL with no path, query or
// credentials; "" if invalid (the error is reported).
std::string originUrl(ParseContext& ctx, std::string_view key, std::string_view text,
                      std::string* host_out) {
  auto url = parseUrl(trim(text));
  if (!url.ok()) {
    ctx.error(key, url.error().message);
    return {};
  }
  if (url->scheme != "https" && url->scheme != "http") {
    ctx.error(key, "must be an https:// URL");
    return {};
  }
  if (url->has_userinfo || url->has_query || url->has_fragment ||
      (!url->path.empty() && url->path != "/")) {
    ctx.error(
        key,
        "must be a URL with no path, query or user info, e.g. https://authenticate.example.com");
    return {};
  }
  if (host_out) *host_out = url->host;
  std::string out = url->scheme + "://" + (url->ipv6 ? "[" + url->host + "]" : url->host);
  if (url->port) out += ":" + std::to_string(*url->port);
  return out;
}

// "X-Pomerium-Claim-" + the claim name with each word capitalised, as
// Pomerium names a claim header (http.CanonicalHeaderKey).
std::string claimHeaderName(std::string_view claim) {
  std::string name = "X-Pomerium-Claim-";
  bool upper = true;
  for (char c : claim) {
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                  : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return name;
}

bool isHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

// jwt_claims_headers: a comma string, a list of claim names, or a map of
// header name to claim name (JSON text from the loader).
std::vector<std::pair<std::string, std::string>> parseClaimHeaders(ParseContext& ctx,
                                                                   std::string_view json_text) {
  std::vector<std::pair<std::string, std::string>> out;
  auto json = nlohmann::json::parse(json_text, nullptr, false);
  auto addClaim = [&](std::string_view claim) {
    std::string name(trim(claim));
    if (name.empty()) return;
    std::string header = claimHeaderName(name);
    if (!isHeaderName(header)) {
      ctx.error("jwt_claims_headers", quote(name) + " does not make a valid header name");
      return;
    }
    out.emplace_back(std::move(header), std::move(name));
  };
  if (json.is_string()) {
    for (auto& claim : splitList(json.get<std::string>())) addClaim(claim);
  } else if (json.is_array()) {
    for (auto& item : json) {
      if (!item.is_string()) {
        ctx.error("jwt_claims_headers", "expected a list of claim names");
        return {};
      }
      addClaim(item.get<std::string>());
    }
  } else if (json.is_object()) {
    for (auto& [header, claim] : json.items()) {
      if (!claim.is_string() || !isHeaderName(header)) {
        ctx.error("jwt_claims_headers." + header, "expected a header name mapped to a claim name");
        continue;
      }
      out.emplace_back(header, claim.get<std::string>());
    }
  } else if (!json.is_null()) {
    ctx.error("jwt_claims_headers", "expected a list of claims or a map of header to claim");
  }
  return out;
}

}  // namespace

void OptionsBuilder::finishAuthenticate() {
  auto& extra = options_.extra;
  AuthenticateOptions& auth = options_.authenticate;
  IdentityOptions& identity = options_.identity;

  if (auto url = lookup(extra, "authenticate_service_url"); url && !trim(*url).empty()) {
    auth.service_url = originUrl(ctx_, "authenticate_service_url", *url, &auth.host);
  }
  if (auto path = lookup(extra, "authenticate_callback_path"); path && !path->empty()) {
    if (path->front() != '/' || path->find_first_of("?# ") != std::string::npos) {
      ctx_.error("authenticate_callback_path", "must be an absolute path, e.g. /oauth2/callback");
    } else {
      auth.callback_path = *path;
    }
  }

  // Identity provider.
  IdpOptions& idp = auth.idp;
  if (auto provider = lookup(extra, "idp_provider"); provider && !provider->empty()) {
    idp.provider = toLower(trim(*provider));
    if (std::find(std::begin(kProviders), std::end(kProviders), idp.provider) ==
        std::end(kProviders)) {
      std::string names;
      for (auto name : kProviders) names += (names.empty() ? "" : ", ") + std::string(name);
      ctx_.error("idp_provider", quote(*provider) + " is not one of " + names);
    }
  }
  if (auto url = lookup(extra, "idp_provider_url")) idp.provider_url = std::string(trim(*url));
  if (auto id = lookup(extra, "idp_client_id")) idp.client_id = std::string(trim(*id));
  auto secret_file = lookup(extra, "idp_client_secret_file");
  if (secret_file && !secret_file->empty()) {
    if (lookup(extra, "idp_client_secret")) {
      ctx_.warn("idp_client_secret", "ignored because idp_client_secret_file is set");
    }
    if (auto text = ctx_.readFile("idp_client_secret_file", *secret_file)) {
      while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
      idp.client_secret = std::move(*text);
    }
  } else if (auto secret = lookup(extra, "idp_client_secret")) {
    idp.client_secret = *secret;
  }
  if (auto scopes = lookup(extra, "idp_scopes")) idp.scopes = splitCommaList(*scopes);
  if (auto params = lookup(extra, "idp_request_params")) {
    auto json = nlohmann::json::parse(*params, nullptr, false);
    if (!json.is_object()) {
      ctx_.error("idp_request_params", "expected a map of parameter names to values");
    } else {
      for (auto& [name, value] : json.items()) {
        if (!value.is_string()) {
          ctx_.error("idp_request_params." + name, "expected a string");
          continue;
        }
        idp.request_params.emplace_back(name, value.get<std::string>());
      }
    }
  }
  if (!idp.provider.empty()) {
    if (idp.client_id.empty()) ctx_.error("idp_client_id", "required when idp_provider is set");
    if (idp.provider_url.empty() &&
        std::find(std::begin(kProvidersNeedingUrl), std::end(kProvidersNeedingUrl), idp.provider) !=
            std::end(kProvidersNeedingUrl)) {
      ctx_.error("idp_provider_url", "required when idp_provider is " + idp.provider);
    }
    if (auth.service_url.empty()) {
      ctx_.error("authenticate_service_url",
                 "required when idp_provider is set (the host that serves sign-in and the "
                 "IdP's redirect URL, e.g. https://authenticate.example.com)");
    }
  }
  if (!idp.provider_url.empty()) {
    auto url = parseUrl(idp.provider_url);
    if (!url.ok() || (url->scheme != "https" && url->scheme != "http")) {
      ctx_.error("idp_provider_url", "must be an https:// URL");
    }
  }

  // Cookies.
  CookieOptions& cookie = auth.cookie;
  if (auto name = lookup(extra, "cookie_name"); name && !name->empty()) {
    bool valid = std::all_of(name->begin(), name->end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (!valid) {
      ctx_.error("cookie_name", quote(*name) + " is not a valid cookie name");
    } else {
      cookie.name = *name;
    }
  }
  if (auto domain = lookup(extra, "cookie_domain")) cookie.domain = toLower(trim(*domain));
  if (auto expire = lookup(extra, "cookie_expire")) {
    auto d = parseGoDuration(*expire);
    if (!d || *d <= Duration::zero()) {
      ctx_.error("cookie_expire", "must be a positive duration, e.g. 14h");
    } else {
      cookie.expire = *d;
    }
  }
  if (auto http_only = lookup(extra, "cookie_http_only")) cookie.http_only = *http_only == "true";
  if (auto same_site = lookup(extra, "cookie_same_site")) {
    std::string lower = toLower(trim(*same_site));
    if (lower != "" && lower != "strict" && lower != "lax" && lower != "none") {
      ctx_.error("cookie_same_site", quote(*same_site) + " is not one of strict, lax, none");
    } else {
      cookie.same_site = lower;
    }
  }
  if (auto secure = lookup(extra, "cookie_secure"); secure && *secure == "false") {
    ctx_.warn("cookie_secure", "ignored: session cookies are always Secure");
  }
  if (auto url = lookup(extra, "signout_redirect_url"); url && !url->empty()) {
    auto parsed = parseUrl(*url);
    if (!parsed.ok() || (parsed->scheme != "https" && parsed->scheme != "http")) {
      ctx_.error("signout_redirect_url", "must be an https:// URL");
    } else {
      auth.signout_redirect_url = *url;
    }
  }
  if (auto domains = lookup(extra, "programmatic_redirect_domain_whitelist")) {
    auth.programmatic_redirect_domains.clear();
    for (auto& d : splitCommaList(*domains))
      auth.programmatic_redirect_domains.push_back(toLower(d));
  }
  auto ca_file = lookup(extra, "certificate_authority_file");
  if (ca_file && !ca_file->empty()) {
    if (auto text = ctx_.readFile("certificate_authority_file", *ca_file)) {
      auth.certificate_authority_pem = std::move(*text);
    }
  } else if (auto ca = lookup(extra, "certificate_authority"); ca && !ca->empty()) {
    if (auto pem = pemText(ctx_, "certificate_authority", *ca)) {
      auth.certificate_authority_pem = std::move(*pem);
    }
  }

  // The identity statement.
  auto key_file = lookup(extra, "signing_key_file");
  if (key_file && !key_file->empty()) {
    if (auto text = ctx_.readFile("signing_key_file", *key_file)) {
      identity.signing_key_pem = std::move(*text);
    }
  } else if (auto key = lookup(extra, "signing_key"); key && !key->empty()) {
    // Pomerium takes base64 of PEM here; PEM itself is accepted too.
    std::string_view trimmed = trim(*key);
    if (startsWith(trimmed, "-----BEGIN")) {
      identity.signing_key_pem = std::string(trimmed);
    } else if (auto decoded = base64Decode(trimmed)) {
      identity.signing_key_pem = std::move(*decoded);
    } else {
      ctx_.error("signing_key", "must be PEM or base64 of PEM");
    }
  }
  if (auto headers = lookup(extra, "jwt_claims_headers")) {
    identity.jwt_claims_headers = parseClaimHeaders(ctx_, *headers);
  }
  if (auto format = lookup(extra, "jwt_issuer_format")) {
    std::string lower = toLower(trim(*format));
    if (lower != "" && lower != "hostonly" && lower != "uri" && lower != "issuerhostonly" &&
        lower != "issueruri") {
      ctx_.error("jwt_issuer_format", quote(*format) + " is not one of hostOnly, uri");
    } else {
      identity.jwt_issuer_format = lower == "issuerhostonly" ? "hostonly"
                                   : lower == "issueruri"    ? "uri"
                                                             : lower;
    }
  }
  if (auto filter = lookup(extra, "jwt_groups_filter")) {
    identity.jwt_groups_filter = splitCommaList(*filter);
  }
  if (auto pass = lookup(extra, "pass_identity_headers")) {
    identity.pass_identity_headers = *pass == "true";
  }

  // Per-route sign-in settings.
  for (Route& route : options_.routes) {
    if (auto id = lookup(route.extra, "idp_client_id")) route.idp_client_id = *id;
    if (auto secret = lookup(route.extra, "idp_client_secret")) route.idp_client_secret = *secret;
    if (auto hosts = lookup(route.extra, "depends_on")) route.depends_on = splitCommaList(*hosts);
  }
}

}  // namespace gatehouse::config

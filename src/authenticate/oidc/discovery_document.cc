#include "authenticate/oidc/discovery_document.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "authenticate/oidc/http_url.h"
#include "authenticate/oidc/json_document.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr size_t kMaxDocumentBytes = size_t{256} * 1024;
constexpr size_t kMaxListEntries = 256;

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string_view withoutTrailingSlash(std::string_view s) {
  if (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

// An endpoint member: absent (when optional) or an absolute URL the fetcher
// can use.
Result<std::string> endpoint(const nlohmann::json& document, const char* name, bool required,
                             bool require_https) {
  auto it = document.find(name);
  if (it == document.end()) {
    if (required) return protocolError(std::string("discovery: \"") + name + "\" is missing");
    return std::string();
  }
  if (!it->is_string()) {
    return protocolError(std::string("discovery: \"") + name + "\" is not a string");
  }
  const std::string& value = it->get_ref<const std::string&>();
  auto url = parseHttpUrl(value);
  if (!url || value.find('#') != std::string::npos) {
    return protocolError(std::string("discovery: \"") + name + "\" is not an absolute URL");
  }
  if (require_https && url->scheme != "https") {
    return protocolError(std::string("discovery: \"") + name +
                         "\" is not https while the issuer is");
  }
  return value;
}

Result<std::vector<std::string>> stringList(const nlohmann::json& document, const char* name) {
  std::vector<std::string> out;
  auto it = document.find(name);
  if (it == document.end()) return out;
  if (!it->is_array() || it->size() > kMaxListEntries) {
    return protocolError(std::string("discovery: \"") + name + "\" is not a list of strings");
  }
  for (const auto& entry : *it) {
    if (!entry.is_string()) {
      return protocolError(std::string("discovery: \"") + name + "\" is not a list of strings");
    }
    out.push_back(entry.get<std::string>());
  }
  return out;
}

}  // namespace

bool DiscoveryDocument::supportsPkceS256() const {
  return contains(code_challenge_methods_supported, "S256");
}

bool DiscoveryDocument::useClientSecretPost() const {
  return !token_endpoint_auth_methods_supported.empty() &&
         !contains(token_endpoint_auth_methods_supported, "client_secret_basic") &&
         contains(token_endpoint_auth_methods_supported, "client_secret_post");
}

Result<DiscoveryDocument> parseDiscoveryDocument(std::string_view body) {
  auto document = parseJsonObject(body, "discovery", kMaxDocumentBytes);
  if (!document) return document.error();

  DiscoveryDocument out;
  auto issuer = endpoint(*document, "issuer", true, false);
  if (!issuer) return issuer.error();
  out.issuer = std::move(*issuer);
  if (out.issuer.find('?') != std::string::npos) {
    return protocolError("discovery: \"issuer\" has a query");
  }
  const bool https = out.issuer.rfind("https:", 0) == 0;

  struct Member {
    const char* name;
    bool required;
    std::string* target;
  };
  const Member members[] = {
      {"authorization_endpoint", true, &out.authorization_endpoint},
      {"token_endpoint", true, &out.token_endpoint},
      {"jwks_uri", false, &out.jwks_uri},
      {"userinfo_endpoint", false, &out.userinfo_endpoint},
      {"revocation_endpoint", false, &out.revocation_endpoint},
      {"end_session_endpoint", false, &out.end_session_endpoint},
  };
  for (const Member& member : members) {
    auto value = endpoint(*document, member.name, member.required, https);
    if (!value) return value.error();
    *member.target = std::move(*value);
  }

  struct List {
    const char* name;
    std::vector<std::string>* target;
  };
  const List lists[] = {
      {"code_challenge_methods_supported", &out.code_challenge_methods_supported},
      {"id_token_signing_alg_values_supported", &out.id_token_signing_alg_values_supported},
      {"token_endpoint_auth_methods_supported", &out.token_endpoint_auth_methods_supported},
  };
  for (const List& list : lists) {
    auto value = stringList(*document, list.name);
    if (!value) return value.error();
    *list.target = std::move(*value);
  }
  return out;
}

bool issuerMatches(std::string_view configured, std::string_view discovered) {
  return configured == discovered ||
         withoutTrailingSlash(configured) == withoutTrailingSlash(discovered);
}

std::string discoveryUrl(std::string_view issuer) {
  return std::string(withoutTrailingSlash(issuer)) + "/.well-known/openid-configuration";
}

}  // namespace gatehouse::authenticate::oidc

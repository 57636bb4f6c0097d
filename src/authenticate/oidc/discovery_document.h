#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gatehouse::authenticate::oidc {

// The members of an OpenID Provider's metadata (OpenID Connect Discovery
// 1.0 section 3) that Gatehouse uses.
struct DiscoveryDocument {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;              // empty when absent
  std::string userinfo_endpoint;     // empty when absent
  std::string revocation_endpoint;   // RFC 7009; empty when absent
  std::string end_session_endpoint;  // RP-initiated logout; empty when absent
  std::vector<std::string> code_challenge_methods_supported;
  std::vector<std::string> id_token_signing_alg_values_supported;
  std::vector<std::string> token_endpoint_auth_methods_supported;

  bool supportsPkceS256() const;
  // client_secret_basic unless the IdP lists methods without it and with
  // client_secret_post (RFC 8414: an absent list means basic).
  bool useClientSecretPost() const;
};

// Parses the body of <issuer>/.well-known/openid-configuration strictly:
// a JSON object; "issuer", "authorization_endpoint" and "token_endpoint"
// required; every endpoint that is present an absolute http(s) URL without
// a fragment, and https whenever the issuer is https (a loopback test IdP
// may be all http); the lists arrays of strings. Members Gatehouse does
// not use are ignored. Malformed input is kProtocol. The issuer is not
// compared with the configured one here (see issuerMatches).
Result<DiscoveryDocument> parseDiscoveryDocument(std::string_view body);

// Whether a discovered issuer is the configured one: equal, or equal but
// for one trailing "/" on either side (idp_provider_url is often written
// with or without it; the ID token's "iss" is then compared with the
// discovered value exactly).
bool issuerMatches(std::string_view configured, std::string_view discovered);

// <issuer>/.well-known/openid-configuration, without doubling a "/".
std::string discoveryUrl(std::string_view issuer);

}  // namespace gatehouse::authenticate::oidc

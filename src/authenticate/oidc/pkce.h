#pragma once

#include <string>
#include <string_view>

namespace gatehouse::authenticate::oidc {

// A PKCE code verifier (RFC 7636 section 4.1): 32 random bytes as 43
// base64url characters.
std::string makePkceVerifier();

// The S256 code challenge for `verifier`: base64url(SHA-256(verifier)).
std::string pkceChallengeS256(std::string_view verifier);

}  // namespace gatehouse::authenticate::oidc

#include "authenticate/oidc/pkce.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "common/base64.h"
#include "crypto/random.h"

namespace gatehouse::authenticate::oidc {

std::string makePkceVerifier() { return base64UrlEncode(crypto::randomBytes(32)); }

std::string pkceChallengeS256(std::string_view verifier) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    std::abort();  // No SHA-256 means no working crypto at all.
  }
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace gatehouse::authenticate::oidc

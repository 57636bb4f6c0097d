#include "crypto/hmac.h"

#include <openssl/crypto.h>

#include <cstdlib>

#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

using detail::bytesOf;

// Fetched once per process: an EVP_MAC is immutable and safe to share
// between threads, and fetching it costs a lookup in the provider store.
EVP_MAC* hmacAlgorithm() {
  static EVP_MAC* const kMac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return kMac;
}

const char* digestName(HmacHash hash) {
  switch (hash) {
    case HmacHash::kSha256:
      return "SHA2-256";
    case HmacHash::kSha512_256:
      return "SHA2-512/256";
  }
  return "SHA2-256";
}

}  // namespace

std::string hmac(HmacHash hash, std::string_view key, std::string_view data) {
  EVP_MAC* algorithm = hmacAlgorithm();
  if (algorithm == nullptr) std::abort();
  detail::MacCtxPtr ctx(EVP_MAC_CTX_new(algorithm));
  if (!ctx) std::abort();
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digestName(hash)),
                                       0),
      OSSL_PARAM_construct_end(),
  };
  // A non-null pointer even for an empty key: OpenSSL treats a null key as
  // "no key set" rather than as the empty key.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : bytesOf(key);
  std::string out(EVP_MAX_MD_SIZE, '\0');
  size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), bytesOf(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), bytesOf(out), &out_len, out.size()) != 1) {
    std::abort();
  }
  out.resize(out_len);
  return out;
}

bool verifyHmac(HmacHash hash, std::string_view key, std::string_view data, std::string_view mac) {
  return constantTimeEquals(hmac(hash, key, data), mac);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace gatehouse::crypto

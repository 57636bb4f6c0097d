#include "crypto/hkdf.h"

#include <openssl/kdf.h>

#include "crypto/openssl_util.h"

namespace gatehouse::crypto {

Result<std::string> hkdfSha256(std::string_view secret, std::string_view salt,
                               std::string_view info, size_t length) {
  constexpr size_t kMaxLength = size_t{255} * 32;
  if (length == 0 || length > kMaxLength) {
    return Error::invalid("HKDF-SHA256: output length " + std::to_string(length) +
                          " is not between 1 and 8160");
  }
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return detail::opensslFailure("HKDF-SHA256: HKDF unavailable");
  detail::KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  EVP_KDF_free(kdf);
  if (!ctx) return detail::opensslFailure("HKDF-SHA256: context allocation");

  // OSSL_PARAM takes non-const pointers but only reads through them.
  auto octets = [](const char* name, std::string_view value) {
    return OSSL_PARAM_construct_octet_string(name, const_cast<char*>(value.data()), value.size());
  };
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA2-256"), 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, secret);
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  if (!info.empty()) params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();

  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), detail::bytesOf(out), out.size(), params) != 1) {
    return detail::opensslFailure("HKDF-SHA256: derive");
  }
  return out;
}

}  // namespace gatehouse::crypto

#pragma once

// Helpers shared by the crypto sources: owning pointers for OpenSSL objects,
// the error values the crypto layer returns, and the strict base64url codec
// that JOSE requires. Not part of the component's public interface.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

inline const unsigned char* bytesOf(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
inline unsigned char* bytesOf(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Empties OpenSSL's per-thread error queue, so that a failure on untrusted
// input leaves nothing behind for an unrelated later caller to trip over.
inline void clearOpensslErrors() { ERR_clear_error(); }

// Input that failed a cryptographic check (bad tag, bad signature, expired):
// the caller's credentials are wrong, which is the peer's doing.
inline Error rejected(std::string message) {
  clearOpensslErrors();
  return {ErrorCode::kUnauthenticated, ErrorSource::kDownstream, std::move(message), false};
}

// Input that is not even well-formed (bad base64, bad JSON, wrong sizes).
inline Error malformed(std::string message) {
  clearOpensslErrors();
  return {ErrorCode::kInvalidArgument, ErrorSource::kDownstream, std::move(message), false};
}

// OpenSSL failed where it should not (allocation, missing provider).
inline Error opensslFailure(std::string_view what) {
  std::string message(what);
  if (unsigned long code = ERR_peek_last_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    message += ": ";
    message += buf;
  }
  clearOpensslErrors();
  return Error::internal(std::move(message));
}

// base64url without padding, as JOSE requires (RFC 7515 section 2). Strict:
// no '=', no '+' or '/', no whitespace, and the unused low bits of the last
// character must be zero, so that every byte string has exactly one
// encoding and a token cannot be altered without changing its bytes.
std::optional<std::string> base64UrlDecodeStrict(std::string_view text);

// Lower-case hexadecimal.
std::string hexEncode(std::string_view data);

}  // namespace gatehouse::crypto::detail

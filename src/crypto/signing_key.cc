#include "crypto/signing_key.h"

#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>

#include "common/base64.h"
#include "crypto/hkdf.h"
#include "crypto/jws.h"
#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

using detail::bytesOf;

constexpr size_t kMaxSigningKeyBytes = size_t{1024} * 1024;
constexpr std::string_view kDerivationInfo = "derived-jwt-signing-key";
// Go 1.19's ecdsa.GenerateKey read BitLen/8 + 8 bytes: 40 for P-256.
constexpr size_t kDerivationBytes = 256 / 8 + 8;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// BIGNUMs holding private scalars are wiped when freed.
using SecretBnPtr = std::unique_ptr<BIGNUM, detail::Deleter<BIGNUM, BN_clear_free>>;

struct PemBlock {
  std::string name;
  std::string header;
  std::string der;
};

// Every PEM block in `text`, in order.
Result<std::vector<PemBlock>> pemBlocks(std::string_view text) {
  detail::BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return detail::opensslFailure("signing_key: buffer");
  std::vector<PemBlock> blocks;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    blocks.push_back(
        {name, header, std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len))});
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, static_cast<size_t>(len));
  }
  // The loop ends at the first text that is not a PEM block, which is the
  // end of the input when all is well.
  detail::clearOpensslErrors();
  return blocks;
}

Result<Jwk> keyFromBlock(const PemBlock& block, size_t index) {
  const std::string where =
      "signing_key: PEM block " + std::to_string(index + 1) + " (" + block.name + ")";
  if (!block.header.empty() || block.name == "ENCRYPTED PRIVATE KEY") {
    return Error::invalid(where + " is encrypted");
  }
  const unsigned char* p = bytesOf(block.der);
  // d2i_AutoPrivateKey reads PKCS#8 and the traditional SEC 1 and PKCS#1
  // forms, whatever the block's label says, as Go's x509 parsers that
  // Pomerium tries in turn do.
  detail::PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(block.der.size())));
  if (!key || p != bytesOf(block.der) + block.der.size()) {
    detail::clearOpensslErrors();
    return Error::invalid(where + " is not a private key");
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519")) {
    return Error::invalid(where + ": Ed25519 keys cannot sign identity JWTs; use EC P-256 or RSA");
  }
  auto jwk = Jwk::fromOpensslKey(key.get());
  if (!jwk) return Error::invalid(where + ": " + jwk.error().message);
  return jwk;
}

}  // namespace

Result<SigningKey> SigningKey::fromPem(std::string_view text) {
  if (text.size() > kMaxSigningKeyBytes) return Error::invalid("signing_key: larger than 1 MiB");
  std::string_view trimmed = trim(text);
  std::string decoded;
  if (trimmed.find("-----BEGIN") == std::string_view::npos) {
    // Base64 of PEM; Go's decoder skips line breaks, so this does too.
    std::string compact;
    for (char c : trimmed) {
      if (c != '\r' && c != '\n') compact += c;
    }
    auto bytes = base64Decode(compact);
    if (!bytes) return Error::invalid("signing_key: neither PEM nor base64 of PEM");
    decoded = std::move(*bytes);
    trimmed = decoded;
  }
  auto blocks = pemBlocks(trimmed);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  if (!blocks) return blocks.error();
  std::vector<Jwk> keys;
  Result<void> outcome;
  for (size_t i = 0; i < blocks->size() && outcome.ok(); ++i) {
    const PemBlock& block = (*blocks)[i];
    if (block.name == "EC PARAMETERS") continue;
    auto key = keyFromBlock(block, i);
    if (key) {
      keys.push_back(std::move(*key));
    } else {
      outcome = key.error();
    }
  }
  // The DER copies hold private keys: wipe them whatever happened.
  for (PemBlock& block : *blocks) OPENSSL_cleanse(block.der.data(), block.der.size());
  if (!outcome) return outcome.error();
  if (keys.empty()) return Error::invalid("signing_key: no private key in the PEM text");
  return SigningKey(std::move(keys));
}

Result<SigningKey> SigningKey::deriveFromSharedSecret(std::string_view shared_secret) {
  if (shared_secret.empty()) return Error::invalid("shared_secret is empty");
  auto stream = hkdfSha256(shared_secret, "", kDerivationInfo, kDerivationBytes);
  if (!stream) return stream.error();

  detail::EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  detail::BnCtxPtr ctx(BN_CTX_secure_new());
  SecretBnPtr c(BN_bin2bn(bytesOf(*stream), static_cast<int>(stream->size()), nullptr));
  SecretBnPtr d(BN_secure_new());
  detail::BnPtr n_minus_1(BN_new());
  OPENSSL_cleanse(stream->data(), stream->size());
  if (!group || !ctx || !c || !d || !n_minus_1) return detail::opensslFailure("derive signing key");
  // d = c mod (n - 1) + 1, which is in [1, n - 1].
  if (!BN_copy(n_minus_1.get(), EC_GROUP_get0_order(group.get())) ||
      !BN_sub_word(n_minus_1.get(), 1) || !BN_mod(d.get(), c.get(), n_minus_1.get(), ctx.get()) ||
      !BN_add_word(d.get(), 1)) {
    return detail::opensslFailure("derive signing key: scalar");
  }
  // The public point d * G, uncompressed.
  detail::EcPointPtr point(EC_POINT_new(group.get()));
  std::string public_key(65, '\0');
  if (!point || EC_POINT_mul(group.get(), point.get(), d.get(), nullptr, nullptr, ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                         bytesOf(public_key), public_key.size(), ctx.get()) != public_key.size()) {
    return detail::opensslFailure("derive signing key: public point");
  }
  detail::ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, public_key.data(),
                                       public_key.size()) != 1) {
    return detail::opensslFailure("derive signing key: parameters");
  }
  // `d` lives in secure memory, so the builder copies it into the secure
  // part of the parameters, which OSSL_PARAM_free wipes.
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  detail::PkeyCtxPtr key_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !key_ctx || EVP_PKEY_fromdata_init(key_ctx.get()) != 1 ||
      EVP_PKEY_fromdata(key_ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return detail::opensslFailure("derive signing key: key");
  }
  detail::PkeyPtr key(raw);
  auto jwk = Jwk::fromOpensslKey(key.get());
  if (!jwk) return jwk.error();
  return SigningKey({std::move(*jwk)});
}

std::string SigningKey::jwksJson() const { return Jwks(keys_).toJson(); }

Result<std::string> SigningKey::sign(std::string_view claims_json) const {
  return Jws::sign(current(), claims_json);
}

}  // namespace gatehouse::crypto

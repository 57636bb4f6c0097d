#include "crypto/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "crypto/hmac.h"
#include "crypto/openssl_util.h"
#include "crypto/strict_json.h"

namespace gatehouse::crypto {
namespace {

using detail::bytesOf;
using detail::malformed;
using detail::rejected;

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, detail::Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

constexpr size_t kP256CoordinateBytes = 32;

// ES256 signatures are r || s, 32 bytes each (RFC 7518 section 3.4);
// OpenSSL speaks DER.
std::optional<std::string> rawToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytesOf(raw), kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytesOf(raw) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> derToRaw(std::string_view der) {
  const unsigned char* p = bytesOf(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * kP256CoordinateBytes, '\0');
  if (BN_bn2binpad(r, bytesOf(out), kP256CoordinateBytes) < 0 ||
      BN_bn2binpad(s, bytesOf(out) + kP256CoordinateBytes, kP256CoordinateBytes) < 0) {
    return std::nullopt;
  }
  return out;
}

// Sets up a one-shot EVP_DigestSign or EVP_DigestVerify for an asymmetric
// algorithm.
bool initDigest(EVP_MD_CTX* ctx, EVP_PKEY* key, JwsAlgorithm algorithm, bool for_signing) {
  const char* digest = algorithm == JwsAlgorithm::kEdDsa ? nullptr : "SHA256";
  EVP_PKEY_CTX* pctx = nullptr;
  const int ok = for_signing
                     ? EVP_DigestSignInit_ex(ctx, &pctx, digest, nullptr, nullptr, key, nullptr)
                     : EVP_DigestVerifyInit_ex(ctx, &pctx, digest, nullptr, nullptr, key, nullptr);
  if (ok != 1) return false;
  if (algorithm == JwsAlgorithm::kPs256) {
    // RFC 7518 section 3.5: MGF1 with SHA-256 and a salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", nullptr) != 1) {
      return false;
    }
  } else if (algorithm == JwsAlgorithm::kRs256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return true;
}

bool verifySignature(const Jwk& key, JwsAlgorithm algorithm, std::string_view input,
                     std::string_view signature) {
  if (algorithm == JwsAlgorithm::kHs256) {
    return verifyHmac(HmacHash::kSha256, key.secret(), input, signature);
  }
  std::string der;
  if (algorithm == JwsAlgorithm::kEs256) {
    auto converted = rawToDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  } else if (algorithm == JwsAlgorithm::kEdDsa && signature.size() != 64) {
    return false;
  }
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !initDigest(ctx.get(), key.opensslKey(), algorithm, false)) return false;
  return EVP_DigestVerify(ctx.get(), bytesOf(signature), signature.size(), bytesOf(input),
                          input.size()) == 1;
}

Result<std::string> makeSignature(const Jwk& key, JwsAlgorithm algorithm, std::string_view input) {
  if (algorithm == JwsAlgorithm::kHs256) return hmac(HmacHash::kSha256, key.secret(), input);
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !initDigest(ctx.get(), key.opensslKey(), algorithm, true)) {
    return detail::opensslFailure("JWS: sign init");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, bytesOf(input), input.size()) != 1) {
    return detail::opensslFailure("JWS: sign");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), bytesOf(signature), &len, bytesOf(input), input.size()) != 1) {
    return detail::opensslFailure("JWS: sign");
  }
  signature.resize(len);
  if (algorithm == JwsAlgorithm::kEs256) {
    auto raw = derToRaw(signature);
    if (!raw) return detail::opensslFailure("JWS: ECDSA signature");
    return std::move(*raw);
  }
  return signature;
}

Result<std::string> optionalString(const nlohmann::json& header, const char* name) {
  auto it = header.find(name);
  if (it == header.end()) return std::string();
  if (!it->is_string())
    return malformed(std::string("JWS: header \"") + name + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace

Result<Jws> Jws::parse(std::string_view compact, const JwsLimits& limits) {
  if (compact.size() > limits.max_token_bytes) return malformed("JWS: token too large");
  const size_t first = compact.find('.');
  const size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return malformed("JWS: not three dot-separated parts");
  }
  const std::string_view header_text = compact.substr(0, first);
  const std::string_view payload_text = compact.substr(first + 1, second - first - 1);
  const std::string_view signature_text = compact.substr(second + 1);
  if (header_text.empty() || signature_text.empty())
    return malformed("JWS: empty header or signature");
  if (header_text.size() > (limits.max_header_bytes + 2) / 3 * 4) {
    return malformed("JWS: header too large");
  }

  auto header_json = detail::base64UrlDecodeStrict(header_text);
  auto payload = detail::base64UrlDecodeStrict(payload_text);
  auto signature = detail::base64UrlDecodeStrict(signature_text);
  if (!header_json || !payload || !signature) return malformed("JWS: a part is not base64url");

  auto header = detail::parseStrictJson(*header_json, limits.max_json_depth);
  if (!header) return header.error();
  if (!header->is_object()) return malformed("JWS: header is not a JSON object");

  Jws jws;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return malformed("JWS: header has no \"alg\"");
  const std::string& alg_name = alg->get_ref<const std::string&>();
  auto algorithm = parseJwsAlgorithm(alg_name);
  if (!algorithm) {
    // "none" is the classic forgery; anything else is simply unsupported.
    return rejected("JWS: algorithm \"" + alg_name.substr(0, 32) + "\" is not accepted");
  }
  jws.header_.algorithm = *algorithm;
  if (header->contains("crit"))
    return rejected("JWS: critical header extensions are not supported");
  if (header->contains("b64")) return rejected("JWS: unencoded payloads are not supported");
  if (header->contains("enc") || header->contains("zip")) return malformed("JWS: a JWE header");
  auto kid = optionalString(*header, "kid");
  auto typ = optionalString(*header, "typ");
  auto cty = optionalString(*header, "cty");
  if (!kid) return kid.error();
  if (!typ) return typ.error();
  if (!cty) return cty.error();
  jws.header_.key_id = std::move(*kid);
  jws.header_.type = std::move(*typ);
  jws.header_.content_type = std::move(*cty);

  jws.signing_input_ = std::string(compact.substr(0, second));
  jws.payload_ = std::move(*payload);
  jws.signature_ = std::move(*signature);
  return jws;
}

Result<void> Jws::verify(const Jwk& key) const {
  if (!key.allows(header_.algorithm)) {
    return rejected("JWS: key does not allow " + std::string(jwsAlgorithmName(header_.algorithm)));
  }
  if (!verifySignature(key, header_.algorithm, signing_input_, signature_)) {
    return rejected("JWS: signature does not verify");
  }
  detail::clearOpensslErrors();
  return {};
}

Result<void> Jws::verify(const Jwks& keys) const {
  const auto candidates = keys.find(header_.key_id, header_.algorithm);
  if (candidates.empty()) {
    std::string message = "JWS: no key for " + std::string(jwsAlgorithmName(header_.algorithm));
    if (!header_.key_id.empty())
      message += " named " + detail::jsonQuote(header_.key_id.substr(0, 64));
    return Error{ErrorCode::kNotFound, ErrorSource::kDownstream, std::move(message), false};
  }
  for (const Jwk* key : candidates) {
    if (verifySignature(*key, header_.algorithm, signing_input_, signature_)) {
      detail::clearOpensslErrors();
      return {};
    }
  }
  return rejected("JWS: signature does not verify");
}

Result<std::string> Jws::sign(const Jwk& key, std::string_view payload,
                              const JwsSignOptions& options) {
  const JwsAlgorithm algorithm = options.algorithm.value_or(key.defaultAlgorithm());
  if (!key.allows(algorithm)) {
    return Error::invalid("JWS: key does not allow " + std::string(jwsAlgorithmName(algorithm)));
  }
  if (!key.isPrivate()) return Error::invalid("JWS: signing needs a private key");
  std::string header = R"({"alg":")" + std::string(jwsAlgorithmName(algorithm)) + "\"";
  if (options.include_key_id && !key.keyId().empty()) {
    header += ",\"kid\":" + detail::jsonQuote(key.keyId());
  }
  if (!options.type.empty()) header += ",\"typ\":" + detail::jsonQuote(options.type);
  header += '}';
  std::string token = base64UrlEncode(header) + "." + base64UrlEncode(payload);
  auto signature = makeSignature(key, algorithm, token);
  if (!signature) return signature.error();
  token += '.';
  token += base64UrlEncode(*signature);
  return token;
}

}  // namespace gatehouse::crypto

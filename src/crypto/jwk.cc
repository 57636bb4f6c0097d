#include "crypto/jwk.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/base64.h"
#include "crypto/openssl_util.h"
#include "crypto/strict_json.h"

namespace gatehouse::crypto {

struct Jwk::Material {
  Type type = Type::kOct;
  detail::PkeyPtr key;  // null for kOct
  std::string secret;   // kOct only
  bool is_private = false;
  std::string key_id;
  std::optional<JwsAlgorithm> declared_algorithm;
  // The public members, base64url: "crv" is plain text.
  std::string crv, x, y, n, e;

  Material() = default;
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;
  ~Material() { OPENSSL_cleanse(secret.data(), secret.size()); }
};

namespace {

using detail::bytesOf;
using detail::malformed;
using Material = Jwk::Material;

constexpr size_t kMaxJwkBytes = size_t{16} * 1024;
constexpr int kMaxJwkDepth = 8;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr size_t kMinSecretBytes = 32;

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), bytesOf(out), &len, EVP_sha256(), nullptr) != 1) {
    std::abort();  // No SHA-256 means no working crypto at all.
  }
  return out;
}

std::string bignumBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, bytesOf(out));
  return out;
}

std::optional<std::string> bignumBytesPadded(const BIGNUM* bn, size_t size) {
  std::string out(size, '\0');
  if (BN_bn2binpad(bn, bytesOf(out), static_cast<int>(size)) < 0) return std::nullopt;
  return out;
}

detail::BnPtr getBignum(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return nullptr;
  return detail::BnPtr(bn);
}

// Fills the public members and private flag from an OpenSSL key, and checks
// that it is a kind of key Gatehouse uses.
Result<void> describeKey(Material& m) {
  EVP_PKEY* key = m.key.get();
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_len) != 1 ||
        std::string_view(group, group_len) != "prime256v1") {
      return Error::invalid("key: only the P-256 curve is supported for EC keys");
    }
    detail::BnPtr x = getBignum(key, OSSL_PKEY_PARAM_EC_PUB_X);
    detail::BnPtr y = getBignum(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) return detail::opensslFailure("key: EC public point");
    auto x_bytes = bignumBytesPadded(x.get(), 32);
    auto y_bytes = bignumBytesPadded(y.get(), 32);
    if (!x_bytes || !y_bytes) return Error::invalid("key: EC coordinates out of range");
    m.type = Jwk::Type::kEc;
    m.crv = "P-256";
    m.x = base64UrlEncode(*x_bytes);
    m.y = base64UrlEncode(*y_bytes);
    m.is_private = getBignum(key, OSSL_PKEY_PARAM_PRIV_KEY) != nullptr;
  } else if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Error::invalid("key: RSA keys must have 2048 to 8192 bits, not " +
                            std::to_string(bits));
    }
    detail::BnPtr n = getBignum(key, OSSL_PKEY_PARAM_RSA_N);
    detail::BnPtr e = getBignum(key, OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) return detail::opensslFailure("key: RSA public members");
    m.type = Jwk::Type::kRsa;
    m.n = base64UrlEncode(bignumBytes(n.get()));
    m.e = base64UrlEncode(bignumBytes(e.get()));
    m.is_private = getBignum(key, OSSL_PKEY_PARAM_RSA_D) != nullptr;
  } else if (EVP_PKEY_is_a(key, "ED25519")) {
    std::string x(32, '\0');
    size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(key, bytesOf(x), &len) != 1 || len != 32) {
      return detail::opensslFailure("key: Ed25519 public key");
    }
    m.type = Jwk::Type::kOkp;
    m.crv = "Ed25519";
    m.x = base64UrlEncode(x);
    size_t private_len = 0;
    m.is_private = EVP_PKEY_get_raw_private_key(key, nullptr, &private_len) == 1 && private_len > 0;
  } else {
    return Error::invalid("key: only EC P-256, RSA and Ed25519 keys are supported");
  }
  detail::clearOpensslErrors();
  return {};
}

bool algorithmFitsType(JwsAlgorithm algorithm, Jwk::Type type) {
  switch (algorithm) {
    case JwsAlgorithm::kHs256:
      return type == Jwk::Type::kOct;
    case JwsAlgorithm::kEs256:
      return type == Jwk::Type::kEc;
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kPs256:
      return type == Jwk::Type::kRsa;
    case JwsAlgorithm::kEdDsa:
      return type == Jwk::Type::kOkp;
  }
  return false;
}

JwsAlgorithm defaultAlgorithmFor(Jwk::Type type) {
  switch (type) {
    case Jwk::Type::kEc:
      return JwsAlgorithm::kEs256;
    case Jwk::Type::kRsa:
      return JwsAlgorithm::kRs256;
    case Jwk::Type::kOkp:
      return JwsAlgorithm::kEdDsa;
    case Jwk::Type::kOct:
      return JwsAlgorithm::kHs256;
  }
  return JwsAlgorithm::kHs256;
}

std::string thumbprintInput(const Material& m) {
  // RFC 7638 section 3.2: the required members only, in lexicographic order,
  // no whitespace. The values are base64url or fixed names, which JSON does
  // not escape.
  switch (m.type) {
    case Jwk::Type::kEc:
      return R"({"crv":")" + m.crv + R"(","kty":"EC","x":")" + m.x + R"(","y":")" + m.y + "\"}";
    case Jwk::Type::kRsa:
      return R"({"e":")" + m.e + R"(","kty":"RSA","n":")" + m.n + "\"}";
    case Jwk::Type::kOkp:
      return R"({"crv":")" + m.crv + R"(","kty":"OKP","x":")" + m.x + "\"}";
    case Jwk::Type::kOct:
      return R"({"k":")" + base64UrlEncode(m.secret) + R"(","kty":"oct"})";
  }
  return {};
}

// Builds the shared material around an OpenSSL key. Without a `key_id`, the
// key is named by its hex thumbprint; without an `algorithm`, it declares
// its default one when `declare_default` is set and none otherwise.
Result<std::shared_ptr<const Material>> materialFor(detail::PkeyPtr key,
                                                    std::optional<std::string> key_id,
                                                    std::optional<JwsAlgorithm> algorithm,
                                                    bool declare_default) {
  auto m = std::make_shared<Material>();
  m->key = std::move(key);
  if (auto described = describeKey(*m); !described) return described.error();
  if (algorithm && !algorithmFitsType(*algorithm, m->type)) {
    return Error::invalid("key: \"alg\" " + std::string(jwsAlgorithmName(*algorithm)) +
                          " does not fit the key type");
  }
  if (!algorithm && declare_default) algorithm = defaultAlgorithmFor(m->type);
  m->declared_algorithm = algorithm;
  m->key_id = key_id ? std::move(*key_id) : detail::hexEncode(sha256(thumbprintInput(*m)));
  return std::shared_ptr<const Material>(std::move(m));
}

// A string member: nullopt when absent, an error when not a string.
Result<std::optional<std::string>> stringMember(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::optional<std::string>();
  if (!it->is_string()) return malformed(std::string("JWK: \"") + name + "\" is not a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> base64Member(const nlohmann::json& object, const char* name) {
  auto text = stringMember(object, name);
  if (!text) return text.error();
  if (!text->has_value()) return malformed(std::string("JWK: \"") + name + "\" is missing");
  auto bytes = detail::base64UrlDecodeStrict(**text);
  if (!bytes) return malformed(std::string("JWK: \"") + name + "\" is not base64url");
  return std::move(*bytes);
}

Result<detail::PkeyPtr> fromParams(const char* type, OSSL_PARAM_BLD* builder) {
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return malformed(std::string("JWK: not a valid ") + type + " public key");
  }
  return detail::PkeyPtr(key);
}

Result<detail::PkeyPtr> ecPublicKey(const nlohmann::json& object) {
  auto crv = stringMember(object, "crv");
  if (!crv) return crv.error();
  if (*crv != std::optional<std::string>("P-256"))
    return Error::invalid("JWK: EC curve is not P-256");
  auto x = base64Member(object, "x");
  if (!x) return x.error();
  auto y = base64Member(object, "y");
  if (!y) return y.error();
  // RFC 7518 section 6.2.1.2: coordinates are always the full 32 bytes.
  if (x->size() != 32 || y->size() != 32)
    return malformed("JWK: P-256 coordinates must be 32 bytes");
  const std::string point = "\x04" + *x + *y;
  detail::ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return detail::opensslFailure("JWK: parameters");
  }
  auto key = fromParams("EC", builder.get());
  if (!key) return key;
  // Import already refuses points off the curve; checking again costs
  // little and does not depend on how the provider imports.
  detail::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return malformed("JWK: EC point is not on the P-256 curve");
  }
  return key;
}

Result<detail::PkeyPtr> rsaPublicKey(const nlohmann::json& object) {
  auto n = base64Member(object, "n");
  if (!n) return n.error();
  auto e = base64Member(object, "e");
  if (!e) return e.error();
  // The exponent: odd, more than 1, at most 64 bits (OpenSSL's own limit
  // for large moduli).
  const std::string_view exponent =
      std::string_view(*e).substr(std::min(e->find_first_not_of('\0'), e->size()));
  if (exponent.empty() || exponent.size() > 8 || (exponent.back() & 1) == 0 ||
      (exponent.size() == 1 && exponent[0] == 1)) {
    return malformed("JWK: RSA exponent is not valid");
  }
  detail::BnPtr n_bn(BN_bin2bn(bytesOf(*n), static_cast<int>(n->size()), nullptr));
  detail::BnPtr e_bn(BN_bin2bn(bytesOf(exponent), static_cast<int>(exponent.size()), nullptr));
  if (!n_bn || !e_bn) return detail::opensslFailure("JWK: RSA members");
  const int bits = BN_num_bits(n_bn.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Error::invalid("JWK: RSA keys must have 2048 to 8192 bits, not " + std::to_string(bits));
  }
  if (!BN_is_odd(n_bn.get())) return malformed("JWK: RSA modulus is even");
  detail::ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return detail::opensslFailure("JWK: parameters");
  }
  return fromParams("RSA", builder.get());
}

Result<detail::PkeyPtr> okpPublicKey(const nlohmann::json& object) {
  auto crv = stringMember(object, "crv");
  if (!crv) return crv.error();
  if (*crv != std::optional<std::string>("Ed25519")) {
    return Error::invalid("JWK: OKP curve is not Ed25519");
  }
  auto x = base64Member(object, "x");
  if (!x) return x.error();
  if (x->size() != 32) return malformed("JWK: Ed25519 public key must be 32 bytes");
  EVP_PKEY* key =
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bytesOf(*x), x->size());
  if (key == nullptr) return malformed("JWK: not a valid Ed25519 public key");
  return detail::PkeyPtr(key);
}

// No password, ever: an encrypted PEM key fails to load instead of
// prompting on the terminal.
int noPassword(char*, int, int, void*) { return -1; }

}  // namespace

std::string_view jwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kHs256:
      return "HS256";
    case JwsAlgorithm::kEs256:
      return "ES256";
    case JwsAlgorithm::kRs256:
      return "RS256";
    case JwsAlgorithm::kPs256:
      return "PS256";
    case JwsAlgorithm::kEdDsa:
      return "EdDSA";
  }
  return "";
}

std::optional<JwsAlgorithm> parseJwsAlgorithm(std::string_view name) {
  for (JwsAlgorithm algorithm : {JwsAlgorithm::kHs256, JwsAlgorithm::kEs256, JwsAlgorithm::kRs256,
                                 JwsAlgorithm::kPs256, JwsAlgorithm::kEdDsa}) {
    if (jwsAlgorithmName(algorithm) == name) return algorithm;
  }
  return std::nullopt;
}

Result<Jwk> Jwk::parse(std::string_view json) {
  if (json.size() > kMaxJwkBytes) return malformed("JWK: larger than 16 KiB");
  auto value = detail::parseStrictJson(json, kMaxJwkDepth);
  if (!value) return value.error();
  return fromJson(*value);
}

Result<Jwk> Jwk::fromJson(const nlohmann::json& value) {
  if (!value.is_object()) return malformed("JWK: not a JSON object");
  auto kty = stringMember(value, "kty");
  if (!kty) return kty.error();
  if (!kty->has_value()) return malformed("JWK: \"kty\" is missing");

  // A published key must never carry private material; an "oct" key is
  // nothing but private material.
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (value.contains(member)) {
      return Error::invalid(std::string("JWK: private member \"") + member + "\" refused");
    }
  }
  auto use = stringMember(value, "use");
  if (!use) return use.error();
  if (use->has_value() && **use != "sig") return Error::invalid("JWK: \"use\" is not \"sig\"");
  if (auto ops = value.find("key_ops"); ops != value.end()) {
    if (!ops->is_array() ||
        !std::any_of(ops->begin(), ops->end(), [](const auto& op) { return op == "verify"; })) {
      return Error::invalid("JWK: \"key_ops\" does not include \"verify\"");
    }
  }
  auto alg_name = stringMember(value, "alg");
  if (!alg_name) return alg_name.error();
  std::optional<JwsAlgorithm> algorithm;
  if (alg_name->has_value()) {
    algorithm = parseJwsAlgorithm(**alg_name);
    if (!algorithm) return Error::invalid("JWK: unsupported \"alg\" " + **alg_name);
  }
  auto kid = stringMember(value, "kid");
  if (!kid) return kid.error();

  Result<detail::PkeyPtr> key = Error::invalid("JWK: unsupported \"kty\" " + **kty);
  if (**kty == "EC") {
    key = ecPublicKey(value);
  } else if (**kty == "RSA") {
    key = rsaPublicKey(value);
  } else if (**kty == "OKP") {
    key = okpPublicKey(value);
  }
  if (!key) return key.error();
  // A JWK without "kid" keeps an empty id: the thumbprint is Gatehouse's
  // name for its own keys, not for an identity provider's.
  auto material = materialFor(std::move(*key), kid->value_or(""), algorithm, false);
  if (!material) return material.error();
  return Jwk(std::move(*material));
}

Result<Jwk> Jwk::fromSecret(std::string_view secret, std::string key_id) {
  if (secret.size() < kMinSecretBytes) {
    return Error::invalid("HS256 key must be at least 32 bytes, got " +
                          std::to_string(secret.size()));
  }
  auto m = std::make_shared<Material>();
  m->type = Type::kOct;
  m->secret = std::string(secret);
  m->is_private = true;
  m->key_id = std::move(key_id);
  m->declared_algorithm = JwsAlgorithm::kHs256;
  return Jwk(std::move(m));
}

Result<Jwk> Jwk::fromPem(std::string_view pem, std::string key_id,
                         std::optional<JwsAlgorithm> algorithm) {
  if (pem.size() > kMaxJwkBytes * 4) return Error::invalid("PEM key: larger than 64 KiB");
  detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return detail::opensslFailure("PEM key: buffer");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr);
  if (key == nullptr) {
    detail::BioPtr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (again) key = PEM_read_bio_PUBKEY(again.get(), nullptr, noPassword, nullptr);
  }
  if (key == nullptr) {
    detail::clearOpensslErrors();
    return Error::invalid("PEM key: no unencrypted private or public key found");
  }
  auto jwk = fromOpensslKey(key, std::move(key_id), algorithm);
  EVP_PKEY_free(key);
  return jwk;
}

Result<Jwk> Jwk::fromOpensslKey(EVP_PKEY* key, std::string key_id,
                                std::optional<JwsAlgorithm> algorithm) {
  if (key == nullptr || EVP_PKEY_up_ref(key) != 1) return Error::invalid("key: no key");
  detail::PkeyPtr owned(key);
  std::optional<std::string> id;
  if (!key_id.empty()) id = std::move(key_id);
  auto material = materialFor(std::move(owned), std::move(id), algorithm, true);
  if (!material) return material.error();
  return Jwk(std::move(*material));
}

Jwk::Type Jwk::type() const { return material_->type; }
bool Jwk::isPrivate() const { return material_->is_private; }
const std::string& Jwk::keyId() const { return material_->key_id; }
std::optional<JwsAlgorithm> Jwk::declaredAlgorithm() const { return material_->declared_algorithm; }

bool Jwk::allows(JwsAlgorithm algorithm) const {
  if (!algorithmFitsType(algorithm, material_->type)) return false;
  return !material_->declared_algorithm || *material_->declared_algorithm == algorithm;
}

JwsAlgorithm Jwk::defaultAlgorithm() const {
  return material_->declared_algorithm.value_or(defaultAlgorithmFor(material_->type));
}

std::string Jwk::thumbprint() const { return sha256(thumbprintInput(*material_)); }
std::string Jwk::thumbprintHex() const { return detail::hexEncode(thumbprint()); }

std::string Jwk::toPublicJson() const {
  const Material& m = *material_;
  if (m.type == Type::kOct) return {};
  auto quoted = [](std::string_view s) { return detail::jsonQuote(s); };
  std::string out = R"({"use":"sig","kty":)";
  out += m.type == Type::kEc ? R"("EC")" : m.type == Type::kRsa ? R"("RSA")" : R"("OKP")";
  if (!m.key_id.empty()) out += ",\"kid\":" + quoted(m.key_id);
  if (!m.crv.empty()) out += ",\"crv\":" + quoted(m.crv);
  if (m.declared_algorithm) out += ",\"alg\":" + quoted(jwsAlgorithmName(*m.declared_algorithm));
  if (m.type == Type::kRsa) {
    out += ",\"n\":" + quoted(m.n) + ",\"e\":" + quoted(m.e);
  } else {
    out += ",\"x\":" + quoted(m.x);
    if (!m.y.empty()) out += ",\"y\":" + quoted(m.y);
  }
  out += '}';
  return out;
}

EVP_PKEY* Jwk::opensslKey() const { return material_->key.get(); }
std::string_view Jwk::secret() const { return material_->secret; }

}  // namespace gatehouse::crypto

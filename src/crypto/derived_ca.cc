#include "crypto/derived_ca.h"

#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "crypto/hkdf.h"
#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

using detail::bytesOf;
using X509Ptr = std::unique_ptr<X509, detail::Deleter<X509, X509_free>>;
using NamePtr = std::unique_ptr<X509_NAME, detail::Deleter<X509_NAME, X509_NAME_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, detail::Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using Asn1OctetsPtr =
    std::unique_ptr<ASN1_OCTET_STRING, detail::Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
// BIGNUMs holding private scalars are wiped when freed.
using SecretBnPtr = std::unique_ptr<BIGNUM, detail::Deleter<BIGNUM, BN_clear_free>>;

// The first byte of each HKDF stream's input keying material (Pomerium's
// readerType values; 1 and 3 seed its signatures, which OpenSSL draws at
// random instead).
enum class Stream : unsigned char {
  kCaPrivateKey = 0,
  kServerPrivateKey = 2,
  kSerialNumber = 4,
};

// Go 1.19's ecdsa.GenerateKey read BitLen/8 + 8 bytes: 40 for P-256.
constexpr size_t kKeyStreamBytes = 256 / 8 + 8;
// Go's rand.Int(r, 2^128) reads 16 bytes and keeps them all.
constexpr size_t kSerialBytes = 16;
// Fixed, so that every process builds the same certificate (RFC 5280: UTC
// time before 2050, generalized time from then on, as Go encodes them).
constexpr const char* kNotBefore = "20221201000000Z";
constexpr const char* kNotAfter = "20501201000000Z";

// `length` bytes of the stream for `type`: HKDF-SHA256 with no salt and
// no info over type || secret || 0 [|| domain || 0].
Result<std::string> streamBytes(Stream type, std::string_view secret, const std::string* domain,
                                size_t length) {
  std::string ikm;
  ikm.reserve(secret.size() + (domain ? domain->size() : 0) + 3);
  ikm.push_back(static_cast<char>(type));
  ikm.append(secret);
  ikm.push_back('\0');
  if (domain) {
    ikm.append(*domain);
    ikm.push_back('\0');
  }
  auto bytes = hkdfSha256(ikm, "", "", length);
  OPENSSL_cleanse(ikm.data(), ikm.size());
  return bytes;
}

// The P-256 key whose scalar is d = c mod (n - 1) + 1, c the 40 bytes of
// `type`'s stream read as a big-endian integer.
Result<detail::PkeyPtr> deriveKey(Stream type, std::string_view secret, const std::string* domain) {
  auto stream = streamBytes(type, secret, domain, kKeyStreamBytes);
  if (!stream) return stream.error();
  detail::EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  detail::BnCtxPtr ctx(BN_CTX_secure_new());
  SecretBnPtr c(BN_bin2bn(bytesOf(*stream), static_cast<int>(stream->size()), nullptr));
  OPENSSL_cleanse(stream->data(), stream->size());
  SecretBnPtr d(BN_secure_new());
  detail::BnPtr order_minus_1(BN_new());
  if (!group || !ctx || !c || !d || !order_minus_1 ||
      !BN_copy(order_minus_1.get(), EC_GROUP_get0_order(group.get())) ||
      !BN_sub_word(order_minus_1.get(), 1) ||
      !BN_mod(d.get(), c.get(), order_minus_1.get(), ctx.get()) || !BN_add_word(d.get(), 1)) {
    return detail::opensslFailure("derived CA: private scalar");
  }
  detail::EcPointPtr point(EC_POINT_new(group.get()));
  std::string public_point(65, '\0');
  if (!point || EC_POINT_mul(group.get(), point.get(), d.get(), nullptr, nullptr, ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                         bytesOf(public_point), public_point.size(),
                         ctx.get()) != public_point.size()) {
    return detail::opensslFailure("derived CA: public point");
  }
  detail::ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, public_point.data(),
                                       public_point.size()) != 1) {
    return detail::opensslFailure("derived CA: key parameters");
  }
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  detail::PkeyCtxPtr key_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !key_ctx || EVP_PKEY_fromdata_init(key_ctx.get()) != 1 ||
      EVP_PKEY_fromdata(key_ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return detail::opensslFailure("derived CA: key");
  }
  return detail::PkeyPtr(raw);
}

NamePtr makeName(const char* common_name) {
  NamePtr name(X509_NAME_new());
  if (!name) return nullptr;
  auto add = [&](const char* field, const char* value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(value), -1, -1,
                                      0) == 1;
  };
  if (!add("O", "Pomerium")) return nullptr;
  if (common_name != nullptr && !add("CN", common_name)) return nullptr;
  return name;
}

// A version 3 certificate with the fixed validity, a serial from the
// serial stream, `subject`, `issuer` and `key`'s public half; no
// extensions and no signature yet.
Result<X509Ptr> newCertificate(std::string_view secret, const std::string* domain,
                               X509_NAME* subject, X509_NAME* issuer, EVP_PKEY* key) {
  auto serial = streamBytes(Stream::kSerialNumber, secret, domain, kSerialBytes);
  if (!serial) return serial.error();
  X509Ptr cert(X509_new());
  detail::BnPtr serial_bn(BN_bin2bn(bytesOf(*serial), static_cast<int>(serial->size()), nullptr));
  if (!cert || !serial_bn || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) ||
      ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), kNotBefore) != 1 ||
      ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), kNotAfter) != 1 ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return detail::opensslFailure("derived CA: certificate fields");
  }
  return cert;
}

// Adds the extension `nid` = `value` (OpenSSL's config syntax; only fixed
// strings reach here) with `issuer` as the issuing certificate.
bool addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// The subjectAltName with the one name `domain`: an IP address for an IP
// literal, else a DNS name. Built as a value, not through the config
// syntax, so that the domain cannot add names of its own.
bool addSubjectAltName(X509* cert, const std::string& domain) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (!names || name == nullptr) {
    GENERAL_NAME_free(name);
    return false;
  }
  if (Asn1OctetsPtr ip(a2i_IPADDRESS(domain.c_str())); ip) {
    GENERAL_NAME_set0_value(name, GEN_IPADD, ip.release());
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (dns == nullptr ||
        ASN1_STRING_set(dns, domain.data(), static_cast<int>(domain.size())) != 1) {
      ASN1_IA5STRING_free(dns);
      GENERAL_NAME_free(name);
      return false;
    }
    GENERAL_NAME_set0_value(name, GEN_DNS, dns);
  }
  if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
    GENERAL_NAME_free(name);
    return false;
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

// Letters, digits, '-', '.', '_' and a leading "*." wildcard label, an IP
// literal, or "*" (Pomerium's catch-all): anything else (spaces, NUL,
// commas) is not a name a client could check.
bool isCertificateName(const std::string& domain) {
  if (domain.empty() || domain.size() > 253) return false;
  if (domain == "*") return true;
  if (Asn1OctetsPtr ip(a2i_IPADDRESS(domain.c_str())); ip) return true;
  std::string_view rest = domain;
  if (rest.rfind("*.", 0) == 0) rest.remove_prefix(2);
  return !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

Result<std::string> toPem(X509* cert) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return detail::opensslFailure("derived CA: certificate PEM");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  detail::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return detail::opensslFailure("derived CA: key PEM");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace

struct DerivedCa::Keys {
  detail::PkeyPtr key;
  X509Ptr cert;
};

DerivedCa::DerivedCa(std::string secret, std::unique_ptr<Keys> keys, std::string cert_pem)
    : secret_(std::move(secret)), keys_(std::move(keys)), cert_pem_(std::move(cert_pem)) {}

DerivedCa::~DerivedCa() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

Result<std::unique_ptr<DerivedCa>> DerivedCa::create(std::string_view shared_secret) {
  if (shared_secret.empty()) return Error::invalid("derived CA: the shared secret is empty");
  auto key = deriveKey(Stream::kCaPrivateKey, shared_secret, nullptr);
  if (!key) return key.error();
  NamePtr name = makeName("Pomerium PSK CA");
  if (!name) return detail::opensslFailure("derived CA: name");
  auto cert = newCertificate(shared_secret, nullptr, name.get(), name.get(), key->get());
  if (!cert) return cert.error();
  X509* c = cert->get();
  if (!addExtension(c, c, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !addExtension(c, c, NID_ext_key_usage, "serverAuth,clientAuth") ||
      !addExtension(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
      !addExtension(c, c, NID_subject_key_identifier, "hash")) {
    return detail::opensslFailure("derived CA: extensions");
  }
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) {
    return detail::opensslFailure("derived CA: signature");
  }
  auto pem = toPem(c);
  if (!pem) return pem.error();
  auto keys = std::make_unique<Keys>(Keys{std::move(*key), std::move(*cert)});
  return std::unique_ptr<DerivedCa>(
      new DerivedCa(std::string(shared_secret), std::move(keys), std::move(*pem)));
}

Result<PemPair> DerivedCa::issueServerCertificate(std::string_view domain_in) const {
  std::string domain(domain_in);
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!isCertificateName(domain)) {
    return Error::invalid("\"" + std::string(domain_in) + "\" is not a DNS name or IP address");
  }
  auto key = deriveKey(Stream::kServerPrivateKey, secret_, &domain);
  if (!key) return key.error();
  NamePtr subject = makeName(nullptr);
  if (!subject) return detail::opensslFailure("derived CA: name");
  X509* ca = keys_->cert.get();
  auto cert =
      newCertificate(secret_, &domain, subject.get(), X509_get_subject_name(ca), key->get());
  if (!cert) return cert.error();
  X509* c = cert->get();
  if (!addExtension(c, ca, NID_key_usage, "critical,digitalSignature") ||
      !addExtension(c, ca, NID_ext_key_usage, "serverAuth") ||
      !addExtension(c, ca, NID_authority_key_identifier, "keyid:always") ||
      !addSubjectAltName(c, domain)) {
    return detail::opensslFailure("derived CA: server certificate extensions");
  }
  if (X509_sign(c, keys_->key.get(), EVP_sha256()) == 0) {
    return detail::opensslFailure("derived CA: server certificate signature");
  }
  auto cert_pem = toPem(c);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = privateKeyPem(key->get());
  if (!key_pem) return key_pem.error();
  return PemPair{std::move(*cert_pem), std::move(*key_pem)};
}

}  // namespace gatehouse::crypto

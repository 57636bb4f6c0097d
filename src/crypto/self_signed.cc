#include "crypto/self_signed.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>

#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

using detail::BioPtr;
using detail::PkeyPtr;
using X509Ptr = std::unique_ptr<X509, detail::Deleter<X509, X509_free>>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

bool isIpLiteral(const std::string& name) {
  unsigned char buf[16];
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
  if (!ip) return false;
  ASN1_OCTET_STRING_free(ip);
  (void)buf;
  return true;
}

}  // namespace

Result<PemPair> generateSelfSigned(const std::vector<std::string>& names) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Error::internal("self-signed certificate: key generation failed");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Gatehouse"), -1, -1, 0);
  std::string cn = names.empty() ? "gatehouse" : names.front();
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);

  std::string san;
  for (const auto& name : names) {
    if (!san.empty()) san += ",";
    san += (isIpLiteral(name) ? "IP:" : "DNS:") + name;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!san.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    if (!ext) return Error::internal("self-signed certificate: bad subject alt names");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Error::internal("self-signed certificate: signing failed");
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return PemPair{bioText(cert_bio.get()), bioText(key_bio.get())};
}

}  // namespace gatehouse::crypto

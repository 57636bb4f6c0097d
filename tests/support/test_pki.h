#pragma once

// A throw-away certificate authority for unit tests: EC P-256 keys,
// certificates with chosen extensions, CRLs. Test code only.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::testing {

struct TestCertificate {
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;

  std::string certPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert.get());
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    return pem;
  }
  std::string keyPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    return pem;
  }
  std::string derSha256Hex() const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    X509_digest(cert.get(), EVP_sha256(), digest, &size);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
      out += kDigits[digest[i] >> 4];
      out += kDigits[digest[i] & 0xf];
    }
    return out;
  }
};

class TestPki {
 public:
  // A self-signed CA.
  static TestCertificate makeCa(const std::string& common_name) {
    TestCertificate ca = make(common_name, nullptr,
                              {"basicConstraints=critical,CA:TRUE",
                               "keyUsage=critical,keyCertSign,cRLSign"});
    return ca;
  }

  // A certificate issued by `issuer`; `extensions` in openssl.cnf form
  // ("subjectAltName=DNS:a,email:b@c"). Without any, a client certificate.
  static TestCertificate issue(const TestCertificate& issuer, const std::string& common_name,
                               std::vector<std::string> extensions = {}) {
    if (extensions.empty()) extensions = {"basicConstraints=CA:FALSE", "extendedKeyUsage=clientAuth"};
    return make(common_name, &issuer, extensions);
  }

  // A CRL signed by `issuer` that revokes `revoked`.
  static std::string crlPem(const TestCertificate& issuer,
                            const std::vector<const TestCertificate*>& revoked) {
    X509_CRL* crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.cert.get()));
    ASN1_TIME* now = ASN1_TIME_adj(nullptr, time(nullptr), 0, -60);
    ASN1_TIME* next = ASN1_TIME_adj(nullptr, time(nullptr), 1, 0);
    X509_CRL_set1_lastUpdate(crl, now);
    X509_CRL_set1_nextUpdate(crl, next);
    for (const TestCertificate* cert : revoked) {
      X509_REVOKED* entry = X509_REVOKED_new();
      X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert->cert.get()));
      X509_REVOKED_set_revocationDate(entry, now);
      X509_CRL_add0_revoked(crl, entry);
    }
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, issuer.key.get(), EVP_sha256());
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    X509_CRL_free(crl);
    return pem;
  }

 private:
  static TestCertificate make(const std::string& common_name, const TestCertificate* issuer,
                              const std::vector<std::string>& extensions) {
    TestCertificate out;
    out.key = std::shared_ptr<EVP_PKEY>(EVP_EC_gen("P-256"), EVP_PKEY_free);
    out.cert = std::shared_ptr<X509>(X509_new(), X509_free);
    X509* cert = out.cert.get();
    static long serial = 1000;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, out.key.get());
    X509_NAME* subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                               -1, 0);
    X509* issuer_cert = issuer ? issuer->cert.get() : cert;
    EVP_PKEY* issuer_key = issuer ? issuer->key.get() : out.key.get();
    X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
    for (const std::string& line : extensions) {
      auto eq = line.find('=');
      std::string name = line.substr(0, eq);
      std::string value = line.substr(eq + 1);
      X509_EXTENSION* ext = X509V3_EXT_nconf(nullptr, &ctx, name.c_str(), value.c_str());
      if (!ext) throw std::runtime_error("bad extension " + line);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, issuer_key, EVP_sha256());
    return out;
  }
};

}  // namespace gatehouse::testing

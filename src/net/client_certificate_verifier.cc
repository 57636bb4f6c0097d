#include "net/client_certificate_verifier.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string_view>

#include "common/base64.h"

namespace gatehouse::net {
namespace {

// The verify result recorded when no SAN matches match_subject_alt_names.
constexpr long kSanMismatch = X509_V_ERR_APPLICATION_VERIFICATION;

// Sessions may only be resumed on a context with the same id context; a
// verifying server must set one or OpenSSL refuses every resumption.
constexpr unsigned char kSessionIdContext[] = "gatehouse-downstream-mtls";

// The SSL_CTX ex_data slot that points at the verifier configuring that
// context. Allocated once per process; only the index is shared.
int verifierIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string lastSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

std::string_view asn1Text(const ASN1_STRING* text) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
          static_cast<size_t>(ASN1_STRING_length(text))};
}

// The text of one SAN of `type`, or nullopt if `name` is another type. A
// name with a NUL byte is never used: it could make a SAN look like
// another one to a suffix or prefix matcher.
std::optional<std::string> sanText(const GENERAL_NAME* name, ClientCertificateVerifier::SanType type) {
  using SanType = ClientCertificateVerifier::SanType;
  std::string text;
  switch (type) {
    case SanType::kDns:
      if (name->type != GEN_DNS) return std::nullopt;
      text = asn1Text(name->d.dNSName);
      break;
    case SanType::kEmail:
      if (name->type != GEN_EMAIL) return std::nullopt;
      text = asn1Text(name->d.rfc822Name);
      break;
    case SanType::kUri:
      if (name->type != GEN_URI) return std::nullopt;
      text = asn1Text(name->d.uniformResourceIdentifier);
      break;
    case SanType::kIpAddress: {
      if (name->type != GEN_IPADD) return std::nullopt;
      std::string_view raw = asn1Text(name->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      int family = raw.size() == 4 ? AF_INET : raw.size() == 16 ? AF_INET6 : 0;
      if (family == 0 || !inet_ntop(family, raw.data(), buf, sizeof(buf))) return std::nullopt;
      text = buf;
      break;
    }
    case SanType::kUserPrincipalName: {
      if (name->type != GEN_OTHERNAME) return std::nullopt;
      const OTHERNAME* other = name->d.otherName;
      if (OBJ_obj2nid(other->type_id) != NID_ms_upn || !other->value ||
          other->value->type != V_ASN1_UTF8STRING) {
        return std::nullopt;
      }
      text = asn1Text(other->value->value.utf8string);
      break;
    }
  }
  if (text.find('\0') != std::string::npos) return std::nullopt;
  return text;
}

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;

GeneralNamesPtr subjectAltNames(X509* cert) {
  return GeneralNamesPtr(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
}

std::vector<std::string> sansOfType(const GENERAL_NAMES* names,
                                    ClientCertificateVerifier::SanType type) {
  std::vector<std::string> out;
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    if (auto text = sanText(sk_GENERAL_NAME_value(names, i), type)) out.push_back(std::move(*text));
  }
  return out;
}

}  // namespace

ClientCertificateVerifier::ClientCertificateVerifier(Settings settings)
    : settings_(std::move(settings)) {}

ClientCertificateVerifier::~ClientCertificateVerifier() {
  for (X509* cert : ca_certificates_) X509_free(cert);
  X509_STORE_free(store_);
}

Result<std::shared_ptr<const ClientCertificateVerifier>> ClientCertificateVerifier::create(
    const Settings& settings) {
  std::shared_ptr<ClientCertificateVerifier> verifier(new ClientCertificateVerifier(settings));
  verifier->store_ = X509_STORE_new();
  if (!verifier->store_) return Error::internal("X509_STORE_new: " + lastSslError());

  BIO* bio = BIO_new_mem_buf(settings.ca_pem.data(), static_cast<int>(settings.ca_pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    verifier->ca_certificates_.push_back(cert);
    X509_STORE_add_cert(verifier->store_, cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (verifier->ca_certificates_.empty()) return Error::invalid("ca: contains no PEM certificate");

  // Every certificate in the bundle is a trust anchor, an intermediate CA
  // included, as with Go's x509 roots: operators list the CAs they trust.
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (!settings.crl_pem.empty()) {
    bio = BIO_new_mem_buf(settings.crl_pem.data(), static_cast<int>(settings.crl_pem.size()));
    int count = 0;
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_crl(verifier->store_, crl);
      X509_CRL_free(crl);
      ++count;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (count == 0) return Error::invalid("crl: contains no PEM certificate revocation list");
    // Only the leaf is checked against the CRLs, as Pomerium configures
    // Envoy (only_verify_leaf_cert_crl). The leaf's issuer must have one.
    flags |= X509_V_FLAG_CRL_CHECK;
  }
  X509_STORE_set_flags(verifier->store_, flags);

  for (size_t i = 0; i < settings.match_subject_alt_names.size(); ++i) {
    RE2::Options options;
    options.set_log_errors(false);
    auto pattern =
        std::make_unique<re2::RE2>(settings.match_subject_alt_names[i].pattern, options);
    if (!pattern->ok()) {
      return Error::invalid("match_subject_alt_names[" + std::to_string(i) +
                            "]: invalid regular expression: " + pattern->error());
    }
    verifier->san_patterns_.push_back(std::move(pattern));
  }
  return std::shared_ptr<const ClientCertificateVerifier>(std::move(verifier));
}

Result<void> ClientCertificateVerifier::configure(SSL_CTX* context) const {
  if (verifierIndex() < 0) return Error::internal("SSL_CTX_get_ex_new_index failed");
  SSL_CTX_set_ex_data(context, verifierIndex(), const_cast<ClientCertificateVerifier*>(this));
  if (SSL_CTX_set1_verify_cert_store(context, store_) != 1) {
    return Error::internal("SSL_CTX_set1_verify_cert_store: " + lastSslError());
  }
  // The CA names go into the CertificateRequest so that a client with
  // several certificates (a browser) offers one the CA issued.
  for (X509* cert : ca_certificates_) {
    if (SSL_CTX_add_client_CA(context, cert) != 1) {
      return Error::internal("SSL_CTX_add_client_CA: " + lastSslError());
    }
  }
  int mode = SSL_VERIFY_PEER;
  if (settings_.enforcement == Enforcement::kRejectConnection) {
    mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(context, mode, &ClientCertificateVerifier::onVerify);
  // OpenSSL's own limit counts intermediates below the trust anchor, so it
  // never refuses a chain that max_verify_depth allows; onVerify applies
  // the exact limit.
  if (settings_.max_verify_depth != 0) {
    SSL_CTX_set_verify_depth(context, static_cast<int>(settings_.max_verify_depth));
  }
  SSL_CTX_set_session_id_context(context, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  return {};
}

// Called by OpenSSL for every certificate of the chain (with preverify_ok
// 0 for each problem found). In the policy modes every problem is only
// recorded, in the connection's verify result, and the handshake goes on:
// the policy decides what a missing or invalid certificate means. With
// reject_connection the first problem fails the handshake.
int ClientCertificateVerifier::onVerify(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* self = ssl ? static_cast<const ClientCertificateVerifier*>(
                               SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), verifierIndex()))
                         : nullptr;
  if (!self) return 0;
  int ok = preverify_ok;
  // Once the chain is verified down to the leaf: the checks OpenSSL does
  // not know about. An error set here stays the connection's verify result.
  if (ok && X509_STORE_CTX_get_error_depth(store) == 0) {
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store);
    int above_leaf = chain ? sk_X509_num(chain) - 1 : 0;
    if (self->settings_.max_verify_depth != 0 &&
        above_leaf > static_cast<int>(self->settings_.max_verify_depth)) {
      X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_CHAIN_TOO_LONG);
      ok = 0;
    } else if (!self->subjectAltNamesMatch(X509_STORE_CTX_get_current_cert(store))) {
      X509_STORE_CTX_set_error(store, static_cast<int>(kSanMismatch));
      ok = 0;
    }
  }
  if (self->settings_.enforcement == Enforcement::kRejectConnection) return ok;
  return 1;
}

bool ClientCertificateVerifier::subjectAltNamesMatch(X509* leaf) const {
  if (settings_.match_subject_alt_names.empty()) return true;
  if (!leaf) return false;
  GeneralNamesPtr names = subjectAltNames(leaf);
  if (!names) return false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    for (size_t m = 0; m < settings_.match_subject_alt_names.size(); ++m) {
      auto text = sanText(name, settings_.match_subject_alt_names[m].type);
      if (text && RE2::FullMatch(*text, *san_patterns_[m])) return true;
    }
  }
  return false;
}

ClientCertificate ClientCertificateVerifier::inspect(const SSL* ssl) const {
  ClientCertificate certificate;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (!leaf) return certificate;
  certificate.presented = true;
  long result = SSL_get_verify_result(ssl);
  certificate.valid = result == X509_V_OK;
  if (!certificate.valid) {
    certificate.verify_error =
        result == kSanMismatch ? "no subject alternative name matches match_subject_alt_names"
                               : X509_verify_cert_error_string(result);
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (X509_digest(leaf, EVP_sha256(), digest, &digest_size) == 1) {
    certificate.fingerprint_sha256 = hex(digest, digest_size);
  }
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(leaf);
  int spki_size = spki ? i2d_X509_PUBKEY(spki, nullptr) : -1;
  if (spki_size > 0) {
    std::string der(static_cast<size_t>(spki_size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509_PUBKEY(spki, &out);
    if (EVP_Digest(der.data(), der.size(), digest, &digest_size, EVP_sha256(), nullptr) == 1) {
      certificate.spki_sha256_base64 =
          base64Encode(std::string_view(reinterpret_cast<const char*>(digest), digest_size));
    }
  }
  GeneralNamesPtr names = subjectAltNames(leaf);
  certificate.san_dns = sansOfType(names.get(), SanType::kDns);
  certificate.san_email = sansOfType(names.get(), SanType::kEmail);
  certificate.san_uri = sansOfType(names.get(), SanType::kUri);

  BIO* bio = BIO_new(BIO_s_mem());
  if (bio && PEM_write_bio_X509(bio, leaf) == 1) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    if (size > 0) certificate.leaf_pem.assign(data, static_cast<size_t>(size));
  }
  BIO_free(bio);
  ERR_clear_error();
  return certificate;
}

}  // namespace gatehouse::net

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/client_certificate.h"

struct ssl_st;
struct ssl_ctx_st;
struct x509_st;
struct x509_store_st;
struct x509_store_ctx_st;

namespace re2 {
class RE2;
}

namespace gatehouse::net {

// Downstream mTLS (`downstream_mtls`): asks clients for a certificate,
// verifies it against the configured CA (and CRL), and describes it for
// the policy. Built once per snapshot and shared by every server context
// of that snapshot; immutable and thread-safe.
class ClientCertificateVerifier {
 public:
  // What happens to a connection without a valid certificate.
  enum class Enforcement {
    // The handshake succeeds; the policy sees the certificate (or its
    // absence) and decides.
    kPolicy,
    // Like kPolicy, and every route's policy also denies requests without
    // a valid certificate (495). The default.
    kPolicyWithDefaultDeny,
    // The handshake fails without a valid certificate.
    kRejectConnection,
  };
  enum class SanType { kDns, kEmail, kUri, kIpAddress, kUserPrincipalName };
  struct SanMatcher {
    SanType type = SanType::kDns;
    std::string pattern;  // RE2, matched against the whole SAN
  };
  struct Settings {
    std::string ca_pem;   // one or more PEM certificates; every one is a trust anchor
    std::string crl_pem;  // "" = no revocation check
    Enforcement enforcement = Enforcement::kPolicyWithDefaultDeny;
    // When not empty, a certificate is valid only if one of its SANs
    // matches one of these.
    std::vector<SanMatcher> match_subject_alt_names;
    // The most CA certificates a chain may have above the leaf; 0 = no limit.
    uint32_t max_verify_depth = 1;
  };

  // Errors name the setting ("ca: ...", "crl: ...",
  // "match_subject_alt_names[1]: ...").
  static Result<std::shared_ptr<const ClientCertificateVerifier>> create(const Settings& settings);
  ~ClientCertificateVerifier();
  ClientCertificateVerifier(const ClientCertificateVerifier&) = delete;
  ClientCertificateVerifier& operator=(const ClientCertificateVerifier&) = delete;

  // Makes a server context request and verify client certificates. The
  // verifier must outlive the context (ServerTlsContext keeps it).
  Result<void> configure(ssl_ctx_st* context) const;

  // The certificate facts of a connection whose handshake completed on a
  // context configured by this verifier (resumed sessions included).
  ClientCertificate inspect(const ssl_st* ssl) const;

  Enforcement enforcement() const { return settings_.enforcement; }

  // Whether one of `leaf`'s SANs satisfies match_subject_alt_names (true
  // when that list is empty).
  bool subjectAltNamesMatch(x509_st* leaf) const;

 private:
  explicit ClientCertificateVerifier(Settings settings);
  static int onVerify(int preverify_ok, x509_store_ctx_st* store);

  Settings settings_;
  std::vector<std::unique_ptr<re2::RE2>> san_patterns_;  // by match_subject_alt_names index
  x509_store_st* store_ = nullptr;                       // CA certificates and CRLs; owned
  std::vector<x509_st*> ca_certificates_;                // owned, for the CA names sent to clients
};

}  // namespace gatehouse::net

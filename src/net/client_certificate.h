#pragma once

#include <string>
#include <vector>

namespace gatehouse::net {

// What one downstream TLS connection proved with its client certificate,
// computed once after the handshake (ClientCertificateVerifier::inspect)
// and read by every request on the connection.
struct ClientCertificate {
  // The client sent a certificate.
  bool presented = false;
  // It chains to the configured client CA, is not revoked by the CRL,
  // is within max_verify_depth and one of its SANs matches
  // match_subject_alt_names (when given).
  bool valid = false;
  // Why it is not valid ("" when valid or not presented), for logs.
  std::string verify_error;
  // SHA-256 of the DER leaf certificate, 64 lower-case hex digits.
  std::string fingerprint_sha256;
  // SHA-256 of the DER SubjectPublicKeyInfo, standard base64.
  std::string spki_sha256_base64;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_email;
  std::vector<std::string> san_uri;
  // The leaf certificate as PEM.
  std::string leaf_pem;
};

}  // namespace gatehouse::net

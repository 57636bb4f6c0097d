#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/self_signed.h"

namespace gatehouse::crypto {

// The certificate authority of `tls_derive`, derived from the shared secret
// alone, so that every process of a deployment holds the same CA key
// without a certificate file being handed around (Pomerium's
// pkg/derivecert). It lets the services speak TLS to each other and
// verify each other; it is no replacement for real mTLS: whoever has the
// shared secret can issue certificates.
//
// The derivation follows Pomerium's byte for byte, so that the keys and
// serial numbers are the ones a Pomerium process computes from the same
// secret: each value is read from its own HKDF-SHA256 stream (no salt, no
// info) whose input keying material is a type byte, the secret, a zero
// byte and, for a server certificate, the domain and a zero byte. Keys
// take 40 bytes c and are d = c mod (n - 1) + 1 on P-256 (Go 1.19's
// ecdsa.GenerateKey); serial numbers are the first 16 bytes. Subjects,
// validity (2022-12-01 to 2050-12-01) and extensions are Pomerium's too,
// so that a leaf issued by either verifies against the CA of the other.
//
// The CA's to-be-signed part is identical in every process. Its signature
// is not: OpenSSL 3.0 signs ECDSA with a random nonce. That does not
// matter, since a trust anchor's own signature is never checked: only its
// name and key are.
class DerivedCa {
 public:
  // Fails only if `shared_secret` is empty or OpenSSL fails.
  static Result<std::unique_ptr<DerivedCa>> create(std::string_view shared_secret);

  ~DerivedCa();
  DerivedCa(const DerivedCa&) = delete;
  DerivedCa& operator=(const DerivedCa&) = delete;

  // The CA certificate, to add to a client's trust.
  const std::string& certificatePem() const { return cert_pem_; }

  // A server certificate for `domain` (lower-cased; one DNS name, or an IP
  // address for an IP literal) signed by this CA, and its key, which is
  // derived from the secret and the domain, so that it too is the same in
  // every process. Only the leaf: clients hold the CA already.
  Result<PemPair> issueServerCertificate(std::string_view domain) const;

 private:
  struct Keys;
  DerivedCa(std::string secret, std::unique_ptr<Keys> keys, std::string cert_pem);

  std::string secret_;
  std::unique_ptr<Keys> keys_;
  std::string cert_pem_;
};

}  // namespace gatehouse::crypto

#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/client_certificate_verifier.h"

namespace boost::asio::ssl {
class context;
}

namespace gatehouse::net {

struct CertificateKeyPair {
  std::string cert_pem;  // leaf first, then the chain
  std::string key_pem;
  std::string origin;    // for messages
};

// The downstream TLS configuration of one snapshot: certificates selected
// by SNI (exact SAN, then wildcard SAN, then the first certificate), ALPN
// `h2` / `http/1.1`, TLS 1.2+. Immutable; connections keep it alive with a
// shared_ptr for as long as their handshake runs. With a client
// certificate verifier (downstream mTLS), every context asks clients for a
// certificate and verifies it.
class ServerTlsContext {
 public:
  // Fails with a message naming the certificate's origin if a PEM does not
  // parse or a key does not match its certificate.
  static Result<std::shared_ptr<const ServerTlsContext>> create(
      const std::vector<CertificateKeyPair>& certificates, bool enable_http2,
      std::shared_ptr<const ClientCertificateVerifier> client_certificates = nullptr);
  ~ServerTlsContext();

  // The context to start handshakes with; SNI may switch to another.
  boost::asio::ssl::context& handshakeContext() const;
  bool http2Enabled() const { return http2_; }
  // Null when client certificates are not asked for.
  const ClientCertificateVerifier* clientCertificateVerifier() const {
    return client_certificates_.get();
  }
  // Index of the certificate that serves `server_name` (for tests).
  size_t selectIndex(std::string_view server_name) const;

 private:
  ServerTlsContext() = default;
  static int onServerName(void* ssl, int* alert, void* arg);

  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
  std::unordered_map<std::string, size_t> exact_;
  std::unordered_map<std::string, size_t> wildcard_;  // "example.com" for "*.example.com"
  bool http2_ = false;
  std::shared_ptr<const ClientCertificateVerifier> client_certificates_;
};

struct ClientTlsOptions {
  bool skip_verify = false;
  std::string custom_ca_pem;  // "" = the system's trust store
  std::string client_cert_pem;
  std::string client_key_pem;
  bool offer_http2 = false;
};

// TLS towards one upstream (per route and snapshot).
class ClientTlsContext {
 public:
  static Result<std::shared_ptr<const ClientTlsContext>> create(const ClientTlsOptions& options);
  ~ClientTlsContext();
  boost::asio::ssl::context& context() const { return *context_; }
  bool skipVerify() const { return skip_verify_; }

 private:
  ClientTlsContext() = default;
  std::unique_ptr<boost::asio::ssl::context> context_;
  bool skip_verify_ = false;
};

}  // namespace gatehouse::net

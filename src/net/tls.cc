#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>

#include "common/strings.h"

namespace gatehouse::net {
namespace {

namespace ssl = boost::asio::ssl;

std::string lastSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// Names a certificate serves: its DNS SANs, or its CN when it has none.
std::vector<std::string> certificateNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const unsigned char* data = ASN1_STRING_get0_data(name->d.dNSName);
      int len = ASN1_STRING_length(name->d.dNSName);
      names.push_back(toLower(std::string_view(reinterpret_cast<const char*>(data), len)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) > 0) {
      names.push_back(toLower(cn));
    }
  }
  return names;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  bool http2 = arg != nullptr;
  // Walk the client's list once for each protocol we speak, in our order
  // of preference.
  for (std::string_view wanted : {std::string_view("h2"), std::string_view("http/1.1")}) {
    if (wanted == "h2" && !http2) continue;
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == wanted) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Result<void> useCertificateChain(SSL_CTX* ctx, const std::string& pem, const std::string& origin) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* leaf = PEM_read_bio_X509_AUX(bio, nullptr, nullptr, nullptr);
  if (!leaf) {
    BIO_free(bio);
    return Error::invalid(origin + ": certificate is not valid PEM: " + lastSslError());
  }
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) {
    BIO_free(bio);
    return Error::invalid(origin + ": certificate: " + lastSslError());
  }
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(ctx, extra);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  BIO_free(bio);
  return {};
}

Result<void> usePrivateKey(SSL_CTX* ctx, const std::string& pem, const std::string& origin) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return Error::invalid(origin + ": key is not valid PEM: " + lastSslError());
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) return Error::invalid(origin + ": key: " + lastSslError());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Error::invalid(origin + ": key does not match the certificate");
  }
  return {};
}

Result<void> addCaPem(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++count;
  }
  ERR_clear_error();
  BIO_free(bio);
  if (count == 0) return Error::invalid("custom CA contains no PEM certificate");
  return {};
}

}  // namespace

ServerTlsContext::~ServerTlsContext() = default;

Result<std::shared_ptr<const ServerTlsContext>> ServerTlsContext::create(
    const std::vector<CertificateKeyPair>& certificates, bool enable_http2,
    std::shared_ptr<const ClientCertificateVerifier> client_certificates) {
  if (certificates.empty()) return Error::invalid("no certificate to serve TLS with");
  std::shared_ptr<ServerTlsContext> tls(new ServerTlsContext());
  tls->http2_ = enable_http2;
  tls->client_certificates_ = std::move(client_certificates);
  for (size_t i = 0; i < certificates.size(); ++i) {
    const auto& pair = certificates[i];
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    if (auto r = useCertificateChain(native, pair.cert_pem, pair.origin); !r) return r.error();
    if (auto r = usePrivateKey(native, pair.key_pem, pair.origin); !r) return r.error();
    SSL_CTX_set_alpn_select_cb(native, selectAlpn, enable_http2 ? tls.get() : nullptr);
    // Every context, not only the first: SNI may switch to any of them,
    // and the CA names and verify store come from the one in use.
    if (tls->client_certificates_) {
      if (auto r = tls->client_certificates_->configure(native); !r) return r.error();
    }
    X509* leaf = SSL_CTX_get0_certificate(native);
    for (const std::string& name : certificateNames(leaf)) {
      if (startsWith(name, "*.")) {
        tls->wildcard_.emplace(name.substr(2), i);
      } else {
        tls->exact_.emplace(name, i);
      }
    }
    tls->contexts_.push_back(std::move(ctx));
  }
  SSL_CTX* first = tls->contexts_.front()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, reinterpret_cast<int (*)(SSL*, int*, void*)>(&ServerTlsContext::onServerName));
  SSL_CTX_set_tlsext_servername_arg(first, tls.get());
  return std::shared_ptr<const ServerTlsContext>(std::move(tls));
}

ssl::context& ServerTlsContext::handshakeContext() const { return *contexts_.front(); }

size_t ServerTlsContext::selectIndex(std::string_view server_name) const {
  std::string name = toLower(server_name);
  if (auto it = exact_.find(name); it != exact_.end()) return it->second;
  if (size_t dot = name.find('.'); dot != std::string::npos) {
    if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) return it->second;
  }
  return 0;
}

int ServerTlsContext::onServerName(void* ssl_ptr, int*, void* arg) {
  SSL* ssl = static_cast<SSL*>(ssl_ptr);
  auto* self = static_cast<const ServerTlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  size_t index = self->selectIndex(name);
  if (index != 0) SSL_set_SSL_CTX(ssl, self->contexts_[index]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

ClientTlsContext::~ClientTlsContext() = default;

Result<std::shared_ptr<const ClientTlsContext>> ClientTlsContext::create(
    const ClientTlsOptions& options) {
  std::shared_ptr<ClientTlsContext> tls(new ClientTlsContext());
  tls->context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = tls->context_->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  tls->skip_verify_ = options.skip_verify;
  if (!options.custom_ca_pem.empty()) {
    if (auto r = addCaPem(native, options.custom_ca_pem); !r) return r.error();
  } else {
    SSL_CTX_set_default_verify_paths(native);
  }
  if (!options.client_cert_pem.empty()) {
    if (auto r = useCertificateChain(native, options.client_cert_pem, "tls_client_cert"); !r) {
      return r.error();
    }
    if (auto r = usePrivateKey(native, options.client_key_pem, "tls_client_key"); !r) {
      return r.error();
    }
  }
  static constexpr unsigned char kH2AndHttp11[] = "\x02h2\x08http/1.1";
  static constexpr unsigned char kHttp11[] = "\x08http/1.1";
  if (options.offer_http2) {
    SSL_CTX_set_alpn_protos(native, kH2AndHttp11, sizeof(kH2AndHttp11) - 1);
  } else {
    SSL_CTX_set_alpn_protos(native, kHttp11, sizeof(kHttp11) - 1);
  }
  return std::shared_ptr<const ClientTlsContext>(std::move(tls));
}

}  // namespace gatehouse::net

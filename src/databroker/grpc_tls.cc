#include "databroker/grpc_tls.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/tls.h"

namespace gatehouse::databroker {
namespace {

// The system's trust store as one PEM bundle (OpenSSL's default file, or
// SSL_CERT_FILE); empty if there is none.
std::string systemRootsPem() {
  const char* path = std::getenv(X509_get_default_cert_file_env());
  std::ifstream in(path != nullptr ? path : X509_get_default_cert_file(), std::ios::binary);
  std::stringstream pem;
  pem << in.rdbuf();
  return pem.str();
}

// gRPC only says that the port could not be bound when a pair is bad;
// loading it into an OpenSSL context first gives an error that names it.
Result<void> checkPair(const std::string& cert_pem, const std::string& key_pem,
                       const std::string& origin) {
  auto checked = net::ServerTlsContext::create(
      {{cert_pem, key_pem, origin.empty() ? std::string("certificate") : origin}}, false);
  if (!checked) return checked.error();
  return {};
}

// One file, certificate chain then key: gRPC reads it as both, and
// OpenSSL's PEM readers skip the blocks of the other kind.
std::string pairFile(const std::string& cert_pem, const std::string& key_pem) {
  std::string content = cert_pem;
  if (!content.empty() && content.back() != '\n') content += '\n';
  content += key_pem;
  return content;
}

std::string procPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Error systemError(const std::string& what) {
  return Error::internal("gRPC server certificate: " + what + ": " + std::strerror(errno));
}

// A new anonymous in-memory file holding `content`, last modified at
// `modified` (whole seconds: what gRPC compares).
Result<int> memoryFile(const std::string& content, std::time_t modified) {
  int fd = memfd_create("gatehouse-grpc-certificate", MFD_CLOEXEC);
  if (fd < 0) return systemError("memfd_create");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error error = systemError("write");
      ::close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, {modified, 0}};
  if (::futimens(fd, times) != 0) {
    Error error = systemError("futimens");
    ::close(fd);
    return error;
  }
  return fd;
}

}  // namespace

Result<std::shared_ptr<GrpcServerCertificate>> GrpcServerCertificate::create(
    const std::string& cert_pem, const std::string& key_pem, const std::string& origin) {
  if (auto checked = checkPair(cert_pem, key_pem, origin); !checked) return checked.error();
  std::shared_ptr<GrpcServerCertificate> certificate(new GrpcServerCertificate());
  if (auto r = certificate->install(cert_pem, key_pem); !r) return r.error();
  certificate->origin_ = origin;
  // gRPC must be able to read it back the way it will: by path.
  std::string path = procPath(certificate->fd_);
  std::ifstream in(path, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool same = back == certificate->content_;
  OPENSSL_cleanse(back.data(), back.size());
  if (!same) return Error::internal("gRPC server certificate: cannot read " + path);
  certificate->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      path, path, static_cast<unsigned int>(kRefreshInterval.count()));
  return certificate;
}

GrpcServerCertificate::~GrpcServerCertificate() {
  provider_.reset();
  OPENSSL_cleanse(content_.data(), content_.size());
  if (fd_ >= 0) ::close(fd_);
}

Result<void> GrpcServerCertificate::install(const std::string& cert_pem,
                                            const std::string& key_pem) {
  std::string content = pairFile(cert_pem, key_pem);
  // Strictly later than the file it replaces, so that a read by gRPC that
  // straddles the swap sees the time change and reads again.
  std::time_t modified = std::max(std::time(nullptr), modified_ + 1);
  auto fd = memoryFile(content, modified);
  if (!fd) {
    OPENSSL_cleanse(content.data(), content.size());
    return fd.error();
  }
  if (fd_ < 0) {
    fd_ = *fd;
  } else {
    // Atomic: gRPC opens either the old file or the new one.
    int swapped = ::dup3(*fd, fd_, O_CLOEXEC);
    int saved_errno = errno;
    ::close(*fd);
    if (swapped < 0) {
      OPENSSL_cleanse(content.data(), content.size());
      errno = saved_errno;
      return systemError("dup3");
    }
  }
  OPENSSL_cleanse(content_.data(), content_.size());
  content_ = std::move(content);
  modified_ = modified;
  return {};
}

Result<bool> GrpcServerCertificate::update(const std::string& cert_pem, const std::string& key_pem,
                                           const std::string& origin) {
  if (auto checked = checkPair(cert_pem, key_pem, origin); !checked) return checked.error();
  std::lock_guard lock(mutex_);
  std::string content = pairFile(cert_pem, key_pem);
  bool same = content == content_;
  OPENSSL_cleanse(content.data(), content.size());
  origin_ = origin;
  if (same) return false;
  if (auto r = install(cert_pem, key_pem); !r) return r.error();
  return true;
}

std::string GrpcServerCertificate::origin() const {
  std::lock_guard lock(mutex_);
  return origin_;
}

std::shared_ptr<grpc::ServerCredentials> GrpcServerCertificate::credentials() const {
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(options);
}

bool certificateNames(const std::string& cert_pem, const std::string& host) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  if (bio == nullptr) return false;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  bool names = X509_check_host(cert, host.data(), host.size(), 0, nullptr) == 1 ||
               X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  X509_free(cert);
  return names;
}

Result<std::shared_ptr<grpc::ServerCredentials>> grpcServerCredentials(const GrpcTls& tls) {
  if (tls.certificate) return tls.certificate->credentials();
  if (tls.cert_pem.empty() && tls.key_pem.empty()) return grpc::InsecureServerCredentials();
  if (auto checked = checkPair(tls.cert_pem, tls.key_pem, tls.origin); !checked) {
    return checked.error();
  }
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

void setServiceChannelArguments(grpc::ChannelArguments& args) {
  args.SetServiceConfigJSON(
      R"({"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}})");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

std::shared_ptr<grpc::ChannelCredentials> grpcChannelCredentials(const GrpcTarget& target,
                                                                 const GrpcTls& tls,
                                                                 grpc::ChannelArguments& args) {
  if (!target.tls) return grpc::InsecureChannelCredentials();
  const std::string& name =
      tls.override_certificate_name.empty() ? target.tls_name : tls.override_certificate_name;
  if (!name.empty()) args.SetSslTargetNameOverride(name);
  grpc::SslCredentialsOptions options;
  // `certificate_authority` is trusted in addition to the system's roots,
  // as in Pomerium (and as for the identity provider). Without it, gRPC
  // loads the system's roots itself.
  if (!tls.ca_pem.empty()) options.pem_root_certs = systemRootsPem() + "\n" + tls.ca_pem;
  return grpc::SslCredentials(options);
}

}  // namespace gatehouse::databroker

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/options.h"
#include "http/connection_settings.h"
#include "http/path_normalizer.h"
#include "net/tls.h"
#include "proxy/route_table.h"

namespace gatehouse::proxy {

// Everything one configuration generation needs at request time, built
// once and then immutable; shared by every worker. A request takes the
// snapshot that is current when it starts and uses only that one.
struct Snapshot {
  uint64_t generation = 0;
  config::Options options;
  std::unique_ptr<RouteTable> routes;
  // Upstream TLS per route index; null for routes without an https `to`.
  std::vector<std::shared_ptr<const net::ClientTlsContext>> upstream_tls;
  std::shared_ptr<const net::ServerTlsContext> server_tls;  // null with insecure_server
  bool self_signed = false;
  http::PathNormalizerOptions path_options;
  http::ConnectionSettings connection_settings;
  std::string session_cookie_name = "_pomerium";
  std::string authenticate_url;  // where sign-in happens (for /.well-known/pomerium)

  // Builds a snapshot from validated options. `fallback_certificate` is
  // served when no certificate is configured (it is generated once per
  // process, so that a reload does not change it). Errors name the key.
  static Result<std::shared_ptr<const Snapshot>> create(
      config::Options options, uint64_t generation,
      const net::CertificateKeyPair* fallback_certificate);
};

}  // namespace gatehouse::proxy

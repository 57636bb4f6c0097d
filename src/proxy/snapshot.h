#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "authenticate/service.h"
#include "authorize/service.h"
#include "common/result.h"
#include "config/options.h"
#include "crypto/signed_url.h"
#include "http/connection_settings.h"
#include "http/path_normalizer.h"
#include "net/tls.h"
#include "proxy/route_table.h"
#include "session/cache.h"
#include "session/cookie.h"
#include "session/handle.h"

namespace gatehouse::proxy {

struct Snapshot;

// The long-lived services a snapshot is built with.
struct SnapshotServices {
  databroker::Client* databroker = nullptr;
  session::Cache* sessions = nullptr;
  std::shared_ptr<authenticate::oidc::Fetcher> fetcher;  // null: no sign-in
  const Snapshot* previous = nullptr;                    // sign-in providers are taken over from it
  // Which services this process answers HTTP for (split deployments run
  // some of them elsewhere).
  bool serve_routes = true;        // the proxy: routes and their /.pomerium/ pages
  bool serve_authenticate = true;  // the authenticate host
};

// Everything one configuration generation needs at request time, built
// once and then immutable; shared by every worker. A request takes the
// snapshot that is current when it starts and uses only that one.
struct Snapshot {
  uint64_t generation = 0;
  // Shared with authorize_state: one copy per generation.
  std::shared_ptr<const config::Options> options;
  std::unique_ptr<RouteTable> routes;
  // Upstream TLS per route index; null for routes without an https `to`.
  std::vector<std::shared_ptr<const net::ClientTlsContext>> upstream_tls;
  std::shared_ptr<const net::ServerTlsContext> server_tls;  // null with insecure_server
  // downstream_mtls has a CA: the policy sees each connection's client
  // certificate facts (without one, every request counts as valid).
  bool client_ca_configured = false;
  bool self_signed = false;
  http::PathNormalizerOptions path_options;
  http::ConnectionSettings connection_settings;
  std::string session_cookie_name = "_pomerium";
  session::CookieAttributes session_cookie;
  std::string authenticate_url;  // where sign-in happens ("" = not configured)
  std::shared_ptr<const session::HandleCodec> handles;
  std::shared_ptr<const crypto::SignedUrl> signer;
  // Sign-in, when an identity provider is configured (all-in-one: served
  // by this process on the authenticate host).
  std::shared_ptr<const authenticate::Authenticator> authenticator;
  bool serve_routes = true;
  bool serve_authenticate = true;
  // Policies, identity headers and the keys that sign them: what an
  // in-process authorize decides with, and the JWKS this host publishes.
  std::shared_ptr<const authorize::State> authorize_state;

  // Builds a snapshot from validated options. `fallback_certificate` is
  // served when no certificate is configured (it is generated once per
  // process, so that a reload does not change it). Errors name the key.
  static Result<std::shared_ptr<const Snapshot>> create(
      config::Options options, uint64_t generation,
      const net::CertificateKeyPair* fallback_certificate, const SnapshotServices& services = {});
};

}  // namespace gatehouse::proxy

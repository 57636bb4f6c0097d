#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "net/client_certificate_verifier.h"

namespace gatehouse::proxy {

// The `downstream_mtls` settings of one snapshot, read and checked.
struct DownstreamMtls {
  // Null when no CA is configured: client certificates are not asked for,
  // and the policy counts every request's certificate as valid.
  std::shared_ptr<const net::ClientCertificateVerifier> verifier;
  // Every route's policy denies requests without a valid client
  // certificate (enforcement policy_with_default_deny, the default).
  bool deny_invalid_certificates = false;

  // Parses the settings as the config loader keeps them (a JSON object,
  // file paths already absolute; "" = not configured): `ca` / `crl` are
  // base64 of PEM (PEM itself is accepted too), `ca_file` / `crl_file`
  // are read here. Errors name the key ("downstream_mtls.ca: ...").
  static Result<DownstreamMtls> parse(std::string_view json_text);
};

}  // namespace gatehouse::proxy

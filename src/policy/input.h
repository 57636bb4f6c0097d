#pragma once

// What a policy is evaluated against: facts about one request and the
// session that made it. Everything is borrowed (string_view, span, pointer):
// the caller owns the data and keeps it alive for the duration of
// Policy::evaluate, which copies nothing.

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "policy/ip_address.h"

namespace gatehouse::policy {

// Request header lookup. Implementations must not allocate in get() and must
// be safe to call from the evaluating thread.
class HeaderLookup {
 public:
  virtual ~HeaderLookup() = default;
  // The first value of the header named `name` (matched case-insensitively),
  // or nullopt when the request does not have it.
  virtual std::optional<std::string_view> get(std::string_view name) const = 0;
};

// A HeaderLookup over a borrowed list of (name, value) pairs.
class HeaderList final : public HeaderLookup {
 public:
  using Header = std::pair<std::string_view, std::string_view>;
  HeaderList() = default;
  explicit HeaderList(std::span<const Header> headers) : headers_(headers) {}
  std::optional<std::string_view> get(std::string_view name) const override;

 private:
  std::span<const Header> headers_;
};

// The downstream TLS client certificate, as the listener verified and
// parsed it.
struct ClientCertificateInput {
  bool presented = false;
  // The certificate chains to the configured client CA (and passes the CRL).
  // As in Pomerium, callers set this to true when no client CA is configured.
  bool valid = false;
  // SHA-256 of the DER certificate, 64 lower-case hex digits.
  std::string_view fingerprint_sha256;
  // SHA-256 of the DER SubjectPublicKeyInfo, standard base64 (44 characters).
  std::string_view spki_sha256_base64;
  std::span<const std::string> san_dns;
  std::span<const std::string> san_email;
  std::span<const std::string> san_uri;
};

// The request's source address, parsed the first time a criterion asks for
// it: most policies never do, and a decision should not pay for it.
class SourceAddress {
 public:
  SourceAddress() = default;
  // An address already parsed (or none).
  SourceAddress(std::optional<IpAddress> ip) : ip_(ip), parsed_(true) {}  // NOLINT: implicit
  // The text of an address ("192.0.2.1", "2001:db8::1"), borrowed; one that
  // does not parse is no address.
  static SourceAddress fromText(std::string_view text) {
    SourceAddress a;
    a.text_ = text;
    a.parsed_ = false;
    return a;
  }
  const std::optional<IpAddress>& get() const {
    if (!parsed_) {
      ip_ = IpAddress::parse(text_);
      parsed_ = true;
    }
    return ip_;
  }
  void reset() { *this = SourceAddress(); }

 private:
  std::string_view text_;
  mutable std::optional<IpAddress> ip_;
  mutable bool parsed_ = true;
};

// The request side.
struct RequestInput {
  std::string_view method;  // "GET"
  std::string_view path;    // normalised path without the query
  std::string_view host;    // the Host / :authority, lower-case, no port
  SourceAddress source_ip;
  const HeaderLookup* headers = nullptr;  // nullptr = no headers
  ClientCertificateInput client_certificate;
  // The time the request is decided at; injected so that tests and replays
  // are deterministic.
  std::chrono::system_clock::time_point now;
};

// The session side. `authenticated` is false when the request carries no
// valid session; every session criterion then answers user-unauthenticated.
struct SessionInput {
  bool authenticated = false;
  std::string_view user_id;
  std::string_view email;  // the directory email if known, else the IdP's
  // The identity provider claims: a JSON object of claim name to value
  // (Pomerium stores every claim as a list; a scalar here counts as a list
  // of one). Session and user claims already merged, user claims winning.
  // nullptr = no claims.
  const nlohmann::json* claims = nullptr;
  // The user's groups (IDs and names), as the `groups` criterion sees them.
  std::span<const std::string> groups;
};

struct Input {
  RequestInput request;
  SessionInput session;
};

}  // namespace gatehouse::policy

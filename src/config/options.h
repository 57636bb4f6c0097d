#pragma once

// The typed, validated configuration. Each component reads only its own
// section; server/ composes them. Everything here is produced by
// config::Loader and is immutable once inside a Snapshot.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"

namespace gatehouse::config {

struct HeaderValue {
  std::string name;
  std::string value;
};

struct CertificatePair {
  std::string cert_pem;
  std::string key_pem;
  std::string origin;  // where it came from, for messages: "certificates[0]", "certificate_file"
};

// Listeners and TLS termination (`address`, `insecure_server`, certificates...).
struct ListenerOptions {
  std::string address = ":443";
  bool insecure_server = false;
  std::string http_redirect_addr;  // empty = off
  // Every connection to every listener opens with a PROXY protocol header
  // (v1 or v2) naming the client; a connection without one is closed.
  bool use_proxy_protocol = false;
  std::vector<CertificatePair> certificates;
  int workers = 0;  // 0 = one per core (GATEHOUSE_WORKERS / `workers`, a Gatehouse key)
};

// Edge behaviour of the HTTP connection manager.
struct HttpOptions {
  Duration timeout_read = std::chrono::seconds(30);
  Duration timeout_write = Duration::zero();  // 0 = unlimited
  Duration timeout_idle = std::chrono::minutes(5);
  Duration default_upstream_timeout = std::chrono::seconds(30);
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  bool normalize_path = true;
  bool merge_slashes = true;
  // "reject" (400, default), "keep_unchanged", "unescape_and_forward", "unescape_and_redirect"
  std::string path_with_escaped_slashes_action = "reject";
  // "reject" (400, default), "drop_header", "allow"
  std::string headers_with_underscores_action = "reject";
  uint32_t max_request_headers_kb = 64;
  uint32_t max_request_headers_count = 100;
  // Response headers added to every response Gatehouse sends, local replies
  // included; already merged with Pomerium's defaults (and `disable`).
  std::vector<HeaderValue> set_response_headers;
};

struct SecretOptions {
  std::string shared_secret;  // 32 raw bytes
  bool shared_secret_generated = false;
  std::string cookie_secret;  // 32 raw bytes
  bool cookie_secret_generated = false;
};

// The databroker: where it stores records, and where gRPC services listen
// and are reached (`databroker_storage_*`, `grpc_address`,
// `databroker_service_url(s)`).
struct DatabrokerOptions {
  std::string storage_type = "memory";  // memory, file, postgres
  // A file path (file) or a libpq connection string (postgres); relative
  // paths are resolved against the config file's directory.
  std::string storage_connection_string;
  // The key it came from, for messages: databroker_storage_connection_string
  // or databroker_storage_connection_string_file.
  std::string storage_connection_setting = "databroker_storage_connection_string";
  // Where gRPC services listen; "" = Pomerium's default (":443", or ":5443"
  // when proxy or authenticate run in the same process).
  std::string grpc_address;
  // Where other services reach the databroker in split mode.
  std::vector<std::string> service_urls;
  // How long changes stay in the change log (a Gatehouse key,
  // `databroker_change_log_retention`); a stream further behind starts over.
  Duration change_log_retention = std::chrono::hours(1);
};

// Session cookies (`cookie_*`), as Pomerium sets them.
struct CookieOptions {
  std::string name = "_pomerium";
  std::string domain;  // empty = host-only
  Duration expire = std::chrono::hours(14);
  bool http_only = true;
  std::string same_site;  // "", "strict", "lax" or "none" ("" = no attribute)
};

// The identity provider (`idp_*`).
struct IdpOptions {
  std::string provider;  // "" = not configured; "oidc", "google", "github", ...
  std::string provider_url;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;  // empty = the provider's defaults
  std::vector<std::pair<std::string, std::string>> request_params;
};

// Sign-in: where the authenticate service is reached, the IdP, cookies.
struct AuthenticateOptions {
  // `authenticate_service_url` without a trailing slash; "" = not set, so
  // routes that need a signed-in user cannot send anyone to sign in.
  std::string service_url;
  std::string host;  // lower-case host of service_url, without the port
  std::string callback_path = "/oauth2/callback";
  IdpOptions idp;
  CookieOptions cookie;
  std::string signout_redirect_url;
  std::vector<std::string> programmatic_redirect_domains = {"localhost"};
  // Extra CA (PEM) trusted when talking to the IdP and other services
  // (`certificate_authority` / `certificate_authority_file`).
  std::string certificate_authority_pem;
};

// The identity statement sent upstream (`signing_key`, `jwt_claims_headers`...).
struct IdentityOptions {
  std::string signing_key_pem;  // "" = derived from shared_secret
  // (header name, claim name) pairs: `email` in a list or comma string
  // becomes ("X-Pomerium-Claim-Email", "email"); a map names the headers.
  std::vector<std::pair<std::string, std::string>> jwt_claims_headers;
  std::string jwt_issuer_format;  // "" = host only
  std::vector<std::string> jwt_groups_filter;
  bool pass_identity_headers = false;  // the global default for routes
};

struct UpstreamUrl {
  std::string scheme;  // http, https, h2c
  std::string host;    // lower-case host name or IP literal (no brackets)
  uint16_t port = 0;   // explicit or the scheme's default
  std::string path;    // "" when the URL has none
  uint32_t weight = 1;
  std::string text;    // as written, for logs
};

struct RedirectAction {
  bool https_redirect = false;
  std::string scheme_redirect;
  std::string host_redirect;
  uint32_t port_redirect = 0;  // 0 = keep
  std::string path_redirect;
  std::string prefix_rewrite;
  bool has_prefix_rewrite = false;
  int response_code = 301;  // Envoy's default for a redirect action
  bool strip_query = false;
};

struct DirectResponse {
  int status = 200;
  std::string body;
};

struct RewriteResponseHeader {
  std::string header;
  std::string prefix;
  std::string value;
};

struct Route {
  size_t index = 0;      // position in `routes`
  std::string id;        // stable hex hash of from/prefix/path/regex/to/redirect/response
  std::string name;
  std::string description;

  std::string from;      // as written
  std::string from_scheme;  // "https" or "http"
  std::string from_host;    // lower-case, no port; "*.example.com" for wildcards

  // Exactly one of to / redirect / response is set.
  std::vector<UpstreamUrl> to;
  std::optional<RedirectAction> redirect;
  std::optional<DirectResponse> response;

  // Match (at most one of path / regex; prefix defaults to "/").
  std::string prefix;
  std::string path;
  std::string regex;

  // Rewrites.
  std::string prefix_rewrite;  // set from `to`'s path when no rewrite is given
  bool has_prefix_rewrite = false;
  std::string regex_rewrite_pattern;
  std::string regex_rewrite_substitution;
  std::string host_rewrite;
  std::string host_rewrite_header;
  bool preserve_host_header = false;

  std::vector<HeaderValue> set_request_headers;
  std::vector<std::string> remove_request_headers;
  std::vector<HeaderValue> set_response_headers;
  // The route's set_response_headers held the key `disable`: send none of the
  // global or route response headers on this route (Pomerium's rule).
  bool disable_response_headers = false;
  std::vector<RewriteResponseHeader> rewrite_response_headers;

  std::optional<Duration> timeout;       // unset = default_upstream_timeout (0 for websockets)
  std::optional<Duration> idle_timeout;  // unset = 5m (0 for websockets)
  bool allow_websockets = false;
  bool allow_spdy = false;

  // Upstream TLS.
  bool tls_skip_verify = false;
  std::string tls_server_name;
  std::string tls_custom_ca_pem;
  std::string tls_client_cert_pem;
  std::string tls_client_key_pem;

  // Policy keys (compiled by the authorize engine; only public access is
  // honoured by the proxy until then).
  bool allow_public_unauthenticated_access = false;
  bool allow_any_authenticated_user = false;
  bool cors_allow_preflight = false;
  std::vector<std::string> allowed_users;
  std::vector<std::string> allowed_domains;
  std::map<std::string, std::vector<std::string>> allowed_idp_claims;
  std::string policy_json;  // the `policy` PPL as JSON text, "" if absent
  std::optional<bool> pass_identity_headers;
  bool show_error_details = false;

  // Sign-in for this route: its own IdP client ("" = the global one) and
  // the hosts whose session cookies a login also sets (`depends_on`).
  std::string idp_client_id;
  std::string idp_client_secret;
  std::vector<std::string> depends_on;

  // Pomerium route keys that are accepted but have no behaviour yet
  // (`logo_url`, `depends_on`, `idp_client_id`, ...): scalars as written,
  // lists comma-joined, maps as JSON text, file paths made absolute.
  std::map<std::string, std::string> extra;
};

// Metrics and health listeners: `metrics_address`, `metrics_basic_auth`,
// `metrics_prefix` (Gatehouse's own) and `health_check_addr`.
struct ObservabilityOptions {
  std::string metrics_address;  // "" = no metrics listener
  // The `user:pass` that metrics_basic_auth holds base64 of ("" = none).
  std::string metrics_credentials;
  std::string metrics_prefix = "pomerium_";
  // Off unless set (Pomerium's default 127.0.0.1:28080 would collide when
  // several processes share a host).
  std::string health_check_address;
};

struct Options {
  std::vector<std::string> services = {"all"};
  std::string log_level = "info";
  ListenerOptions listener;
  HttpOptions http;
  SecretOptions secrets;
  DatabrokerOptions databroker;
  AuthenticateOptions authenticate;
  IdentityOptions identity;
  ObservabilityOptions observability;
  std::vector<Route> routes;
  // Files the config names (certificates, CAs, secrets); a change to any of
  // them triggers a reload, as a change to the config file does.
  std::vector<std::string> watched_files;
  // Pomerium keys that are accepted but have no behaviour yet
  // (`authenticate_service_url`, `idp_provider`, `cookie_expire`, ...), so
  // that a real Pomerium config loads without warnings: scalars as written,
  // lists comma-joined, maps as JSON text, file paths made absolute.
  std::map<std::string, std::string> extra;
};

}  // namespace gatehouse::config

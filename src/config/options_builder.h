#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "config/parse_context.h"

namespace gatehouse::config {

// What the environment overlay needs to know about a global key: whether an
// environment value is plain text or a structured (JSON/YAML) document.
enum class KeyShape {
  kScalar,      // text, a bool, a number, a duration, or a comma list
  kStructured,  // a map or list: the environment value is parsed as JSON/YAML
  kRoutes,      // routes: the environment value is base64-encoded YAML
};

// A global key that can be set from the environment, as the variable named
// by its upper-case name: the keys Gatehouse acts on, the Pomerium keys kept
// for later, and policy_file, so that POLICY_FILE is refused as the file key
// is (Pomerium binds that one; its other removed keys have no variable).
struct GlobalKeyInfo {
  std::string_view name;
  KeyShape shape;
};
std::vector<GlobalKeyInfo> globalKeys();

// Nested keys that Pomerium binds to environment variables one field at a
// time (DOWNSTREAM_MTLS_CA -> downstream_mtls.ca).
struct NestedKeyInfo {
  std::string_view name;
  std::vector<std::string_view> fields;
};
std::vector<NestedKeyInfo> nestedGlobalKeys();

// Builds Options from the top-level keys, one `apply` per key, then `finish`
// for the rules that span keys (certificate pairs, secrets, default response
// headers, routes vs policy). Problems go to the ParseContext.
class OptionsBuilder {
 public:
  explicit OptionsBuilder(ParseContext& ctx) : ctx_(ctx) {}

  // `key` is lower-case; `value.path` is the key as it will appear in messages.
  void apply(std::string_view key, const Value& value);
  // Routes that came from the POLICY/ROUTES environment variables: they
  // replace both `routes` and `policy` from the file.
  void setRoutesFromEnvironment(const Value& value);
  Options finish();

  // State the key handlers fill in; public because the handlers are plain
  // functions in a table.
  struct Pending {
    std::optional<Value> routes;
    std::optional<Value> policy;
    std::optional<Value> environment_routes;
    std::optional<Value> certificates;
    std::optional<std::string> certificate;
    std::optional<std::string> certificate_key;
    std::optional<std::string> certificate_file;
    std::optional<std::string> certificate_key_file;
    std::optional<std::string> shared_secret;
    std::optional<std::string> shared_secret_file;
    std::optional<std::string> cookie_secret;
    std::optional<std::string> cookie_secret_file;
    std::optional<std::vector<HeaderValue>> set_response_headers;
    std::optional<std::string> databroker_storage_connection_string;
    std::optional<std::string> databroker_storage_connection_string_file;
    std::optional<std::vector<std::string>> databroker_service_urls;
  };

  ParseContext& ctx() { return ctx_; }
  Options& options() { return options_; }
  Pending& pending() { return pending_; }

 private:
  void finishRoutes();
  void finishCertificates();
  void finishResponseHeaders();
  void finishSecrets();
  void finishDatabroker();
  void finishAuthenticate();  // authenticate_options.cc
  void finishObservability();  // observability_options.cc
  void finishSecret(std::string_view name, const std::optional<std::string>& inline_value,
                    const std::optional<std::string>& file, std::string& out, bool& generated,
                    bool required);

  ParseContext& ctx_;
  Options options_;
  Pending pending_;
};

}  // namespace gatehouse::config

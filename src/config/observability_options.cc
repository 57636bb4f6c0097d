// Metrics and health listeners: `metrics_address`, `metrics_basic_auth`,
// `metrics_prefix` and `health_check_addr`. The loader keeps them as text
// while it reads the file; finishObservability() checks them, moves them
// into ObservabilityOptions and takes them out of Options::extra.

#include <optional>

#include "common/base64.h"
#include "common/strings.h"
#include "config/options_builder.h"

namespace gatehouse::config {
namespace {

std::optional<std::string> take(std::map<std::string, std::string>& extra, std::string_view key) {
  auto it = extra.find(std::string(key));
  if (it == extra.end()) return std::nullopt;
  std::string value = std::move(it->second);
  extra.erase(it);
  return value;
}

// "host:port", ":port" or "[v6]:port"; the listener resolves it when it binds.
bool looksLikeListenAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size()) return false;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Prometheus metric names are [a-zA-Z_:][a-zA-Z0-9_:]*; the prefix is the
// start of one (and may be empty).
bool isMetricNamePrefix(std::string_view prefix) {
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = prefix[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

void OptionsBuilder::finishObservability() {
  auto& extra = options_.extra;
  ObservabilityOptions& out = options_.observability;
  if (auto address = take(extra, "metrics_address")) {
    std::string value(trim(*address));
    if (!value.empty() && !looksLikeListenAddress(value)) {
      ctx_.error("metrics_address", quote(*address) + " is not a listen address such as :9090");
    } else {
      out.metrics_address = std::move(value);
    }
  }
  if (auto auth = take(extra, "metrics_basic_auth")) {
    std::string value(trim(*auth));
    if (!value.empty()) {
      // Pomerium's form: base64 of "user:pass".
      auto decoded = base64Decode(value);
      if (!decoded || decoded->find(':') == std::string::npos) {
        ctx_.error("metrics_basic_auth", "must be base64 of user:password");
      } else {
        out.metrics_credentials = std::move(*decoded);
      }
    }
  }
  if (auto prefix = take(extra, "metrics_prefix")) {
    std::string value(trim(*prefix));
    if (!isMetricNamePrefix(value)) {
      ctx_.error("metrics_prefix",
                 quote(*prefix) + " is not a metric name prefix (letters, digits, _ and :)");
    } else {
      out.metrics_prefix = std::move(value);
    }
  }
  if (auto address = take(extra, "health_check_addr")) {
    std::string value(trim(*address));
    if (!value.empty() && !looksLikeListenAddress(value)) {
      ctx_.error("health_check_addr",
                 quote(*address) + " is not a listen address such as 127.0.0.1:28080");
    } else {
      out.health_check_address = std::move(value);
    }
  }
}

}  // namespace gatehouse::config

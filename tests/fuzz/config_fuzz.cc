// Fuzzes the config loader with arbitrary YAML/JSON text. The loader must
// never throw or crash, must report a syntax or value problem as an error
// (never as an internal error, which would mean an exception it did not
// expect), and a config it accepts must satisfy what the proxy relies on.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/loader.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant violated: %s\n  %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void checkRoute(const gatehouse::config::Route& route) {
  int actions =
      int{!route.to.empty()} + int{route.redirect.has_value()} + int{route.response.has_value()};
  if (actions != 1) fail("route without exactly one action", route.from);
  if (route.from_host.empty()) fail("route without a host", route.from);
  if (route.from_scheme != "http" && route.from_scheme != "https")
    fail("bad from scheme", route.from);
  if (route.id.size() != 16) fail("route id is not 16 hex digits", route.id);
  for (const auto& to : route.to) {
    if (to.port == 0 || to.host.empty() || to.weight == 0) fail("bad upstream", to.text);
    if (to.scheme != "http" && to.scheme != "https" && to.scheme != "h2c")
      fail("bad scheme", to.text);
  }
  if (route.response && (route.response->status < 100 || route.response->status > 599)) {
    fail("bad response status", route.from);
  }
  if (!route.path.empty() && !route.regex.empty()) fail("path and regex both set", route.from);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gatehouse::config::LoadResult result = gatehouse::config::loadText(text, "/nonexistent", {});
  for (const std::string& error : result.errors) {
    if (error.rfind("config: internal error", 0) == 0) fail("internal error", error);
  }
  if (result.options.has_value() != result.errors.empty()) {
    fail("options must be set exactly when there are no errors", text);
  }
  if (result.options) {
    const auto& options = *result.options;
    if (options.secrets.shared_secret.size() != 32 || options.secrets.cookie_secret.size() != 32) {
      fail("secrets must be 32 bytes", text);
    }
    for (const auto& route : options.routes) checkRoute(route);
  }
  return 0;
}

// Fuzzes normalizeTarget and checks the properties routing relies on: the
// path it returns is the one that gets matched and forwarded, so it must be
// absolute, free of dot segments, merged when asked, and stable (normalising
// it again changes nothing, or a second proxy hop could see another path).
// The shortcut for a target that normalising leaves as it is must give
// what the full normalisation gives.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http/path_normalizer.h"

namespace {

using gatehouse::http::EscapedSlashAction;
using gatehouse::http::NormalizedTarget;
using gatehouse::http::normalizeTarget;
using gatehouse::http::PathNormalizerOptions;
using gatehouse::http::PathVerdict;

[[noreturn]] void fail(const char* what, std::string_view target, std::string_view path) {
  std::fprintf(stderr, "invariant violated: %s\n  target: %.*s\n  path:   %.*s\n", what,
               static_cast<int>(target.size()), target.data(), static_cast<int>(path.size()),
               path.data());
  std::abort();
}

bool isDotSegment(std::string_view segment) {
  return segment == "." || segment == ".." || segment.substr(0, 2) == ".;" ||
         segment.substr(0, 3) == "..;";
}

void checkInvariants(std::string_view target, const PathNormalizerOptions& options) {
  const NormalizedTarget result = normalizeTarget(target, options);
  const NormalizedTarget full = gatehouse::http::detail::normalizeTargetInFull(target, options);
  if (result.verdict != full.verdict || result.path != full.path || result.query != full.query ||
      result.reason.empty() != full.reason.empty()) {
    fail("the shortcut and the full normalisation differ", target, result.path);
  }
  if (result.verdict == PathVerdict::kReject) {
    if (result.reason.empty()) fail("rejection without a reason", target, result.path);
    return;
  }
  const std::string_view path = result.path;
  if (path.empty() || path.front() != '/') fail("path does not start with '/'", target, path);
  if (path.find_first_of("?#") != std::string_view::npos) {
    fail("path contains '?' or '#'", target, path);
  }
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) fail("path contains a control byte or space", target, path);
  }
  if (options.normalize_path) {
    std::string_view rest = path.substr(1);
    while (true) {
      const size_t slash = rest.find('/');
      if (isDotSegment(rest.substr(0, slash))) fail("dot segment survived", target, path);
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (path.find('\\') != std::string_view::npos) fail("backslash survived", target, path);
  }
  if (options.merge_slashes && path.find("//") != std::string_view::npos) {
    fail("repeated slash survived", target, path);
  }
  if (result.verdict == PathVerdict::kRedirect &&
      options.escaped_slashes != EscapedSlashAction::kUnescapeAndRedirect) {
    fail("redirect without unescape_and_redirect", target, path);
  }

  const NormalizedTarget again = normalizeTarget(path, options);
  if (again.verdict != PathVerdict::kOk)
    fail("normalised path is not accepted again", target, path);
  if (again.path != result.path) fail("normalising twice changed the path", target, path);
  if (!again.query.empty()) fail("normalised path grew a query", target, path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the options, so that every combination is explored.
  const uint8_t flags = data[0];
  PathNormalizerOptions options;
  options.normalize_path = (flags & 1) == 0;
  options.merge_slashes = (flags & 2) == 0;
  options.escaped_slashes = static_cast<EscapedSlashAction>((flags >> 2) & 3);
  const std::string_view target(reinterpret_cast<const char*>(data + 1), size - 1);
  checkInvariants(target, options);
  return 0;
}

#pragma once

#include <string>
#include <string_view>

namespace gatehouse::http {

enum class EscapedSlashAction {
  kReject,               // 400 (default)
  kKeepUnchanged,        // leave %2F / %5C as they are
  kUnescapeAndForward,   // decode to '/' and '\\' then normalise
  kUnescapeAndRedirect,  // answer a redirect to the unescaped path
};

struct PathNormalizerOptions {
  // RFC 3986 section 6: dot segments, %-case, unreserved decoding, '\\' -> '/'
  bool normalize_path = true;
  bool merge_slashes = true;
  EscapedSlashAction escaped_slashes = EscapedSlashAction::kReject;
};

enum class PathVerdict {
  kOk,        // `path` is the one to match and forward
  kReject,    // 400 Bad Request: invalid characters, escaped slash with kReject, not origin-form
  kRedirect,  // kUnescapeAndRedirect and the path had escaped slashes: redirect to `path`
};

struct NormalizedTarget {
  PathVerdict verdict = PathVerdict::kOk;
  std::string path;    // normalised, always starts with '/'
  std::string query;   // raw query without the '?', "" if none; the fragment is dropped
  std::string reason;  // for kReject, a short explanation for logs
};

// Normalises an origin-form request target ("/a/b?x=1"). This is the single
// place where Gatehouse decides which path a request is for: routing, policy
// and the upstream all use the result (SECURITY.md: decide on exactly the
// bytes that will be forwarded).
NormalizedTarget normalizeTarget(std::string_view target, const PathNormalizerOptions& options);

namespace detail {
// The same without the shortcut for a target that normalising leaves as it
// is, for the fuzz target and tests that compare the two.
NormalizedTarget normalizeTargetInFull(std::string_view target,
                                       const PathNormalizerOptions& options);
}  // namespace detail

}  // namespace gatehouse::http

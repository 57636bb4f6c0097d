#include "http/path_normalizer.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace gatehouse::http {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 section 2.3: decoding these never changes what a URI means, so a
// canonical path carries them decoded (this is also what turns %2e%2e into a
// dot segment that is then resolved, rather than forwarded for the upstream
// to resolve after the policy saw something else).
bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Bytes no request line may carry raw: a proxy that forwarded them would let
// the upstream split or end the request line somewhere else than we did.
constexpr bool isForbiddenRaw(unsigned char c) { return c <= 0x20 || c == 0x7f; }

// Printable bytes that the Chromium canonicaliser (Envoy's normalize_path)
// percent-encodes in a path, plus every non-ASCII byte.
constexpr bool mustEscape(unsigned char c) {
  switch (c) {
    case '"':
    case '<':
    case '>':
    case '`':
    case '{':
    case '|':
    case '}':
      return true;
    default:
      return c >= 0x80;
  }
}

// A path byte that normalisation copies unchanged.
bool isKeptAsIs(unsigned char c, bool normalize) {
  return c != '%' && !(normalize && (c == '\\' || mustEscape(c)));
}

void appendEscaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kUpperHex[c >> 4]);
  out.push_back(kUpperHex[c & 0x0f]);
}

NormalizedTarget rejected(std::string reason) {
  NormalizedTarget result;
  result.verdict = PathVerdict::kReject;
  result.reason = std::move(reason);
  return result;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// "." and "..", and (as Envoy does since its ";" advisory) the same segments
// carrying path parameters: Tomcat-style upstreams read "/pub/..;x/admin" as
// "/admin", so such a segment must be resolved before matching too.
bool isCurrentSegment(std::string_view segment) {
  return segment == "." || startsWith(segment, ".;");
}
bool isParentSegment(std::string_view segment) {
  return segment == ".." || startsWith(segment, "..;");
}

// RFC 3986 section 5.2.4 on a path that starts with '/'. A ".." at the root
// stays at the root; a trailing "." or ".." leaves a trailing slash, as the
// Chromium canonicaliser does ("/a/b/.." -> "/a/").
//
// In place and without allocating: the output is never longer than what
// has been read, so each kept segment ("/" and its bytes) is moved down
// over the removed ones, and removing the last kept segment is cutting the
// output at its last '/'.
void removeDotSegments(std::string& path) {
  // Only a segment that starts with '.' can be a dot segment.
  if (path.find("/.") == std::string::npos) return;
  size_t write = 0;  // path[0, write) is the output so far
  size_t read = 1;   // the start of the segment after the leading '/'
  while (true) {
    const size_t slash = path.find('/', read);
    const bool last = slash == std::string::npos;
    const size_t end = last ? path.size() : slash;
    const std::string_view segment(path.data() + read, end - read);
    if (isCurrentSegment(segment)) {
      if (last) path[write++] = '/';
    } else if (isParentSegment(segment)) {
      const size_t cut = std::string_view(path.data(), write).rfind('/');
      if (cut != std::string_view::npos) write = cut;
      if (last) path[write++] = '/';
    } else {
      // write < read here, so neither the '/' nor the move clobbers bytes
      // not yet read.
      path[write++] = '/';
      std::memmove(path.data() + write, path.data() + read, segment.size());
      write += segment.size();
    }
    if (last) break;
    read = slash + 1;
  }
  path.resize(write);
}

void mergeSlashes(std::string& path) {
  size_t write = 0;
  for (size_t read = 0; read < path.size(); ++read) {
    if (path[read] == '/' && write > 0 && path[write - 1] == '/') continue;
    path[write++] = path[read];
  }
  path.resize(write);
}

// Path bytes that normalisation never changes, whatever the options: not
// forbidden raw, not '%', '\\' or a byte to escape, not the '?' or '#' that
// ends the path.
constexpr auto kPlainPathByte = [] {
  std::array<bool, 256> table{};
  for (int c = 0x21; c < 0x80; ++c) {
    const auto b = static_cast<unsigned char>(c);
    table[b] =
        !isForbiddenRaw(b) && b != '%' && b != '\\' && !mustEscape(b) && b != '?' && b != '#';
  }
  return table;
}();

}  // namespace

NormalizedTarget normalizeTarget(std::string_view target, const PathNormalizerOptions& options) {
  // The usual target: a path of plain bytes with no segment that starts
  // with '.' and no doubled slash, which normalising leaves as it is, and
  // a query (or nothing) after it. The rest of the target is checked as the
  // full normalisation checks it.
  if (target.empty() || target.front() != '/') return rejected("request target is not origin-form");
  const char* t = target.data();
  const size_t n = target.size();
  size_t i = 0;
  while (i < n && kPlainPathByte[static_cast<unsigned char>(t[i])]) {
    if (t[i] == '/' && i + 1 < n && (t[i + 1] == '/' || t[i + 1] == '.')) break;
    ++i;
  }
  if (i == n || t[i] == '?' || t[i] == '#') {
    size_t query_end = n;
    for (size_t j = i; j < n; ++j) {
      const auto c = static_cast<unsigned char>(t[j]);
      if (isForbiddenRaw(c)) return rejected("control character or space in request target");
      if (c == '#' && query_end == n) query_end = j;
    }
    NormalizedTarget result;
    result.path.assign(t, i);
    if (i < n && t[i] == '?') result.query.assign(t + i + 1, query_end - i - 1);
    return result;
  }
  return detail::normalizeTargetInFull(target, options);
}

namespace detail {

NormalizedTarget normalizeTargetInFull(std::string_view target,
                                       const PathNormalizerOptions& options) {
  if (target.empty() || target.front() != '/') return rejected("request target is not origin-form");
  // The path ends at the first '?' or '#'; a fragment is never sent to the
  // upstream and never takes part in matching (a '#' inside the query ends
  // the query too). One pass finds it and checks every byte.
  size_t path_end = std::string_view::npos;
  for (size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (isForbiddenRaw(c)) return rejected("control character or space in request target");
    if ((c == '?' || c == '#') && path_end == std::string_view::npos) path_end = i;
  }

  NormalizedTarget result;
  const std::string_view raw_path = target.substr(0, path_end);
  if (path_end != std::string_view::npos && target[path_end] == '?') {
    std::string_view query = target.substr(path_end + 1);
    query = query.substr(0, query.find('#'));
    result.query.assign(query);
  }

  const bool normalize = options.normalize_path;
  bool found_escaped_slash = false;
  std::string path;
  path.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw_path[i]);
    if (c == '%') {
      if (i + 2 >= raw_path.size()) {
        return rejected("malformed percent-encoding in path");
      }
      const int high = hexValue(raw_path[i + 1]);
      const int low = hexValue(raw_path[i + 2]);
      if (high < 0 || low < 0) return rejected("malformed percent-encoding in path");
      const auto decoded = static_cast<unsigned char>(high * 16 + low);
      // A decoded NUL truncates the path in any upstream written in C.
      if (decoded == 0) return rejected("encoded NUL in path");
      if (decoded == '/' || decoded == '\\') {
        // Whether "%2F" separates segments is up to each upstream, so by
        // default it is refused rather than guessed (SECURITY.md).
        switch (options.escaped_slashes) {
          case EscapedSlashAction::kReject:
            return rejected("escaped slash or backslash in path");
          case EscapedSlashAction::kKeepUnchanged:
            if (normalize) {
              appendEscaped(path, decoded);
            } else {
              path.append(raw_path.substr(i, 3));
            }
            break;
          case EscapedSlashAction::kUnescapeAndForward:
          case EscapedSlashAction::kUnescapeAndRedirect:
            found_escaped_slash = true;
            path.push_back(normalize ? '/' : static_cast<char>(decoded));
            break;
        }
      } else if (!normalize) {
        path.append(raw_path.substr(i, 3));
      } else if (isUnreserved(decoded)) {
        path.push_back(static_cast<char>(decoded));
      } else {
        appendEscaped(path, decoded);
      }
      i += 2;
    } else if (normalize && c == '\\') {
      // Browsers treat '\' as '/', and so does Envoy's canonicaliser.
      path.push_back('/');
    } else if (normalize && mustEscape(c)) {
      appendEscaped(path, c);
    } else {
      // Most of a path is bytes kept as they are: append the whole run.
      size_t end = i + 1;
      while (end < raw_path.size() &&
             isKeptAsIs(static_cast<unsigned char>(raw_path[end]), normalize)) {
        ++end;
      }
      path.append(raw_path.substr(i, end - i));
      i = end - 1;
    }
  }

  if (normalize) removeDotSegments(path);
  if (options.merge_slashes) mergeSlashes(path);

  result.path = std::move(path);
  if (found_escaped_slash && options.escaped_slashes == EscapedSlashAction::kUnescapeAndRedirect) {
    result.verdict = PathVerdict::kRedirect;
  }
  return result;
}

}  // namespace detail

}  // namespace gatehouse::http

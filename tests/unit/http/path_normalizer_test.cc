#include "http/path_normalizer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace gatehouse::http {
namespace {

NormalizedTarget normalize(std::string_view target, PathNormalizerOptions options = {}) {
  return normalizeTarget(target, options);
}

PathNormalizerOptions withEscapedSlashes(EscapedSlashAction action) {
  PathNormalizerOptions options;
  options.escaped_slashes = action;
  return options;
}

void expectPath(std::string_view target, std::string_view expected,
                PathNormalizerOptions options = {}) {
  const NormalizedTarget result = normalizeTarget(target, options);
  EXPECT_EQ(result.verdict, PathVerdict::kOk) << target << ": " << result.reason;
  EXPECT_EQ(result.path, expected) << target;
}

void expectReject(std::string_view target, PathNormalizerOptions options = {}) {
  const NormalizedTarget result = normalizeTarget(target, options);
  EXPECT_EQ(result.verdict, PathVerdict::kReject) << target << " -> " << result.path;
  EXPECT_FALSE(result.reason.empty()) << target;
}

TEST(PathNormalizerTest, TheShortcutGivesWhatTheFullNormalisationGives) {
  // Targets on both sides of the shortcut's conditions, under every
  // combination of options.
  const std::vector<std::string> targets = {
      "/",        "/a/b/c",   "/a/b?x=1&y=/./",   "/a?",      "/a#frag",
      "/a?q#f",   "/a?q#f#g", "/a?q\x01",         "/a#f\x7f", "/a b",
      "/a//b",    "/a/./b",   "/a/../b",          "/.hidden", "/a/.",
      "/a/b.",    "/a.b/c",   "/a%2Fb",           "/a%41",    "/a\\b",
      "/a\"b",    "/a{b}",    "/caf\xc3\xa9",     "//",       "/a/",
      "/a;b=c/d", "/a?b?c",   "/~user/x_y-z.txt", "/a/b//",   "/a/b#/../c",
      "/a\x7f",   "/a\tb",    "/a?x=%zz",         "*",        "",
  };
  for (const std::string& target : targets) {
    for (int flags = 0; flags < 16; ++flags) {
      PathNormalizerOptions options;
      options.normalize_path = (flags & 1) == 0;
      options.merge_slashes = (flags & 2) == 0;
      options.escaped_slashes = static_cast<EscapedSlashAction>((flags >> 2) & 3);
      const NormalizedTarget quick = normalizeTarget(target, options);
      const NormalizedTarget full = detail::normalizeTargetInFull(target, options);
      EXPECT_EQ(quick.verdict, full.verdict) << target << " " << flags;
      EXPECT_EQ(quick.path, full.path) << target << " " << flags;
      EXPECT_EQ(quick.query, full.query) << target << " " << flags;
      EXPECT_EQ(quick.reason, full.reason) << target << " " << flags;
    }
  }
}

TEST(PathNormalizerTest, AlreadyNormalPathsAreUnchanged) {
  for (const char* path : {"/", "/xyz", "/x/y/z", "/a/b/", "/A/B/C", "/a.b/c-d_e~f", "/a;b=c/d",
                           "/file.txt", "/.hidden", "/a/...", "/a/..b", "/a/b.."}) {
    expectPath(path, path);
  }
}

TEST(PathNormalizerTest, DotSegmentsAreResolvedBeforeMatching) {
  expectPath("/pub/../admin", "/admin");
  expectPath("/a/./b/../c", "/a/c");
  expectPath("/a/b/./c", "/a/b/c");
  expectPath("/a/b/../../../../c", "/c");
  expectPath("/../x", "/x");
  expectPath("/..", "/");
  expectPath("/.", "/");
  expectPath("/a/b/..", "/a/");
  expectPath("/a/b/.", "/a/b/");
  expectPath("/a/b/../", "/a/");
  expectPath("/pub/./../admin/./x", "/admin/x");
}

TEST(PathNormalizerTest, EncodedDotSegmentsAreDecodedThenResolved) {
  expectPath("/pub/%2e%2e/admin", "/admin");
  expectPath("/pub/%2E%2e/admin", "/admin");
  expectPath("/pub/%2E%2E/admin", "/admin");
  expectPath("/pub/.%2e/admin", "/admin");
  expectPath("/pub/%2e./admin", "/admin");
  expectPath("/pub/%2e/admin", "/pub/admin");
  expectPath("/a/b/%2E%2E/c", "/a/c");
  // A double-encoded dot is a literal "%2e" for the upstream too: no
  // decoding beyond one level.
  expectPath("/pub/%252e%252e/admin", "/pub/%252e%252e/admin");
}

TEST(PathNormalizerTest, DotSegmentsWithParametersAreResolved) {
  // Tomcat and Jetty read "..;x" as "..", so Envoy resolves them too.
  expectPath("/pub/..;/admin", "/admin");
  expectPath("/xyz/..;foo=bar/abc", "/abc");
  expectPath("/..;foo=bar/abc", "/abc");
  expectPath("/xyz/..;foo=bar", "/");
  expectPath("/xyz/.;foo=bar/abc", "/xyz/abc");
  expectPath("/xyz/.;foo=bar", "/xyz/");
  expectPath("/xyz/..;foo=bar/.;v1=2,v2=3/abc", "/abc");
  expectPath("/xyz/...;foo", "/xyz/...;foo");
  expectPath("/xyz/..foo", "/xyz/..foo");
}

TEST(PathNormalizerTest, UnreservedEscapesAreDecodedOthersUpperCased) {
  expectPath("/%41%62%7e%5f%2d%30", "/Ab~_-0");
  expectPath("/a%2cb", "/a%2Cb");
  expectPath("/%c0%af", "/%C0%AF");
  expectPath("/%25", "/%25");
  expectPath("/a%20b", "/a%20b");
  expectPath("/a%3fb", "/a%3Fb");  // an encoded '?' stays in the path
  expectPath("/a%23b", "/a%23b");  // and so does an encoded '#'
}

TEST(PathNormalizerTest, CharactersTheCanonicaliserEscapes) {
  expectPath("/a\"b<c>d`e{f|g}h", "/a%22b%3Cc%3Ed%60e%7Bf%7Cg%7Dh");
  expectPath("/caf\xc3\xa9", "/caf%C3%A9");
  // Characters that pass through unchanged.
  expectPath("/a!$&'()*+,;=:@b[c]^", "/a!$&'()*+,;=:@b[c]^");
}

TEST(PathNormalizerTest, BackslashIsASlash) {
  expectPath("/a\\b", "/a/b");
  expectPath("/a/..\\c", "/c");
  expectPath("/pub\\..\\admin", "/admin");
  expectPath("/\\evil", "/evil");
  expectReject("\\a");  // not origin-form: the target must start with '/'
}

TEST(PathNormalizerTest, RepeatedSlashesAreMerged) {
  expectPath("//a///b", "/a/b");
  expectPath("//", "/");
  expectPath("///", "/");
  expectPath("/a/b//", "/a/b/");
  expectPath("/a//../b", "/a/b");
  expectPath("//admin", "/admin");
  // Merging happens after dot segments are resolved, as in Envoy.
  expectPath("/a/.//b", "/a/b");
}

TEST(PathNormalizerTest, MergeSlashesCanBeTurnedOff) {
  PathNormalizerOptions options;
  options.merge_slashes = false;
  expectPath("//a///b", "//a///b", options);
  expectPath("/a//../b", "/a/b", options);
}

TEST(PathNormalizerTest, NormalizePathCanBeTurnedOff) {
  PathNormalizerOptions options;
  options.normalize_path = false;
  expectPath("/pub/../admin", "/pub/../admin", options);
  expectPath("/pub/%2e%2e/admin", "/pub/%2e%2e/admin", options);
  expectPath("/a\\b", "/a\\b", options);
  expectPath("//a//b", "/a/b", options);
  // Validation still applies.
  expectReject("/a%zz", options);
  expectReject("/a%00", options);
  expectReject("/a%2Fb", options);
}

TEST(PathNormalizerTest, QueryIsKeptRawAndNeverNormalised) {
  NormalizedTarget result = normalize("/a/../b?x=../../y&z=%2F%2e%2e//w");
  EXPECT_EQ(result.verdict, PathVerdict::kOk);
  EXPECT_EQ(result.path, "/b");
  EXPECT_EQ(result.query, "x=../../y&z=%2F%2e%2e//w");

  result = normalize("/pub?next=/../admin");
  EXPECT_EQ(result.path, "/pub");
  EXPECT_EQ(result.query, "next=/../admin");

  // A malformed escape in the query is the application's business.
  result = normalize("/a?q=%zz");
  EXPECT_EQ(result.verdict, PathVerdict::kOk);
  EXPECT_EQ(result.query, "q=%zz");

  result = normalize("/a?");
  EXPECT_EQ(result.path, "/a");
  EXPECT_EQ(result.query, "");

  result = normalize("/a??b");
  EXPECT_EQ(result.query, "?b");
}

TEST(PathNormalizerTest, FragmentIsDropped) {
  NormalizedTarget result = normalize("/a#frag");
  EXPECT_EQ(result.verdict, PathVerdict::kOk);
  EXPECT_EQ(result.path, "/a");
  EXPECT_EQ(result.query, "");

  result = normalize("/a?x=1#frag");
  EXPECT_EQ(result.path, "/a");
  EXPECT_EQ(result.query, "x=1");

  result = normalize("/a#frag?x=1");
  EXPECT_EQ(result.path, "/a");
  EXPECT_EQ(result.query, "");

  // The fragment cannot smuggle a dot segment or escaped slash into play.
  result = normalize("/pub#/../admin");
  EXPECT_EQ(result.path, "/pub");
  result = normalize("/pub#%2F");
  EXPECT_EQ(result.verdict, PathVerdict::kOk);
  EXPECT_EQ(result.path, "/pub");
}

TEST(PathNormalizerTest, NonOriginFormIsRejected) {
  expectReject("");
  expectReject("*");
  expectReject("http://example.com/a");
  expectReject("a/b");
  expectReject("?x=1");
}

TEST(PathNormalizerTest, ControlCharactersAndSpacesAreRejected) {
  expectReject(std::string_view("/a\0b", 4));
  expectReject("/a b");
  expectReject("/a\tb");
  expectReject("/a\rb");
  expectReject("/a\nb");
  expectReject("/a\x7f");
  expectReject("/a?x=1 2");
  expectReject("/a?x=\x01");
  expectReject("/a#x y");
}

TEST(PathNormalizerTest, EncodedNulAndMalformedEscapesAreRejected) {
  expectReject("/a%00b");
  expectReject("/xyz/.%00../abc");
  expectReject("/xyz/AAAAA%%0000/abc");
  expectReject("/a%");
  expectReject("/a%2");
  expectReject("/a%g0");
  expectReject("/a%0g");
  expectReject("/%%41");
}

TEST(PathNormalizerTest, EscapedSlashesAreRejectedByDefault) {
  for (const char* target : {"/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5cb", "/pub%2F..%2Fadmin",
                             "/pub/..%2Fadmin", "/%2F%2F", "/x%2f?y"}) {
    expectReject(target);
  }
  // An escaped percent followed by "2F" is not an escaped slash.
  expectPath("/a%252Fb", "/a%252Fb");
}

TEST(PathNormalizerTest, EscapedSlashesKeptUnchanged) {
  const auto options = withEscapedSlashes(EscapedSlashAction::kKeepUnchanged);
  expectPath("/a%2fb", "/a%2Fb", options);
  expectPath("/a%5cb", "/a%5Cb", options);
  // Still one segment: "..%2F" is not a dot segment.
  expectPath("/pub/..%2Fadmin", "/pub/..%2Fadmin", options);
  expectPath("/a/%2F%2f/c", "/a/%2F%2F/c", options);
  PathNormalizerOptions raw = options;
  raw.normalize_path = false;
  expectPath("/a%2fb", "/a%2fb", raw);
}

TEST(PathNormalizerTest, EscapedSlashesUnescapedAndForwarded) {
  const auto options = withEscapedSlashes(EscapedSlashAction::kUnescapeAndForward);
  expectPath("/a%2Fb", "/a/b", options);
  expectPath("/a%5Cb", "/a/b", options);
  expectPath("/pub%2F..%2Fadmin", "/admin", options);
  expectPath("/pub%5C..%5Cadmin", "/admin", options);
  expectPath("/a%2F%2Fb", "/a/b", options);
  expectPath("/x/%2E%2e/z%2f%2Fabc%5C../def", "/z/def", options);
}

TEST(PathNormalizerTest, EscapedSlashesUnescapedAndRedirected) {
  const auto options = withEscapedSlashes(EscapedSlashAction::kUnescapeAndRedirect);
  NormalizedTarget result = normalizeTarget("/pub%2F..%2Fadmin?x=1", options);
  EXPECT_EQ(result.verdict, PathVerdict::kRedirect);
  EXPECT_EQ(result.path, "/admin");
  EXPECT_EQ(result.query, "x=1");

  result = normalizeTarget("/a%5cb", options);
  EXPECT_EQ(result.verdict, PathVerdict::kRedirect);
  EXPECT_EQ(result.path, "/a/b");

  // Without escaped slashes there is nothing to redirect for, even when the
  // path changed otherwise.
  result = normalizeTarget("/a/../b", options);
  EXPECT_EQ(result.verdict, PathVerdict::kOk);
  EXPECT_EQ(result.path, "/b");
}

TEST(PathNormalizerTest, NormalisingTwiceChangesNothing) {
  const std::vector<std::pair<std::string, EscapedSlashAction>> cases = {
      {"/pub/%2e%2e/admin", EscapedSlashAction::kReject},
      {"/a//b/./c/..//%7e%41%c3%A9", EscapedSlashAction::kReject},
      {"/a/%2f/../%5C..", EscapedSlashAction::kKeepUnchanged},
      {"/a%2f..%2f..%2fb", EscapedSlashAction::kUnescapeAndForward},
      {"/a%2f..%2f..%2fb", EscapedSlashAction::kUnescapeAndRedirect},
      {"/x/..;y/.;z//w\\v", EscapedSlashAction::kReject},
  };
  for (const auto& [target, action] : cases) {
    const auto options = withEscapedSlashes(action);
    const NormalizedTarget first = normalizeTarget(target, options);
    ASSERT_NE(first.verdict, PathVerdict::kReject) << target;
    const NormalizedTarget second = normalizeTarget(first.path, options);
    EXPECT_EQ(second.verdict, PathVerdict::kOk) << target;
    EXPECT_EQ(second.path, first.path) << target;
  }
}

}  // namespace
}  // namespace gatehouse::http

#include "config/yaml_node.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace gatehouse::config {
namespace {

YamlNode parseOk(std::string_view text) {
  YamlParse parsed = YamlNode::parse(text);
  EXPECT_FALSE(parsed.error) << parsed.error->message;
  return parsed.root;
}

const YamlNode& value(const YamlNode& map, std::string_view key) {
  for (const auto& [k, v] : map.entries()) {
    if (k.scalar() == key) return v;
  }
  static const YamlNode kMissing;
  return kMissing;
}

TEST(YamlNodeTest, PlainUntaggedNullsAreNull) {
  YamlNode root = parseOk("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\ng: \"null\"\nh: nul\n");
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    EXPECT_TRUE(value(root, key).isNull()) << key;
  }
  EXPECT_TRUE(value(root, "f").isScalar());
  EXPECT_EQ(value(root, "f").scalar(), "");
  EXPECT_TRUE(value(root, "g").isScalar());
  EXPECT_EQ(value(root, "g").scalar(), "null");
  EXPECT_EQ(value(root, "h").scalar(), "nul");
}

TEST(YamlNodeTest, QuotedBlockAndBangTaggedScalarsAreForcedStrings) {
  YamlNode root = parseOk("a: 1\nb: '1'\nc: \"1\"\nd: |\n  1\ne: ! 1\nf: !!str 1\n");
  EXPECT_FALSE(value(root, "a").forcedString());
  EXPECT_TRUE(value(root, "b").forcedString());
  EXPECT_TRUE(value(root, "c").forcedString());
  EXPECT_TRUE(value(root, "d").forcedString());
  EXPECT_EQ(value(root, "d").scalar(), "1\n");
  EXPECT_TRUE(value(root, "e").forcedString());
  // As yaml-cpp did: only the non-specific tag forces a string.
  EXPECT_FALSE(value(root, "f").forcedString());
}

TEST(YamlNodeTest, MapsKeepDocumentOrderAndDuplicates) {
  YamlNode root = parseOk("z: 1\na: 2\nz: 3\n");
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root.entries()[0].first.scalar(), "z");
  EXPECT_EQ(root.entries()[1].first.scalar(), "a");
  EXPECT_EQ(root.entries()[2].second.scalar(), "3");
}

TEST(YamlNodeTest, SequencesAndJson) {
  YamlNode root = parseOk(R"({"routes": [{"from": "https://a", "to": ["http://b", "http://c"]}]})");
  const YamlNode& routes = value(root, "routes");
  ASSERT_TRUE(routes.isSequence());
  ASSERT_EQ(routes.size(), 1u);
  const YamlNode& to = value(routes[0], "to");
  ASSERT_EQ(to.size(), 2u);
  EXPECT_EQ(to[1].scalar(), "http://c");
  EXPECT_TRUE(to[1].forcedString());
  EXPECT_FALSE(to[2].isDefined());
  EXPECT_FALSE(root[0].isDefined());
}

TEST(YamlNodeTest, AliasesShareTheAnchoredNode) {
  YamlNode root = parseOk("base: &b {x: 1}\nuse: *b\nlist: [&s hello, *s]\n");
  EXPECT_EQ(value(value(root, "use"), "x").scalar(), "1");
  EXPECT_EQ(value(root, "list")[1].scalar(), "hello");
}

TEST(YamlNodeTest, AnAliasToAnUnfinishedOrUnknownAnchorIsAnError) {
  YamlParse cycle = YamlNode::parse("a: &x\n  b: *x\n");
  ASSERT_TRUE(cycle.error);
  EXPECT_EQ(cycle.error->message, "unknown anchor x");
  EXPECT_EQ(cycle.error->line, 2u);
  EXPECT_TRUE(YamlNode::parse("a: *nothing\n").error);
}

TEST(YamlNodeTest, EmptyDocumentIsNullAndOnlyTheFirstDocumentIsRead) {
  EXPECT_TRUE(parseOk("").isNull());
  EXPECT_TRUE(parseOk("# only a comment\n").isNull());
  YamlNode root = parseOk("a: 1\n---\nb: [\n");
  EXPECT_EQ(root.size(), 1u);
}

TEST(YamlNodeTest, SyntaxErrorsHaveLineAndColumn) {
  YamlParse parsed = YamlNode::parse("a: b\n  c: d\n");
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->line, 2u);
  EXPECT_EQ(parsed.error->column, 4u);
  EXPECT_EQ(parsed.error->message, "mapping values are not allowed in this context");
}

TEST(YamlNodeTest, DeepNestingIsRefused) {
  std::string deep(YamlNode::kMaxDepth + 1, '[');
  YamlParse parsed = YamlNode::parse(deep);
  ASSERT_TRUE(parsed.error);
  EXPECT_EQ(parsed.error->message, "nested more than 256 levels deep");
  std::string ok(YamlNode::kMaxDepth, '[');
  ok += std::string(YamlNode::kMaxDepth, ']');
  EXPECT_FALSE(YamlNode::parse(ok).error);
}

// Documents in the plain block subset: the line reader accepts them and
// reads the tree libyaml reads.
TEST(YamlNodeTest, TheBlockReaderReadsConfigShapesAsLibyamlDoes) {
  const char* documents[] = {
      "",
      "# only a comment\n\n",
      "a: 1\nb: two words  # comment\nc: http://127.0.0.1:8080/x#frag\n",
      ("routes:\n  - from: https://a.example\n    to: http://127.0.0.1:1\n"
       "    allow_public_unauthenticated_access: true\n  - from: https://b.example\n"),
      "routes:\n- from: a\n  to:\n  - http://1\n  - http://2\nnext: x\n",
      "-   a: 1\n    b: 2\n-\n- c\n- 'it''s' # quoted\n- \"tab\\tslash\\\\quote\\\"\"\n",
      "a:\n  # comment at any indentation\n    b: ~\n    c: null\n    d:\ne: Null\n",
      "regex: ^/re/[0-9]+$\nprefix: /api/{x}\nkey with spaces: v a l\n~: null key\n",
      "a: ''\nb: \"\"\n'quoted key': 1\n\"dq key\": 2\nc: a#b\nd: x:y\n",
      "  indented: root\n  second: 2\n",
      "a:\n- b\n- c:\n  - d\n  e: f\n",
      "a: 1\na: 2\n",
  };
  for (const char* text : documents) {
    std::optional<YamlNode> block = YamlNode::parseBlock(text);
    ASSERT_TRUE(block) << text;
    YamlParse events = YamlNode::parseEvents(text);
    ASSERT_FALSE(events.error) << text;
    EXPECT_TRUE(block->sameTree(events.root)) << text;
  }
  YamlNode root = *YamlNode::parseBlock("a:\n- b\n- c:\n  - d\n  e: 'x''y'\n-\n");
  const YamlNode& a = value(root, "a");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].scalar(), "b");
  EXPECT_EQ(value(a[1], "c")[0].scalar(), "d");
  EXPECT_EQ(value(a[1], "e").scalar(), "x'y");
  EXPECT_TRUE(value(a[1], "e").forcedString());
  EXPECT_TRUE(a[2].isNull());
}

// Everything else goes to libyaml, which also reports the errors.
TEST(YamlNodeTest, TheBlockReaderLeavesEverythingElseToLibyaml) {
  const char* documents[] = {
      "a: [1, 2]\n",
      "{\"a\": 1}\n",
      "a: |\n  text\n",
      "a: >\n  text\n",
      "a: &x 1\nb: *x\n",
      "a: !!str 1\n",
      "a: plain\n  continued\n",
      "a: 'quoted\n  continued'\n",
      "a:\tb\n",
      "a: b\r\n",
      "a: caf\xc3\xa9\n",
      "a: \"\\x41\"\n",
      "---\na: 1\n",
      "a: -1\n",
      "- - a\n",
      "? a\n: b\n",
      "a: b: c\n",
      "a : b\n",
      "a:\n  b: 1\n c: 2\n",
      "just a scalar\n",
  };
  for (const char* text : documents) {
    EXPECT_FALSE(YamlNode::parseBlock(text)) << text;
  }
  EXPECT_FALSE(YamlNode::parseBlock(std::string(1001, 'k') + ": v\n"));
  EXPECT_EQ(value(parseOk("a: plain\n  continued\n"), "a").scalar(), "plain continued");
  EXPECT_EQ(value(parseOk("a: \"\\x41\"\n"), "a").scalar(), "A");
  YamlParse bad = YamlNode::parse("a: b: c\n");
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->line, 1u);
  // Nesting past kMaxDepth in block style is refused too.
  std::string deep;
  for (size_t i = 0; i <= YamlNode::kMaxDepth; ++i) deep += std::string(i, ' ') + "k:\n";
  EXPECT_FALSE(YamlNode::parseBlock(deep));
  EXPECT_TRUE(YamlNode::parse(deep).error);
}

TEST(YamlNodeTest, SameTreeComparesTypeTextFlagsAndOrder) {
  EXPECT_TRUE(parseOk("a: [1, {b: c}]").sameTree(parseOk("a:\n- 1\n- b: c\n")));
  EXPECT_FALSE(parseOk("a: 1").sameTree(parseOk("a: '1'")));
  EXPECT_FALSE(parseOk("a: 1").sameTree(parseOk("a: 2")));
  EXPECT_FALSE(parseOk("a: ~").sameTree(parseOk("a: ''")));
  EXPECT_FALSE(parseOk("a: 1\nb: 2").sameTree(parseOk("b: 2\na: 1")));
  EXPECT_FALSE(parseOk("a: [1]").sameTree(parseOk("a: {1: ~}")));
}

TEST(YamlNodeTest, WithEntryReplacesOrAppendsWithoutChangingTheOriginal) {
  YamlNode root = parseOk("ca: a\ncrl: b\n");
  YamlNode changed =
      root.withEntry("ca", YamlNode::fromText("z")).withEntry("new", YamlNode::null());
  EXPECT_EQ(value(root, "ca").scalar(), "a");
  EXPECT_EQ(root.size(), 2u);
  EXPECT_EQ(value(changed, "ca").scalar(), "z");
  EXPECT_FALSE(value(changed, "ca").forcedString());
  EXPECT_TRUE(value(changed, "new").isNull());
  EXPECT_EQ(changed.size(), 3u);
  EXPECT_EQ(YamlNode::emptyMap().withEntry("k", YamlNode::fromText("v")).size(), 1u);
}

}  // namespace
}  // namespace gatehouse::config

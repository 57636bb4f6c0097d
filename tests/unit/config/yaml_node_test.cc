#include "config/yaml_node.h"

#include <gtest/gtest.h>

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

#pragma once

// A parsed YAML (or JSON) document as a small immutable tree, built by a
// line reader for the plain block subset (src/config/yaml_block.cc), else
// from libyaml's event stream. A config of 10,000 routes is about a
// hundred thousand nodes; yaml-cpp's node graph (a shared_ptr and a
// std::map per node, freed one by one) cost most of a second to build and
// free.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::config {

struct YamlParse;

// Where and why a document did not parse (line and column from 1).
struct YamlError {
  size_t line = 0;
  size_t column = 0;
  std::string message;
};

class YamlNode {
 public:
  enum class Type : unsigned char {
    kUndefined,  // a value that is not there (default-constructed)
    kNull,       // empty, ~ or null (plain, untagged)
    kScalar,
    kSequence,
    kMap,
  };
  using Entry = std::pair<YamlNode, YamlNode>;

  YamlNode() = default;

  // The first document of `text`. An empty document is a null node. Nesting
  // deeper than kMaxDepth is an error, so that neither building nor freeing
  // the tree can exhaust the stack.
  static YamlParse parse(std::string_view text);
  static constexpr size_t kMaxDepth = 256;

  // The two readings parse() chooses between. parseBlock reads the plain
  // block subset that configs are written in (block maps and sequences,
  // one-line plain and quoted scalars, comments; ASCII, LF line ends)
  // without libyaml, and gives nullopt for anything else, errors included.
  // parseEvents is libyaml's reading of any document.
  // Where parseBlock gives a tree, parseEvents gives the same one (a fuzz
  // target holds them together).
  static std::optional<YamlNode> parseBlock(std::string_view text);
  static YamlParse parseEvents(std::string_view text);

  // The same type, text, forced-string flag, items and entries, all the
  // way down.
  bool sameTree(const YamlNode& other) const;

  static YamlNode null();
  // A scalar that resolves like a plain one (environment values).
  static YamlNode fromText(std::string text);
  static YamlNode emptyMap();
  // A copy of this map with `key` set to `value` (replaced where a key of
  // that exact text exists, else appended).
  YamlNode withEntry(const std::string& key, YamlNode value) const;

  Type type() const { return data_ ? data_->type : Type::kUndefined; }
  bool isDefined() const { return type() != Type::kUndefined; }
  bool isNull() const { return type() == Type::kNull; }
  bool isScalar() const { return type() == Type::kScalar; }
  bool isSequence() const { return type() == Type::kSequence; }
  bool isMap() const { return type() == Type::kMap; }

  // The text of a scalar ("" for anything else).
  const std::string& scalar() const;
  // A quoted or block scalar, or one tagged "!": always a string, never a
  // number, a bool or null.
  bool forcedString() const { return data_ && data_->forced_string; }
  // Sequence items, in order (empty for anything else).
  const std::vector<YamlNode>& items() const;
  // Map entries, in document order, duplicates kept (empty for anything else).
  const std::vector<Entry>& entries() const;
  // Items of a sequence, entries of a map, 0 otherwise.
  size_t size() const;
  // Item `i` of a sequence (undefined when out of range or not a sequence).
  const YamlNode& operator[](size_t i) const;

 private:
  friend class YamlBuilder;
  friend class BlockReader;
  struct Data {
    Type type = Type::kUndefined;
    bool forced_string = false;
    std::string text;
    std::vector<YamlNode> items;
    std::vector<Entry> entries;
  };
  explicit YamlNode(std::shared_ptr<Data> data) : data_(std::move(data)) {}
  // YAML 1.2 core schema nulls: only plain, untagged scalars.
  static bool isNullText(std::string_view text) {
    return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
  }

  // Shared: an alias refers to its anchor's node, and copies are cheap.
  std::shared_ptr<const Data> data_;
};

struct YamlParse {
  YamlNode root;  // the document, when error is empty
  std::optional<YamlError> error;
};

}  // namespace gatehouse::config

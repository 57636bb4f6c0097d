// The plain block subset of YAML, read without libyaml.
//
// A config file is almost always block maps and sequences of one-line
// scalars. libyaml allocates every token and event of such a file and
// decodes it character by character: most of a 10,000-route reload. This
// reader takes the file line by line and builds the same tree directly.
// Whatever it is not sure of makes it give up, and libyaml reads the
// document instead: flow collections, block scalars, anchors, tags, the
// rarer escapes, multi-line scalars, tabs, CR, non-ASCII bytes, document
// markers, and errors of any kind. So it never has to be right about
// anything it does not accept, and tests/fuzz/yaml_block_fuzz.cc checks
// that libyaml reads what it accepts to the same tree.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_node.h"

namespace gatehouse::config {
namespace {

// libyaml refuses a simple key longer than 1024 characters; the subset stays
// clear of that limit.
constexpr size_t kMaxKeyLength = 1000;

// A character that may not start a plain scalar in this subset: YAML's
// indicators, the quotes (read separately) included.
bool isIndicator(char c) {
  switch (c) {
    case '-':
    case '?':
    case ':':
    case ',':
    case '[':
    case ']':
    case '{':
    case '}':
    case '#':
    case '&':
    case '*':
    case '!':
    case '|':
    case '>':
    case '\'':
    case '"':
    case '%':
    case '@':
    case '`':
      return true;
    default:
      return false;
  }
}

}  // namespace

class BlockReader {
 public:
  std::optional<YamlNode> run(std::string_view text) {
    for (char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\n') || byte >= 0x7f) return std::nullopt;
    }
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      size_t indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos || line[indent] == '#') continue;  // blank, comment
      if (indent == 0 && (line.starts_with("---") || line.starts_with("..."))) return std::nullopt;
      // A line indented past a scalar's would continue that scalar.
      if (scalar_ended_ && !stack_.empty() && indent > stack_.back().indent) return std::nullopt;
      if (!line_(indent, line.substr(indent))) return std::nullopt;
    }
    if (root_.isDefined()) {
      if (!stack_.empty() && stack_.back().pending) closePending(stack_.back());
      return std::move(root_);
    }
    return YamlNode::null();
  }

 private:
  struct Frame {
    size_t indent;
    std::shared_ptr<YamlNode::Data> data;
    // A map's key, or a sequence's "-", whose value has not come yet.
    bool pending = false;
    YamlNode key;
  };

  // One content line, `content` starting at column `indent`.
  bool line_(size_t indent, std::string_view content) {
    const bool item = content[0] == '-' && (content.size() == 1 || content[1] == ' ');
    if (!stack_.empty() && stack_.back().pending) {
      Frame& top = stack_.back();
      // A sequence may sit at its key's own indentation.
      const bool nested = indent > top.indent ||
                          (item && top.data->type == YamlNode::Type::kMap && indent == top.indent);
      if (nested) {
        if (!open(indent, item ? YamlNode::Type::kSequence : YamlNode::Type::kMap)) return false;
      } else {
        closePending(top);
      }
    }
    while (!stack_.empty() && stack_.back().indent > indent) stack_.pop_back();
    // A key at the indentation of a sequence that is its parent's value
    // ends that sequence.
    if (!item && stack_.size() >= 2 && stack_.back().indent == indent &&
        stack_.back().data->type == YamlNode::Type::kSequence &&
        stack_[stack_.size() - 2].indent == indent) {
      stack_.pop_back();
    }
    if (stack_.empty()) {
      if (root_.isDefined()) return false;
      if (!open(indent, item ? YamlNode::Type::kSequence : YamlNode::Type::kMap)) return false;
    }
    Frame& top = stack_.back();
    if (top.indent != indent) return false;
    if (item != (top.data->type == YamlNode::Type::kSequence)) return false;
    if (item) return sequenceItem(indent, content);
    size_t colon = 0;
    return findKey(content, &colon) == KeyShape::kKey && mapEntry(content, colon);
  }

  // "- ..." in the sequence on top of the stack.
  bool sequenceItem(size_t indent, std::string_view content) {
    size_t start = content.find_first_not_of(' ', 1);
    if (start == std::string_view::npos || content[start] == '#') {
      stack_.back().pending = true;
      scalar_ended_ = false;
      return true;
    }
    std::string_view rest = content.substr(start);
    if (rest[0] == '-' && (rest.size() == 1 || rest[1] == ' ')) return false;  // "- - x"
    size_t colon = 0;
    switch (findKey(rest, &colon)) {
      case KeyShape::kKey:
        // "- key: value": a map that starts on the item's line.
        if (!open(indent + start, YamlNode::Type::kMap)) return false;
        return mapEntry(rest, colon);
      case KeyShape::kScalar: {
        YamlNode value;
        if (!scalarValue(rest, &value)) return false;
        stack_.back().data->items.push_back(std::move(value));
        scalar_ended_ = true;
        return true;
      }
      case KeyShape::kUnsure:
        return false;
    }
    return false;
  }

  // "key: ..." in the map on top of the stack, its key ending at `colon`
  // (as findKey found it).
  bool mapEntry(std::string_view content, size_t colon) {
    YamlNode key;
    if (!scalarValue(content.substr(0, colon), &key)) return false;
    Frame& top = stack_.back();
    size_t start = content.find_first_not_of(' ', colon + 1);
    if (start == std::string_view::npos || content[start] == '#') {
      top.key = std::move(key);
      top.pending = true;
      scalar_ended_ = false;
      return true;
    }
    YamlNode value;
    if (!scalarValue(content.substr(start), &value)) return false;
    top.data->entries.emplace_back(std::move(key), std::move(value));
    scalar_ended_ = true;
    return true;
  }

  enum class KeyShape { kKey, kScalar, kUnsure };

  // Whether `s` is "key: ..." (with *colon at the ':'), a lone scalar, or
  // something this reader leaves to libyaml.
  static KeyShape findKey(std::string_view s, size_t* colon) {
    size_t i = 0;
    if (s[0] == '\'' || s[0] == '"') {
      i = quotedEnd(s);
      if (i == std::string_view::npos) return KeyShape::kUnsure;
      if (i == s.size() || s[i] != ':') return KeyShape::kScalar;
    } else {
      if (isIndicator(s[0])) return KeyShape::kUnsure;
      for (; i < s.size(); ++i) {
        if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) break;
        if (s[i] == '#' && s[i - 1] == ' ') return KeyShape::kScalar;
      }
      if (i == s.size()) return KeyShape::kScalar;
      if (s[i - 1] == ' ') return KeyShape::kUnsure;  // "key :"
    }
    if (i + 1 < s.size() && s[i + 1] != ' ') return KeyShape::kUnsure;
    if (i > kMaxKeyLength) return KeyShape::kUnsure;
    *colon = i;
    return KeyShape::kKey;
  }

  // The character a double-quoted "\\c" stands for, or 0 for an escape this
  // reader leaves to libyaml (\\x, \\u, \\U, \\N, \\_, \\L, \\P, \\0, and a
  // backslash at the end of a line).
  static char unescaped(char c) {
    switch (c) {
      case '\\':
      case '"':
      case '/':
      case ' ':
        return c;
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\a';
      case 'b':
        return '\b';
      case 'e':
        return '\x1b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      default:
        return 0;
    }
  }

  // One past the closing quote of the quoted scalar `s` starts with, or npos
  // when it does not close on this line or holds an escape this reader does
  // not decode.
  static size_t quotedEnd(std::string_view s) {
    const char quote = s[0];
    for (size_t i = 1; i < s.size(); ++i) {
      if (quote == '"' && s[i] == '\\') {
        if (i + 1 == s.size() || unescaped(s[i + 1]) == 0) return std::string_view::npos;
        ++i;
        continue;
      }
      if (s[i] != quote) continue;
      if (quote == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;  // '' stands for '
        continue;
      }
      return i + 1;
    }
    return std::string_view::npos;
  }

  // A scalar that runs to the end of `s` (or to a comment): plain or quoted.
  static bool scalarValue(std::string_view s, YamlNode* out) {
    auto data = std::make_shared<YamlNode::Data>();
    data->type = YamlNode::Type::kScalar;
    if (s[0] == '\'' || s[0] == '"') {
      size_t end = quotedEnd(s);
      if (end == std::string_view::npos) return false;
      size_t after = s.find_first_not_of(' ', end);
      if (after != std::string_view::npos && (after == end || s[after] != '#')) return false;
      std::string_view inner = s.substr(1, end - 2);
      if (s[0] == '\'') {
        data->text.reserve(inner.size());
        for (size_t i = 0; i < inner.size(); ++i) {
          data->text.push_back(inner[i]);
          if (inner[i] == '\'') ++i;
        }
      } else {
        data->text.reserve(inner.size());
        for (size_t i = 0; i < inner.size(); ++i) {
          data->text.push_back(inner[i] == '\\' ? unescaped(inner[++i]) : inner[i]);
        }
      }
      data->forced_string = true;
    } else {
      if (isIndicator(s[0])) return false;
      size_t end = s.size();
      for (size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '#' && s[i - 1] == ' ') {
          end = i;
          break;
        }
        if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) return false;
      }
      std::string_view text = s.substr(0, end);
      text = text.substr(0, text.find_last_not_of(' ') + 1);
      if (YamlNode::isNullText(text)) {
        data->type = YamlNode::Type::kNull;
      } else {
        data->text.assign(text);
      }
    }
    *out = YamlNode(std::move(data));
    return true;
  }

  // A new map or sequence at `indent`: the root, the value of the pending
  // key or item on top, or (for "- key: value") the item being read.
  bool open(size_t indent, YamlNode::Type type) {
    if (stack_.size() >= YamlNode::kMaxDepth) return false;
    auto data = std::make_shared<YamlNode::Data>();
    data->type = type;
    // A route is a map of a few keys: one allocation instead of three.
    if (type == YamlNode::Type::kMap) data->entries.reserve(4);
    YamlNode node(data);
    if (stack_.empty()) {
      root_ = node;
    } else {
      Frame& parent = stack_.back();
      if (parent.data->type == YamlNode::Type::kSequence) {
        parent.data->items.push_back(std::move(node));
      } else {
        parent.data->entries.emplace_back(std::move(parent.key), std::move(node));
        parent.key = YamlNode();
      }
      parent.pending = false;
    }
    stack_.push_back(Frame{indent, std::move(data), false, YamlNode()});
    return true;
  }

  // A key or "-" with nothing under it: null.
  static void closePending(Frame& frame) {
    if (frame.data->type == YamlNode::Type::kSequence) {
      frame.data->items.push_back(YamlNode::null());
    } else {
      frame.data->entries.emplace_back(std::move(frame.key), YamlNode::null());
      frame.key = YamlNode();
    }
    frame.pending = false;
  }

  std::vector<Frame> stack_;
  YamlNode root_;
  bool scalar_ended_ = false;
};

std::optional<YamlNode> YamlNode::parseBlock(std::string_view text) {
  return BlockReader().run(text);
}

}  // namespace gatehouse::config

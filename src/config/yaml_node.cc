#include "config/yaml_node.h"

#include <yaml.h>

#include <unordered_map>

namespace gatehouse::config {
namespace {

const std::string kEmptyText;
const std::vector<YamlNode> kNoItems;
const std::vector<YamlNode::Entry> kNoEntries;
const YamlNode kUndefined;

std::string text(const yaml_char_t* chars) {
  return chars == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(chars));
}

}  // namespace

// Turns libyaml's events into a tree: one frame per open sequence or map.
class YamlBuilder {
 public:
  YamlParse run(std::string_view input) {
    YamlParse result;
    yaml_parser_t parser;
    if (yaml_parser_initialize(&parser) == 0) {
      result.error = YamlError{0, 0, "out of memory"};
      return result;
    }
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(input.data()),
                                 input.size());
    bool done = false;
    while (!done) {
      yaml_event_t event;
      if (yaml_parser_parse(&parser, &event) == 0) {
        std::string message = parser.problem != nullptr ? parser.problem : "invalid YAML";
        if (parser.context != nullptr) message += std::string(" (") + parser.context + ")";
        result.error = YamlError{parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                 std::move(message)};
        break;
      }
      const yaml_mark_t mark = event.start_mark;
      done = handle(event);
      yaml_event_delete(&event);
      if (!problem_.empty()) {
        result.error = YamlError{mark.line + 1, mark.column + 1, std::move(problem_)};
        break;
      }
    }
    yaml_parser_delete(&parser);
    if (!result.error) result.root = root_.isDefined() ? std::move(root_) : YamlNode::null();
    return result;
  }

 private:
  struct Frame {
    std::shared_ptr<YamlNode::Data> data;
    std::string anchor;
    YamlNode key;
    bool has_key = false;
  };

  // Returns true when the first document is complete (later documents are
  // not read, as yaml-cpp's Load did not read them).
  bool handle(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return true;
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(text(event.data.alias.anchor));
        if (it == anchors_.end()) {
          problem_ = "unknown anchor " + text(event.data.alias.anchor);
          return true;
        }
        add(it->second);
        return false;
      }
      case YAML_SCALAR_EVENT: {
        const auto& scalar = event.data.scalar;
        auto data = std::make_shared<YamlNode::Data>();
        data->text.assign(reinterpret_cast<const char*>(scalar.value), scalar.length);
        const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE;
        const bool tagged = scalar.tag != nullptr;
        if (plain && !tagged && YamlNode::isNullText(data->text)) {
          data->type = YamlNode::Type::kNull;
          data->text.clear();
        } else {
          data->type = YamlNode::Type::kScalar;
          data->forced_string = tagged ? text(scalar.tag) == "!" : !plain;
        }
        YamlNode node(std::move(data));
        remember(scalar.anchor, node);
        add(std::move(node));
        return false;
      }
      case YAML_SEQUENCE_START_EVENT:
        open(YamlNode::Type::kSequence, event.data.sequence_start.anchor);
        return false;
      case YAML_MAPPING_START_EVENT:
        open(YamlNode::Type::kMap, event.data.mapping_start.anchor);
        return false;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Frame frame = std::move(stack_.back());
        stack_.pop_back();
        YamlNode node(std::move(frame.data));
        if (!frame.anchor.empty()) anchors_[frame.anchor] = node;
        add(std::move(node));
        return false;
      }
      default:
        return false;
    }
  }

  void open(YamlNode::Type type, const yaml_char_t* anchor) {
    if (stack_.size() >= YamlNode::kMaxDepth) {
      problem_ = "nested more than " + std::to_string(YamlNode::kMaxDepth) + " levels deep";
      return;
    }
    auto data = std::make_shared<YamlNode::Data>();
    data->type = type;
    stack_.push_back(Frame{std::move(data), text(anchor), YamlNode(), false});
  }

  // An anchor names the node once it is complete, so that an alias can
  // never make the tree a cycle.
  void remember(const yaml_char_t* anchor, const YamlNode& node) {
    if (anchor != nullptr) anchors_[text(anchor)] = node;
  }

  void add(YamlNode node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.data->type == YamlNode::Type::kSequence) {
      parent.data->items.push_back(std::move(node));
    } else if (!parent.has_key) {
      parent.key = std::move(node);
      parent.has_key = true;
    } else {
      parent.data->entries.emplace_back(std::move(parent.key), std::move(node));
      parent.key = YamlNode();
      parent.has_key = false;
    }
  }

  std::vector<Frame> stack_;
  std::unordered_map<std::string, YamlNode> anchors_;
  YamlNode root_;
  std::string problem_;
};

YamlParse YamlNode::parse(std::string_view text) {
  if (std::optional<YamlNode> block = parseBlock(text)) return YamlParse{std::move(*block), {}};
  return parseEvents(text);
}

YamlParse YamlNode::parseEvents(std::string_view text) { return YamlBuilder().run(text); }

bool YamlNode::sameTree(const YamlNode& other) const {
  if (type() != other.type() || forcedString() != other.forcedString() ||
      scalar() != other.scalar() || size() != other.size()) {
    return false;
  }
  for (size_t i = 0; i < items().size(); ++i) {
    if (!items()[i].sameTree(other.items()[i])) return false;
  }
  for (size_t i = 0; i < entries().size(); ++i) {
    if (!entries()[i].first.sameTree(other.entries()[i].first) ||
        !entries()[i].second.sameTree(other.entries()[i].second)) {
      return false;
    }
  }
  return true;
}

YamlNode YamlNode::null() {
  auto data = std::make_shared<Data>();
  data->type = Type::kNull;
  return YamlNode(std::move(data));
}

YamlNode YamlNode::fromText(std::string text) {
  auto data = std::make_shared<Data>();
  data->type = Type::kScalar;
  data->text = std::move(text);
  return YamlNode(std::move(data));
}

YamlNode YamlNode::emptyMap() {
  auto data = std::make_shared<Data>();
  data->type = Type::kMap;
  return YamlNode(std::move(data));
}

YamlNode YamlNode::withEntry(const std::string& key, YamlNode value) const {
  auto data = std::make_shared<Data>(data_ ? *data_ : Data{});
  data->type = Type::kMap;
  for (Entry& entry : data->entries) {
    if (entry.first.isScalar() && entry.first.scalar() == key) {
      entry.second = std::move(value);
      return YamlNode(std::move(data));
    }
  }
  data->entries.emplace_back(fromText(key), std::move(value));
  return YamlNode(std::move(data));
}

const std::string& YamlNode::scalar() const { return isScalar() ? data_->text : kEmptyText; }

const std::vector<YamlNode>& YamlNode::items() const {
  return isSequence() ? data_->items : kNoItems;
}

const std::vector<YamlNode::Entry>& YamlNode::entries() const {
  return isMap() ? data_->entries : kNoEntries;
}

size_t YamlNode::size() const {
  if (isSequence()) return data_->items.size();
  if (isMap()) return data_->entries.size();
  return 0;
}

const YamlNode& YamlNode::operator[](size_t i) const {
  return isSequence() && i < data_->items.size() ? data_->items[i] : kUndefined;
}

}  // namespace gatehouse::config

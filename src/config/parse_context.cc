#include "config/parse_context.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "common/base64.h"
#include "common/file.h"
#include "common/strings.h"

namespace gatehouse::config {
namespace {

// Certificate chains and CA bundles are small; anything bigger is a mistake
// (or /dev/zero) and must not be read into memory whole.
constexpr size_t kMaxFileBytes = size_t{16} * 1024 * 1024;
// PPL nests and/or/not; real policies stay far below this.
constexpr int kMaxJsonDepth = 100;

std::string joinPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

const char* typeName(const YamlNode& node) {
  switch (node.type()) {
    case YamlNode::Type::kMap:
      return "map";
    case YamlNode::Type::kSequence:
      return "list";
    case YamlNode::Type::kScalar:
      return "string";
    case YamlNode::Type::kNull:
      return "null";
    case YamlNode::Type::kUndefined:
      break;
  }
  return "undefined value";
}

}  // namespace

std::string quote(std::string_view text) {
  // Values are echoed in messages; keep them short and on one line.
  constexpr size_t kMaxEcho = 80;
  std::string out = "\"";
  for (char c : text.substr(0, kMaxEcho)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
      out += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string("?");
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxEcho) out += "...";
  out += '"';
  return out;
}

namespace {

std::string stripWhitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

// RFC 9110 token characters, the only ones allowed in a header name.
bool isHeaderName(std::string_view name) {
  if (name.empty()) return false;
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

// A value with CR, LF or NUL would let the config split a response.
bool isHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Plain (unquoted) YAML scalars resolve to JSON types the way Go's yaml.v3
// does for an untyped target; quoted scalars are always strings.
nlohmann::json scalarToJson(const YamlNode& node) {
  const std::string& text = node.scalar();
  if (node.forcedString()) return text;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (auto value = parseUint(digits)) {
    if (!negative && *value <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(*value);
    }
    if (negative && *value <= static_cast<uint64_t>(INT64_MAX)) {
      return -static_cast<int64_t>(*value);
    }
  }
  // YAML 1.2 core-schema floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  bool digit_seen = false;
  bool dot_seen = false;
  size_t i = 0;
  for (; i < digits.size(); ++i) {
    char c = digits[i];
    if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else if (c == '.' && !dot_seen) {
      dot_seen = true;
    } else {
      break;
    }
  }
  bool is_float = digit_seen;
  if (is_float && i < digits.size()) {
    if (digits[i] != 'e' && digits[i] != 'E') {
      is_float = false;
    } else {
      ++i;
      if (i < digits.size() && (digits[i] == '-' || digits[i] == '+')) ++i;
      is_float = i < digits.size() && parseUint(digits.substr(i)).has_value();
    }
  }
  if (is_float) {
    double number = std::strtod(text.c_str(), nullptr);
    if (std::isfinite(number)) return number;
  }
  return text;
}

}  // namespace

bool looksLikePem(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos;
}

void ParseContext::error(std::string_view path, std::string_view message) {
  std::string line(path);
  if (!line.empty()) line += ": ";
  line += message;
  errors_.push_back(std::move(line));
}

void ParseContext::warn(std::string_view path, std::string_view message) {
  std::string line(path);
  if (!line.empty()) line += ": ";
  line += message;
  warnings_.push_back(std::move(line));
}

void ParseContext::unknownKey(std::string_view path) {
  warnings_.push_back("unknown key \"" + std::string(path) + "\" ignored");
}

std::vector<std::pair<std::string, MapEntry>> ParseContext::mapEntries(const Value& value) {
  std::vector<std::pair<std::string, MapEntry>> out;
  if (!value.node.isDefined() || value.node.isNull()) return out;
  if (!value.node.isMap()) {
    error(value.path, std::string("expected a map, got a ") + typeName(value.node));
    return out;
  }
  const auto& entries = value.node.entries();
  // Reserved, so that the views in `seen` stay valid.
  out.reserve(entries.size());
  // Maps in a config are nearly all small: a scan finds a repeated key
  // without a set (which cost an allocation per key, for every route); a
  // large map gets a hash set, so that no map costs quadratic time.
  constexpr size_t kScanLimit = 32;
  std::unordered_set<std::string_view> seen;
  for (const auto& item : entries) {
    if (!item.first.isScalar()) {
      error(value.path, "map keys must be strings");
      continue;
    }
    const std::string& key = item.first.scalar();
    std::string lower = toLower(key);
    bool repeated = false;
    if (entries.size() <= kScanLimit) {
      repeated = std::any_of(out.begin(), out.end(),
                             [&](const auto& earlier) { return earlier.first == lower; });
    } else {
      repeated = seen.count(lower) > 0;
    }
    if (repeated) {
      error(joinPath(value.path, key), "key appears more than once");
      continue;
    }
    out.emplace_back(std::move(lower), MapEntry{key, item.second});
    if (entries.size() > kScanLimit) seen.insert(out.back().first);
  }
  return out;
}

std::optional<std::string> ParseContext::scalarText(const Value& value, std::string_view expected) {
  if (!value.node.isDefined() || value.node.isNull()) return std::nullopt;
  if (!value.node.isScalar()) {
    error(value.path, "expected " + std::string(expected) + ", got a " + typeName(value.node));
    return std::nullopt;
  }
  return value.node.scalar();
}

std::optional<std::string> ParseContext::readString(const Value& value) {
  return scalarText(value, "a string");
}

std::optional<bool> ParseContext::readBool(const Value& value) {
  auto text = scalarText(value, "true or false");
  if (!text) return std::nullopt;
  std::string lower = toLower(trim(*text));
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1" || lower == "t" ||
      lower == "y") {
    return true;
  }
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0" || lower == "f" ||
      lower == "n") {
    return false;
  }
  error(value.path, "invalid boolean " + quote(*text) + " (use true or false)");
  return std::nullopt;
}

std::optional<uint64_t> ParseContext::readUint(const Value& value, uint64_t min, uint64_t max) {
  auto text = scalarText(value, "an integer");
  if (!text) return std::nullopt;
  auto number = parseUint(trim(*text));
  if (!number || *number < min || *number > max) {
    error(value.path, "must be an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + " (got " + quote(*text) + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<int64_t> ParseContext::readInt(const Value& value, int64_t min, int64_t max) {
  auto text = scalarText(value, "an integer");
  if (!text) return std::nullopt;
  std::string_view digits = trim(*text);
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.remove_prefix(1);
  auto magnitude = parseUint(digits);
  std::optional<int64_t> number;
  if (magnitude && *magnitude <= static_cast<uint64_t>(INT64_MAX)) {
    number = negative ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude);
  }
  if (!number || *number < min || *number > max) {
    error(value.path, "must be an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + " (got " + quote(*text) + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<Duration> ParseContext::readDuration(const Value& value) {
  auto text = scalarText(value, "a duration");
  if (!text) return std::nullopt;
  std::string_view trimmed = trim(*text);
  auto duration = parseGoDuration(trimmed);
  if (!duration) {
    // A bare number is the most common mistake: Go refuses it too, and
    // guessing seconds would silently differ from Pomerium.
    if (parseUint(trimmed)) {
      error(value.path, "invalid duration " + quote(*text) + " (a unit is required, e.g. \"" +
                            std::string(trimmed) + "s\")");
    } else {
      error(value.path, "invalid duration " + quote(*text));
    }
    return std::nullopt;
  }
  if (*duration < Duration::zero()) {
    error(value.path, "duration must not be negative (got " + quote(*text) + ")");
    return std::nullopt;
  }
  return duration;
}

std::optional<std::vector<std::string>> ParseContext::readStringList(const Value& value) {
  if (!value.node.isDefined() || value.node.isNull()) return std::nullopt;
  if (value.node.isScalar()) return splitList(value.node.scalar(), ',');
  if (!value.node.isSequence()) {
    error(value.path, std::string("expected a list, got a ") + typeName(value.node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < value.node.size(); ++i) {
    const YamlNode item = value.node[i];
    if (item.isNull()) continue;
    if (!item.isScalar()) {
      error(value.path + "[" + std::to_string(i) + "]",
            std::string("expected a string, got a ") + typeName(item));
      ok = false;
      continue;
    }
    out.push_back(item.scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<HeaderValue>> ParseContext::readHeaderMap(const Value& value) {
  if (!value.node.isDefined() || value.node.isNull()) return std::nullopt;
  std::vector<HeaderValue> out;
  bool ok = true;
  auto add = [&](std::string name, std::string header_value) {
    std::string path = joinPath(value.path, name);
    if (!isHeaderName(name)) {
      error(value.path, "invalid header name " + quote(name));
      ok = false;
      return;
    }
    if (!isHeaderValue(header_value)) {
      error(path, "header value must not contain CR, LF or NUL");
      ok = false;
      return;
    }
    for (auto& existing : out) {
      if (iequals(existing.name, name)) {
        existing.value = std::move(header_value);
        return;
      }
    }
    out.push_back({std::move(name), std::move(header_value)});
  };

  YamlNode map = value.node;
  if (map.isScalar()) {
    std::string_view text = trim(map.scalar());
    if (text.empty()) return out;
    if (text.front() != '{') {
      for (const std::string& pair : splitList(text, ',')) {
        size_t colon = pair.find(':');
        if (colon == std::string::npos) {
          error(value.path, "invalid header " + quote(pair) + " (expected Name:Value)");
          ok = false;
          continue;
        }
        add(std::string(trim(std::string_view(pair).substr(0, colon))),
            std::string(trim(std::string_view(pair).substr(colon + 1))));
      }
      if (!ok) return std::nullopt;
      return out;
    }
    YamlParse parsed = YamlNode::parse(text);
    if (parsed.error) {
      error(value.path, "invalid JSON object: " + parsed.error->message);
      return std::nullopt;
    }
    map = std::move(parsed.root);
  }
  if (!map.isMap()) {
    error(value.path,
          std::string("expected a map of header names to values, got a ") + typeName(value.node));
    return std::nullopt;
  }
  for (const auto& item : map.entries()) {
    if (!item.first.isScalar()) {
      error(value.path, "header names must be strings");
      ok = false;
      continue;
    }
    const std::string& name = item.first.scalar();
    if (item.second.isNull()) {
      add(name, "");
    } else if (item.second.isScalar()) {
      add(name, item.second.scalar());
    } else {
      error(joinPath(value.path, name),
            std::string("expected a string, got a ") + typeName(item.second));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> ParseContext::readJson(const Value& value) {
  if (!value.node.isDefined()) return std::nullopt;
  std::string problem;
  std::function<nlohmann::json(const YamlNode&, int)> convert = [&](const YamlNode& node,
                                                                    int depth) -> nlohmann::json {
    if (!problem.empty()) return nullptr;
    if (depth > kMaxJsonDepth) {
      problem = "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep";
      return nullptr;
    }
    if (json_node_budget_ == 0) {
      problem = "too large";
      return nullptr;
    }
    --json_node_budget_;
    switch (node.type()) {
      case YamlNode::Type::kScalar:
        return scalarToJson(node);
      case YamlNode::Type::kSequence: {
        nlohmann::json array = nlohmann::json::array();
        for (const auto& item : node.items()) array.push_back(convert(item, depth + 1));
        return array;
      }
      case YamlNode::Type::kMap: {
        nlohmann::json object = nlohmann::json::object();
        for (const auto& item : node.entries()) {
          if (!item.first.isScalar()) {
            problem = "map keys must be strings";
            return nullptr;
          }
          object[item.first.scalar()] = convert(item.second, depth + 1);
        }
        return object;
      }
      case YamlNode::Type::kNull:
      case YamlNode::Type::kUndefined:
        break;
    }
    return nullptr;
  };
  nlohmann::json json = convert(value.node, 0);
  if (!problem.empty()) {
    error(value.path, problem);
    return std::nullopt;
  }
  // Replace invalid UTF-8 rather than throw: the text is only handed on.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> ParseContext::readExtra(const Value& value, ExtraKind kind) {
  switch (kind) {
    case ExtraKind::kString:
      return readString(value);
    case ExtraKind::kBool: {
      auto flag = readBool(value);
      if (!flag) return std::nullopt;
      return std::string(*flag ? "true" : "false");
    }
    case ExtraKind::kInt: {
      auto number = readInt(value, INT64_MIN, INT64_MAX);
      if (!number) return std::nullopt;
      return std::to_string(*number);
    }
    case ExtraKind::kDuration: {
      if (!readDuration(value)) return std::nullopt;
      return std::string(trim(value.node.scalar()));
    }
    case ExtraKind::kList: {
      auto list = readStringList(value);
      if (!list) return std::nullopt;
      std::string joined;
      for (const auto& item : *list) {
        if (!joined.empty()) joined += ',';
        joined += item;
      }
      return joined;
    }
    case ExtraKind::kPath: {
      auto path = readString(value);
      if (!path || path->empty()) return std::nullopt;
      std::string absolute = resolvePath(*path);
      watchFile(absolute);
      return absolute;
    }
    case ExtraKind::kAny:
      if (!value.node.isDefined() || value.node.isNull()) return std::nullopt;
      return readJson(value);
  }
  return std::nullopt;
}

std::string ParseContext::resolvePath(std::string_view path) const {
  std::filesystem::path p{std::string(path)};
  if (p.is_relative()) {
    std::filesystem::path base{base_dir_};
    if (base.empty() || base.is_relative()) {
      std::error_code ec;
      std::filesystem::path cwd = std::filesystem::current_path(ec);
      base = ec ? base : cwd / base;
    }
    p = base / p;
  }
  std::string normal = p.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();  // "dir/." -> "dir"
  return normal;
}

std::optional<std::string> ParseContext::readFile(std::string_view key_path,
                                                  std::string_view path) {
  if (path.empty()) {
    error(key_path, "file path must not be empty");
    return std::nullopt;
  }
  std::string absolute = resolvePath(path);
  auto fail = [&](std::string_view why) {
    error(key_path, "cannot read " + quote(absolute) + ": " + std::string(why));
    return std::nullopt;
  };
  auto content = readRegularFile(absolute, kMaxFileBytes);
  if (!content) return fail(content.error().message);
  watchFile(absolute);
  return std::move(*content);
}

std::optional<std::string> ParseContext::readPemFileOrBase64(std::string_view key_path,
                                                             std::string_view value) {
  if (trim(value).empty()) {
    error(key_path, "must not be empty");
    return std::nullopt;
  }
  std::string absolute = resolvePath(value);
  std::error_code ec;
  if (std::filesystem::exists(absolute, ec)) {
    auto content = readFile(key_path, value);
    if (!content) return std::nullopt;
    if (!looksLikePem(*content)) {
      error(key_path, quote(absolute) + " does not contain PEM data");
      return std::nullopt;
    }
    return content;
  }
  if (looksLikePem(value)) return std::string(value);
  if (auto decoded = base64Decode(stripWhitespace(value))) {
    if (looksLikePem(*decoded)) return decoded;
    // Do not echo the value: it may be a private key.
    error(key_path, "neither a readable file nor base64-encoded PEM");
    return std::nullopt;
  }
  return readFile(key_path, value);  // reports the missing file
}

std::optional<std::string> ParseContext::decodeBase64Pem(std::string_view key_path,
                                                         std::string_view value) {
  if (looksLikePem(value)) return std::string(value);
  auto decoded = base64Decode(stripWhitespace(value));
  if (!decoded) {
    error(key_path, "invalid base64");
    return std::nullopt;
  }
  if (!looksLikePem(*decoded)) {
    error(key_path, "does not decode to PEM data");
    return std::nullopt;
  }
  return decoded;
}

void ParseContext::watchFile(const std::string& absolute_path) {
  if (std::find(watched_files_.begin(), watched_files_.end(), absolute_path) ==
      watched_files_.end()) {
    watched_files_.push_back(absolute_path);
  }
}

}  // namespace gatehouse::config

#include "databroker/record.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "crypto/random.h"

namespace gatehouse::databroker {
namespace {

using Json = nlohmann::json;

std::optional<Json> parseObject(std::string_view text) {
  if (text.empty()) return Json::object();
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::optional<std::string> scalarText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return dump(value);
  return std::nullopt;
}

}  // namespace

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

Result<void> validateType(std::string_view type) {
  if (type.empty()) return Error::invalid("type: required");
  return {};
}

Result<void> validatePut(std::vector<Record>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    Record& record = records[i];
    std::string where = "records[" + std::to_string(i) + "]";
    if (record.type.empty()) return Error::invalid(where + ".type: required");
    if (record.id.empty()) return Error::invalid(where + ".id: required");
    auto data = normalizeData(record.data);
    if (!data) return Error::invalid(where + ".data: " + data.error().message);
    record.data = std::move(*data);
  }
  return {};
}

Result<void> validateQuery(const Query& query, const TypeOptions& options) {
  if (query.type.empty()) return Error::invalid("type: required");
  for (const auto& [field, value] : query.filter) {
    (void)value;
    if (field == "id") continue;
    bool indexed = false;
    for (const auto& name : options.indexed_fields) indexed = indexed || name == field;
    if (!indexed) {
      return Error::invalid("filter: " + field + " is not an indexed field of " + query.type);
    }
  }
  return {};
}

Result<void> validateFieldMask(const std::vector<std::string>& paths) {
  if (paths.empty()) return Error::invalid("field_mask: required");
  for (const auto& path : paths) {
    for (const auto& part : splitPath(path)) {
      if (part.empty()) return Error::invalid("field_mask: invalid path \"" + path + "\"");
    }
  }
  return {};
}

Result<std::string> normalizeData(std::string_view data) {
  auto value = parseObject(data);
  if (!value) return Error::invalid("not a JSON object");
  return dump(*value);
}

Result<std::string> applyFieldMask(std::string_view current, std::string_view patch,
                                   const std::vector<std::string>& paths) {
  auto target = parseObject(current);
  auto source = parseObject(patch);
  if (!target || !source) return Error::invalid("data: not a JSON object");
  for (const auto& path : paths) {
    std::vector<std::string> parts = splitPath(path);
    // Find the value in the patch, if the whole path exists there.
    const Json* from = &*source;
    for (const auto& part : parts) {
      if (from == nullptr || !from->is_object()) {
        from = nullptr;
        break;
      }
      auto it = from->find(part);
      from = it == from->end() ? nullptr : &*it;
    }
    // Walk (and create) the parents in the target.
    Json* parent = &*target;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!parent->is_object()) break;
      auto it = parent->find(parts[i]);
      if (it == parent->end() || !it->is_object()) {
        if (from == nullptr) {
          parent = nullptr;
          break;
        }
        (*parent)[parts[i]] = Json::object();
      }
      parent = &(*parent)[parts[i]];
    }
    if (parent == nullptr || !parent->is_object()) continue;
    if (from != nullptr) {
      (*parent)[parts.back()] = *from;
    } else {
      parent->erase(parts.back());
    }
  }
  return dump(*target);
}

std::optional<std::string> fieldText(std::string_view data, std::string_view field) {
  auto value = parseObject(data);
  if (!value) return std::nullopt;
  auto it = value->find(field);
  if (it == value->end()) return std::nullopt;
  return scalarText(*it);
}

QueryMatcher::QueryMatcher(const Query& query, const TypeOptions& options)
    : search_(lowerAscii(query.search)),
      indexed_fields_(options.indexed_fields),
      filter_(query.filter) {}

bool QueryMatcher::matches(const Record& record) const {
  if (search_.empty() && filter_.empty()) return true;
  std::optional<Json> data;
  if (!indexed_fields_.empty()) data = parseObject(record.data);
  auto field = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "id") return record.id;
    if (!data) return std::nullopt;
    auto it = data->find(name);
    if (it == data->end()) return std::nullopt;
    return scalarText(*it);
  };
  for (const auto& [name, expected] : filter_) {
    auto actual = field(name);
    if (!actual || *actual != expected) return false;
  }
  if (search_.empty()) return true;
  if (lowerAscii(record.id).find(search_) != std::string::npos) return true;
  for (const auto& name : indexed_fields_) {
    auto text = field(name);
    if (text && lowerAscii(*text).find(search_) != std::string::npos) return true;
  }
  return false;
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

uint64_t newServerVersion() {
  while (true) {
    std::string bytes = crypto::randomBytes(sizeof(uint64_t));
    uint64_t value = 0;
    std::memcpy(&value, bytes.data(), sizeof(value));
    // Kept below 2^63 so that it fits PostgreSQL's BIGINT and SQLite's INTEGER.
    value &= 0x7fffffffffffffffULL;
    if (value != 0) return value;
  }
}

Error unavailable(std::string message) {
  return {ErrorCode::kUnavailable, ErrorSource::kInternal, std::move(message), true};
}
Error aborted(std::string message) {
  return {ErrorCode::kAborted, ErrorSource::kInternal, std::move(message), false};
}
Error notFound(std::string message) {
  return {ErrorCode::kNotFound, ErrorSource::kInternal, std::move(message), false};
}
Error alreadyExists(std::string message) {
  return {ErrorCode::kAlreadyExists, ErrorSource::kInternal, std::move(message), false};
}

}  // namespace gatehouse::databroker

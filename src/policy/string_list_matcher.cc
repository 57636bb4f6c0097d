#include "policy/string_list_matcher.h"

#include <algorithm>

#include "policy/json_describe.h"

namespace gatehouse::policy {

namespace {

bool isScalar(const nlohmann::json& value) {
  return value.is_string() || value.is_number() || value.is_boolean();
}

// Applies `test` to each element of a JSON value seen as a list.
template <typename F>
size_t countMatching(const nlohmann::json* values, F&& test) {
  if (values == nullptr || values->is_null()) return 0;
  if (!values->is_array()) return test(*values) ? 1 : 0;
  size_t n = 0;
  for (const auto& element : *values) n += test(element) ? 1 : 0;
  return n;
}

size_t sizeOf(const nlohmann::json* values) {
  if (values == nullptr || values->is_null()) return 0;
  return values->is_array() ? values->size() : 1;
}

}  // namespace

Result<StringListMatcher> StringListMatcher::compile(const nlohmann::json& data) {
  constexpr std::string_view kOperators = "has, is or exclude";
  StringListMatcher matcher;
  if (isScalar(data)) {
    matcher.conditions_.push_back({Operator::kHas, data});
    return matcher;
  }
  if (!data.is_object()) {
    std::string message = "expected a string or a string list matcher (" + std::string(kOperators) +
                          "), got " + describeJson(data);
    if (data.is_array()) {
      message += "; to accept one of several values use the or operator with one criterion each";
    }
    return Error::invalid(std::move(message));
  }
  if (data.empty()) {
    return Error::invalid("empty string list matcher: expected " + std::string(kOperators));
  }
  for (auto entry = data.begin(); entry != data.end(); ++entry) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    Operator op;
    if (key == "has") {
      op = Operator::kHas;
    } else if (key == "is") {
      op = Operator::kIs;
    } else if (key == "exclude") {
      op = Operator::kExclude;
    } else {
      return Error::invalid("unknown string list matcher operator \"" + key + "\" (expected " +
                            std::string(kOperators) + ")");
    }
    if (!isScalar(value)) {
      return Error::invalid("string list matcher operator \"" + key +
                            "\" expects a string, number or boolean, got " + describeJson(value));
    }
    matcher.conditions_.push_back({op, value});
  }
  return matcher;
}

bool StringListMatcher::matches(std::span<const std::string> values) const {
  for (const Condition& condition : conditions_) {
    size_t equal = 0;
    if (condition.operand.is_string()) {
      const auto& operand = condition.operand.get_ref<const std::string&>();
      equal = static_cast<size_t>(std::count(values.begin(), values.end(), operand));
    }
    switch (condition.op) {
      case Operator::kHas:
        if (equal == 0) return false;
        break;
      case Operator::kIs:
        if (values.size() != 1 || equal == 0) return false;
        break;
      case Operator::kExclude:
        if (equal != 0) return false;
        break;
    }
  }
  return true;
}

bool StringListMatcher::matches(const nlohmann::json* values) const {
  for (const Condition& condition : conditions_) {
    size_t equal = countMatching(
        values, [&](const nlohmann::json& element) { return element == condition.operand; });
    switch (condition.op) {
      case Operator::kHas:
        if (equal == 0) return false;
        break;
      case Operator::kIs:
        if (sizeOf(values) != 1 || equal == 0) return false;
        break;
      case Operator::kExclude:
        if (equal != 0) return false;
        break;
    }
  }
  return true;
}

}  // namespace gatehouse::policy

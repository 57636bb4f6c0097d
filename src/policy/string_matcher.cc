#include "policy/string_matcher.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "policy/json_describe.h"

namespace gatehouse::policy {

namespace {

constexpr std::string_view kOperators = "is, not, contains, starts_with, ends_with, in or not_in";

}  // namespace

Result<StringMatcher> StringMatcher::compile(const nlohmann::json& data) {
  StringMatcher matcher;
  if (data.is_string()) {
    matcher.conditions_.push_back({Operator::kIs, data.get<std::string>(), {}});
    return matcher;
  }
  if (!data.is_object()) {
    std::string message = "expected a string or a string matcher (" + std::string(kOperators) +
                          "), got " + describeJson(data);
    if (data.is_array()) message += "; to match one of several strings use {in: [...]}";
    if (data.is_number() || data.is_boolean()) message += "; quote it to match it as text";
    return Error::invalid(std::move(message));
  }
  if (data.empty())
    return Error::invalid("empty string matcher: expected " + std::string(kOperators));

  static constexpr std::array<std::pair<std::string_view, Operator>, 7> kByName = {{
      {"is", Operator::kIs},
      {"not", Operator::kNot},
      {"contains", Operator::kContains},
      {"starts_with", Operator::kStartsWith},
      {"ends_with", Operator::kEndsWith},
      {"in", Operator::kIn},
      {"not_in", Operator::kNotIn},
  }};
  for (auto entry = data.begin(); entry != data.end(); ++entry) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    auto found = std::find_if(kByName.begin(), kByName.end(),
                              [&](const auto& candidate) { return candidate.first == key; });
    if (found == kByName.end()) {
      return Error::invalid("unknown string matcher operator \"" + key + "\" (expected " +
                            std::string(kOperators) + ")");
    }
    Condition condition{found->second, {}, {}};
    if (condition.op == Operator::kIn || condition.op == Operator::kNotIn) {
      if (!value.is_array()) {
        return Error::invalid("string matcher operator \"" + key +
                              "\" expects a list of strings, got " + describeJson(value));
      }
      for (const auto& element : value) {
        if (!element.is_string()) {
          return Error::invalid("string matcher operator \"" + key +
                                "\" expects a list of strings, got " + describeJson(element) +
                                " in the list");
        }
        condition.choices.push_back(element.get<std::string>());
      }
    } else {
      if (!value.is_string()) {
        return Error::invalid("string matcher operator \"" + key + "\" expects a string, got " +
                              describeJson(value));
      }
      condition.operand = value.get<std::string>();
    }
    matcher.conditions_.push_back(std::move(condition));
  }
  return matcher;
}

bool StringMatcher::Condition::holds(std::string_view value) const {
  switch (op) {
    case Operator::kIs:
      return value == operand;
    case Operator::kNot:
      return value != operand;
    case Operator::kContains:
      return value.find(operand) != std::string_view::npos;
    case Operator::kStartsWith:
      return value.substr(0, operand.size()) == operand;
    case Operator::kEndsWith:
      return value.size() >= operand.size() &&
             value.substr(value.size() - operand.size()) == operand;
    case Operator::kIn:
      return std::find(choices.begin(), choices.end(), value) != choices.end();
    case Operator::kNotIn:
      return std::find(choices.begin(), choices.end(), value) == choices.end();
  }
  return false;
}

bool StringMatcher::matches(std::string_view value) const {
  for (const Condition& condition : conditions_) {
    if (!condition.holds(value)) return false;
  }
  return true;
}

bool StringMatcher::matchesAnyPerOperator(std::span<const std::string> values) const {
  for (const Condition& condition : conditions_) {
    bool some = std::any_of(values.begin(), values.end(),
                            [&](const std::string& value) { return condition.holds(value); });
    if (!some) return false;
  }
  return true;
}

}  // namespace gatehouse::policy

#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gatehouse::policy {

// "a string", "a number", "a list", ... for error messages about policy data.
inline std::string describeJson(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
    case nlohmann::json::value_t::binary:
      break;
  }
  return "nothing";
}

}  // namespace gatehouse::policy

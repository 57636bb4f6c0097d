#include "crypto/strict_json.h"

#include <exception>
#include <set>
#include <string>
#include <vector>

#include "crypto/openssl_util.h"

namespace gatehouse::crypto::detail {

Result<nlohmann::json> parseStrictJson(std::string_view text, int max_depth) {
  // The member names seen so far in each object that is open.
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  bool too_deep = false;
  auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open_objects.emplace_back();
        [[fallthrough]];
      case nlohmann::json::parse_event_t::array_start:
        if (depth >= max_depth) too_deep = true;
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!open_objects.empty() &&
            !open_objects.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    // Keep parsing either way: the parser is iterative, and the flags
    // decide the outcome once it is done.
    return !duplicate && !too_deep;
  };
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false,
                                  /*ignore_comments=*/false);
  } catch (const std::exception& e) {
    return malformed(std::string("JSON: ") + e.what());
  }
  if (duplicate) return malformed("JSON: duplicate member name");
  if (too_deep) return malformed("JSON: nested too deeply");
  if (value.is_discarded()) return malformed("JSON: not valid JSON");
  return value;
}

std::string jsonQuote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gatehouse::crypto::detail

#include "authenticate/oidc/json_document.h"

#include <set>
#include <string>
#include <vector>

namespace gatehouse::authenticate::oidc {

Error protocolError(std::string message) {
  return Error{ErrorCode::kProtocol, ErrorSource::kUpstream, std::move(message), false};
}

Result<nlohmann::json> parseJsonObject(std::string_view text, std::string_view what,
                                       size_t max_bytes, int max_depth) {
  const std::string prefix(what);
  if (text.size() > max_bytes) return protocolError(prefix + ": larger than the limit");

  // nlohmann keeps the last of duplicate members silently; the callback
  // sees every member name, so it can notice instead.
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  bool too_deep = false;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth > max_depth) too_deep = true;
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), callback,
                                               /*allow_exceptions=*/false);
  if (value.is_discarded()) return protocolError(prefix + ": not valid JSON");
  if (too_deep) return protocolError(prefix + ": nested too deeply");
  if (duplicate) return protocolError(prefix + ": a member name appears twice");
  if (!value.is_object()) return protocolError(prefix + ": not a JSON object");
  return value;
}

}  // namespace gatehouse::authenticate::oidc

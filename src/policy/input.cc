#include "policy/input.h"

#include <strings.h>

namespace gatehouse::policy {

std::optional<std::string_view> HeaderList::get(std::string_view name) const {
  for (const Header& header : headers_) {
    if (header.first.size() == name.size() &&
        ::strncasecmp(header.first.data(), name.data(), name.size()) == 0) {
      return header.second;
    }
  }
  return std::nullopt;
}

}  // namespace gatehouse::policy

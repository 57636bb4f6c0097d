#pragma once
// Request headers from a plain list, for the tests' check requests.

#include <functional>
#include <optional>
#include <string_view>

#include "authorize/client.h"
#include "common/strings.h"

namespace gatehouse::testing {

class ListHeaders final : public authorize::RequestHeaders {
 public:
  explicit ListHeaders(authorize::HeaderList headers) : headers_(std::move(headers)) {}
  std::optional<std::string_view> get(std::string_view name) const override {
    for (const auto& [n, v] : headers_) {
      if (iequals(n, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
  void forEach(const std::function<void(std::string_view, std::string_view)>& f) const override {
    for (const auto& [n, v] : headers_) f(n, v);
  }

 private:
  authorize::HeaderList headers_;
};

}  // namespace gatehouse::testing

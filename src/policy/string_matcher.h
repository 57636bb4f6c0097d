#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gatehouse::policy {

// Pomerium's string matcher: `{is: x}`, `{not: x}`, `{contains: x}`,
// `{starts_with: x}`, `{ends_with: x}`, `{in: [..]}`, `{not_in: [..]}`;
// several operators in one object must all hold; a bare string means `is`.
//
// Data that Pomerium accepts but that can never match a string (a bare list,
// a number, a boolean, an empty object) is a compile error here instead:
// under `deny` or `not` it would silently let requests through.
class StringMatcher {
 public:
  static Result<StringMatcher> compile(const nlohmann::json& data);

  // Every operator holds for `value`.
  bool matches(std::string_view value) const;
  // Every operator holds for some element of `values` (not necessarily the
  // same one): how Pomerium applies a matcher to a certificate's SAN list.
  bool matchesAnyPerOperator(std::span<const std::string> values) const;

 private:
  enum class Operator : uint8_t { kIs, kNot, kContains, kStartsWith, kEndsWith, kIn, kNotIn };
  struct Condition {
    Operator op;
    std::string operand;               // all but in / not_in
    std::vector<std::string> choices;  // in / not_in
    bool holds(std::string_view value) const;
  };

  std::vector<Condition> conditions_;
};

}  // namespace gatehouse::policy

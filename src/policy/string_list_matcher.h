#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace gatehouse::policy {

// Pomerium's string list matcher, for claims and groups: `{has: x}` (some
// element equals x), `{is: x}` (exactly one element, equal to x),
// `{exclude: x}` (no element equals x); several operators must all hold; a
// bare scalar means `has`. Values compare as JSON values, so a claim that is
// the boolean true matches `claim/email_verified: true`.
//
// A bare list, null or an empty object is a compile error (Pomerium would
// accept them and never match).
class StringListMatcher {
 public:
  static Result<StringListMatcher> compile(const nlohmann::json& data);

  bool matches(std::span<const std::string> values) const;
  // `values` is a JSON list; a scalar counts as a list of one, null or
  // nullptr as the empty list.
  bool matches(const nlohmann::json* values) const;

 private:
  enum class Operator : uint8_t { kHas, kIs, kExclude };
  struct Condition {
    Operator op;
    nlohmann::json operand;  // a string, number or boolean
  };

  std::vector<Condition> conditions_;
};

}  // namespace gatehouse::policy

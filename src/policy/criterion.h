#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "common/result.h"
#include "policy/input.h"
#include "policy/reason.h"

namespace gatehouse::policy {

class TimeZoneDatabase;

// What one criterion says about one request: Pomerium's [bool, reasons].
struct CriterionResult {
  bool value = false;
  Reasons reasons;
};

// A compiled criterion (`email: {ends_with: "@example.com"}`), immutable once
// built and shared by every thread that evaluates its policy.
class Criterion {
 public:
  virtual ~Criterion() = default;
  // Must not allocate, block or touch anything but `input` and the
  // criterion's own constant state.
  virtual CriterionResult evaluate(const Input& input) const = 0;
  // True when evaluate() reads nothing of `input` but `input.session`: its
  // result for a session is its result for every request with it.
  virtual bool readsSessionOnly() const { return false; }
};

// What a criterion factory gets: the part of the criterion's key after the
// first '/' ("family_name" in `claim/family_name`, "" when there is none),
// and its data, as written in the policy.
struct CriterionArgs {
  std::string_view sub_path;
  const nlohmann::json& data;
  const TimeZoneDatabase& time_zones;
};

// Builds a criterion from its data, or explains what is wrong with the data
// (the caller adds where the criterion is: "routes[2].policy.allow.and[0].email: ").
using CriterionFactory = Result<std::unique_ptr<const Criterion>> (*)(const CriterionArgs& args);

}  // namespace gatehouse::policy

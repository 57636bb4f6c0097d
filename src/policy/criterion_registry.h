#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/criterion.h"

namespace gatehouse::policy {

// Criteria by name. Filled explicitly (registerBuiltinCriteria), never by
// static initialisers; read-only once a policy compiler uses it.
class CriterionRegistry {
 public:
  // Adds or replaces the criterion called `name`.
  void add(std::string name, CriterionFactory factory);
  // The factory for `name`, or nullptr.
  CriterionFactory find(std::string_view name) const;
  // Every registered name, sorted.
  std::vector<std::string_view> names() const;

  // The registry holding exactly the built-in criteria, built on first use
  // and immutable afterwards.
  static const CriterionRegistry& builtin();

 private:
  std::map<std::string, CriterionFactory, std::less<>> factories_;
};

// Registers every criterion Gatehouse implements: accept, reject,
// authenticated_user, email, domain, user, claim, groups, http_method,
// http_path, source_ip, cors_preflight, client_certificate,
// invalid_client_certificate, date, day_of_week, time_of_day.
void registerBuiltinCriteria(CriterionRegistry& registry);

}  // namespace gatehouse::policy

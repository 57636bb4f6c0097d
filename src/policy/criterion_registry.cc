#include "policy/criterion_registry.h"

#include "policy/criteria/criteria.h"

namespace gatehouse::policy {

void CriterionRegistry::add(std::string name, CriterionFactory factory) {
  factories_[std::move(name)] = factory;
}

CriterionFactory CriterionRegistry::find(std::string_view name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second;
}

std::vector<std::string_view> CriterionRegistry::names() const {
  std::vector<std::string_view> out;
  out.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) out.push_back(name);
  return out;
}

const CriterionRegistry& CriterionRegistry::builtin() {
  static const CriterionRegistry registry = [] {
    CriterionRegistry r;
    registerBuiltinCriteria(r);
    return r;
  }();
  return registry;
}

void registerBuiltinCriteria(CriterionRegistry& registry) {
  registry.add("accept", criteria::makeAccept);
  registry.add("reject", criteria::makeReject);
  registry.add("authenticated_user", criteria::makeAuthenticatedUser);
  registry.add("email", criteria::makeEmail);
  registry.add("domain", criteria::makeDomain);
  registry.add("user", criteria::makeUser);
  registry.add("claim", criteria::makeClaim);
  registry.add("groups", criteria::makeGroups);
  registry.add("http_method", criteria::makeHttpMethod);
  registry.add("http_path", criteria::makeHttpPath);
  registry.add("source_ip", criteria::makeSourceIp);
  registry.add("cors_preflight", criteria::makeCorsPreflight);
  registry.add("client_certificate", criteria::makeClientCertificate);
  registry.add("invalid_client_certificate", criteria::makeInvalidClientCertificate);
  registry.add("date", criteria::makeDate);
  registry.add("day_of_week", criteria::makeDayOfWeek);
  registry.add("time_of_day", criteria::makeTimeOfDay);
}

}  // namespace gatehouse::policy

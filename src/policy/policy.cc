#include "policy/policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "policy/criterion_registry.h"
#include "policy/json_describe.h"
#include "policy/time_zone_database.h"

namespace gatehouse::policy {

namespace {

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Levenshtein distance, for "did you mean" hints on misspelt criteria.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// YAML scalars of allowed_idp_claims arrive as text; Pomerium compares the
// YAML value, so "true" must match the boolean claim true and "42" the
// number 42.
nlohmann::json legacyClaimValue(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::string_view digits = text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative || (!digits.empty() && digits.front() == '+')) digits.remove_prefix(1);
  if (!digits.empty() && digits.size() <= 18 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    return negative ? -value : value;
  }
  return text;
}

}  // namespace

// Turns parsed PPL (and legacy route keys) into a Policy's terms.
class PolicyCompiler {
 public:
  explicit PolicyCompiler(const CompileOptions& options)
      : registry_(options.criteria ? *options.criteria : CriterionRegistry::builtin()),
        time_zones_(options.time_zones ? *options.time_zones : TimeZoneDatabase::system()) {}

  // A document: a rule object or a list of them.
  Result<void> addDocument(const nlohmann::json& document, const std::string& where) {
    if (document.is_array()) {
      for (size_t i = 0; i < document.size(); ++i) {
        std::string at = where + "[" + std::to_string(i) + "]";
        if (!document[i].is_object()) {
          return Error::invalid(at + ": expected a rule ({allow: ...} or {deny: ...}), got " +
                                describeJson(document[i]));
        }
        if (auto ok = addRule(document[i], at); !ok) return ok;
      }
      return {};
    }
    if (!document.is_object()) {
      return Error::invalid(where +
                            ": expected a rule ({allow: ...} or {deny: ...}) or a list of "
                            "rules, got " +
                            describeJson(document));
    }
    return addRule(document, where);
  }

  // One criterion given outside a document (legacy keys), as an `or` term.
  struct Loose {
    nlohmann::json criterion;  // {name: data}
    std::string where;
  };
  Result<void> addAllowOr(const std::vector<Loose>& criteria) {
    if (criteria.empty()) return {};
    Policy::Term term{Policy::Operator::kOr, {}};
    for (const Loose& loose : criteria) {
      auto made = criterion(loose.criterion, loose.where);
      if (!made) return made.error();
      term.criteria.push_back(std::move(*made));
    }
    policy_.allow_.push_back(std::move(term));
    return {};
  }

  Result<void> addDefaultClientCertificateDeny() {
    Policy::Term term{Policy::Operator::kOr, {}};
    auto made = criterion(nlohmann::json{{"invalid_client_certificate", true}},
                          "downstream mTLS default deny");
    if (!made) return made.error();
    term.criteria.push_back(std::move(*made));
    policy_.deny_.push_back(std::move(term));
    return {};
  }

  Policy take() { return std::move(policy_); }

 private:
  Result<void> addRule(const nlohmann::json& rule, const std::string& where) {
    for (auto entry = rule.begin(); entry != rule.end(); ++entry) {
      const std::string& action = entry.key();
      const nlohmann::json& body = entry.value();
      std::string at = where + "." + action;
      std::vector<Policy::Term>* terms;
      if (action == "allow") {
        terms = &policy_.allow_;
      } else if (action == "deny") {
        terms = &policy_.deny_;
      } else {
        return Error::invalid(where + ": unsupported action " + quote(action) +
                              " (expected allow or deny)");
      }
      if (!body.is_object()) {
        return Error::invalid(at + ": expected an object of operators (and, or, not, nor), got " +
                              describeJson(body));
      }
      for (auto entry = body.begin(); entry != body.end(); ++entry) {
        const std::string& name = entry.key();
        if (name != "and" && name != "or" && name != "not" && name != "nor" && name != "action") {
          return Error::invalid(at + ": unsupported operator " + quote(name) +
                                " (expected and, or, not or nor)");
        }
      }
      // Pomerium's order within a rule: and, or, not, nor ("action" is
      // tolerated and ignored, as Pomerium's parser does).
      static constexpr std::pair<std::string_view, Policy::Operator> kOperators[] = {
          {"and", Policy::Operator::kAnd},
          {"or", Policy::Operator::kOr},
          {"not", Policy::Operator::kNot},
          {"nor", Policy::Operator::kNor},
      };
      for (const auto& [name, op] : kOperators) {
        auto it = body.find(name);
        if (it == body.end()) continue;
        std::string op_at = at + "." + std::string(name);
        if (!it->is_array()) {
          return Error::invalid(op_at + ": expected a list of criteria, got " + describeJson(*it));
        }
        Policy::Term term{op, {}};
        for (size_t i = 0; i < it->size(); ++i) {
          auto made = criterion((*it)[i], op_at + "[" + std::to_string(i) + "]");
          if (!made) return made.error();
          term.criteria.push_back(std::move(*made));
        }
        // An empty operator contributes nothing, as in Pomerium's generator.
        if (!term.criteria.empty()) terms->push_back(std::move(term));
      }
    }
    return {};
  }

  Result<std::unique_ptr<const Criterion>> criterion(const nlohmann::json& object,
                                                     const std::string& where) {
    if (!object.is_object() || object.size() != 1) {
      return Error::invalid(
          where +
          ": a criterion is an object with exactly one key "
          "(e.g. {email: {is: user@example.com}}), got " +
          (object.is_object() ? std::to_string(object.size()) + " keys" : describeJson(object)));
    }
    // An iterator, not a structured binding of *items().begin(): that one
    // reads a dead temporary (it breaks in optimised builds).
    auto entry = object.begin();
    const std::string& key = entry.key();
    const nlohmann::json& data = entry.value();
    std::string_view full = key;
    size_t slash = full.find('/');
    std::string_view name = full.substr(0, slash);
    std::string_view sub_path = slash == std::string_view::npos ? "" : full.substr(slash + 1);
    CriterionFactory factory = registry_.find(name);
    if (factory == nullptr) {
      std::string message = where + ": unknown criterion " + quote(name);
      std::string_view best;
      size_t best_distance = 3;
      for (std::string_view candidate : registry_.names()) {
        size_t distance = editDistance(name, candidate);
        if (distance < best_distance) {
          best = candidate;
          best_distance = distance;
        }
      }
      if (!best.empty()) message += " (did you mean " + quote(best) + "?)";
      return Error::invalid(std::move(message));
    }
    auto made = factory(CriterionArgs{sub_path, data, time_zones_});
    if (!made) return Error::invalid(where + "." + key + ": " + made.error().message);
    return made;
  }

  const CriterionRegistry& registry_;
  const TimeZoneDatabase& time_zones_;
  Policy policy_;
};

Policy::~Policy() = default;

Result<Policy> Policy::compileDocument(std::string_view json_text, std::string_view where,
                                       const CompileOptions& options) {
  nlohmann::json document = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Error::invalid(std::string(where) + ": not valid JSON");
  PolicyCompiler compiler(options);
  if (auto ok = compiler.addDocument(document, std::string(where)); !ok) return ok.error();
  if (options.deny_invalid_client_certificate) {
    if (auto ok = compiler.addDefaultClientCertificateDeny(); !ok) return ok.error();
  }
  return compiler.take();
}

Result<Policy> Policy::compile(const config::Route& route, const CompileOptions& options) {
  std::string where = "routes[" + std::to_string(route.index) + "]";

  // Pomerium's Policy.Validate (config repeats it; a Route built by hand
  // gets the same answer here).
  if (route.allow_public_unauthenticated_access &&
      (!route.allowed_users.empty() || !route.allowed_domains.empty() ||
       !route.allowed_idp_claims.empty() || !route.policy_json.empty() ||
       route.allow_any_authenticated_user)) {
    return Error::invalid(where +
                          ": allow_public_unauthenticated_access cannot be combined with other "
                          "policy keys");
  }
  if (route.allow_any_authenticated_user &&
      (!route.allowed_users.empty() || !route.allowed_domains.empty())) {
    return Error::invalid(where +
                          ": allow_any_authenticated_user cannot be combined with allowed_users or "
                          "allowed_domains");
  }

  PolicyCompiler compiler(options);

  // The legacy keys become one `allow: {or: [...]}` rule, in Pomerium's
  // order (config/policy_ppl.go ToPPL).
  std::vector<PolicyCompiler::Loose> legacy;
  if (route.allow_public_unauthenticated_access) {
    legacy.push_back({{{"accept", true}}, where + ".allow_public_unauthenticated_access"});
  }
  if (route.cors_allow_preflight) {
    legacy.push_back({{{"cors_preflight", true}}, where + ".cors_allow_preflight"});
  }
  if (route.allow_any_authenticated_user) {
    legacy.push_back({{{"authenticated_user", true}}, where + ".allow_any_authenticated_user"});
  }
  for (size_t i = 0; i < route.allowed_domains.size(); ++i) {
    legacy.push_back({{{"domain", {{"is", route.allowed_domains[i]}}}},
                      where + ".allowed_domains[" + std::to_string(i) + "]"});
  }
  for (const auto& [claim, values] : route.allowed_idp_claims) {  // sorted by name, as Pomerium
    for (size_t i = 0; i < values.size(); ++i) {
      legacy.push_back({{{"claim/" + claim, legacyClaimValue(values[i])}},
                        where + ".allowed_idp_claims." + claim + "[" + std::to_string(i) + "]"});
    }
  }
  for (size_t i = 0; i < route.allowed_users.size(); ++i) {
    std::string at = where + ".allowed_users[" + std::to_string(i) + "]";
    legacy.push_back({{{"user", {{"is", route.allowed_users[i]}}}}, at});
    legacy.push_back({{{"email", {{"is", route.allowed_users[i]}}}}, at});
  }
  if (auto ok = compiler.addAllowOr(legacy); !ok) return ok.error();

  if (!route.policy_json.empty()) {
    nlohmann::json document =
        nlohmann::json::parse(route.policy_json, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return Error::invalid(where + ".policy: not valid JSON");
    if (auto ok = compiler.addDocument(document, where + ".policy"); !ok) return ok.error();
  }
  if (options.deny_invalid_client_certificate) {
    if (auto ok = compiler.addDefaultClientCertificateDeny(); !ok) return ok.error();
  }
  return compiler.take();
}

CriterionResult Policy::evaluateTerm(const Term& term, const Input& input) {
  // Pomerium's merge_with_and / merge_with_or over the criteria's results,
  // inverted first for not / nor.
  bool invert = term.op == Operator::kNot || term.op == Operator::kNor;
  bool any_mode = term.op == Operator::kOr || term.op == Operator::kNor;
  size_t true_count = 0;
  Reasons true_reasons;
  Reasons false_reasons;
  for (const auto& criterion : term.criteria) {
    CriterionResult result = criterion->evaluate(input);
    if (result.value != invert) {
      ++true_count;
      true_reasons.add(result.reasons);
    } else {
      false_reasons.add(result.reasons);
    }
  }
  bool value = any_mode ? true_count > 0 : true_count == term.criteria.size();
  return {value, value ? true_reasons : false_reasons};
}

CriterionResult Policy::evaluateAction(const std::vector<Term>& terms, const Input& input) {
  // merge_with_or over the terms; no terms is Pomerium's default
  // [false, set()].
  bool any = false;
  Reasons true_reasons;
  Reasons false_reasons;
  for (const Term& term : terms) {
    CriterionResult result = evaluateTerm(term, input);
    if (result.value) {
      any = true;
      true_reasons.add(result.reasons);
    } else {
      false_reasons.add(result.reasons);
    }
  }
  return {any, any ? true_reasons : false_reasons};
}

Decision Policy::evaluate(const Input& input) const {
  CriterionResult allow = evaluateAction(allow_, input);
  CriterionResult deny = evaluateAction(deny_, input);
  Decision decision;
  decision.allow = allow.value;
  decision.deny = deny.value;
  decision.allow_reasons = allow.reasons;
  decision.deny_reasons = deny.reasons;
  decision.reasons = allow.reasons | deny.reasons;
  return decision;
}

size_t Policy::criterionCount() const {
  size_t n = 0;
  for (const auto* terms : {&allow_, &deny_}) {
    for (const Term& term : *terms) n += term.criteria.size();
  }
  return n;
}

bool Policy::readsSessionOnly() const {
  for (const auto* terms : {&allow_, &deny_}) {
    for (const Term& term : *terms) {
      for (const auto& criterion : term.criteria) {
        if (!criterion->readsSessionOnly()) return false;
      }
    }
  }
  return true;
}

}  // namespace gatehouse::policy

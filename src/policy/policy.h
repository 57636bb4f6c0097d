#pragma once

// A route's authorization policy, compiled once from the route's `policy`
// (Pomerium Policy Language) and its legacy keys (allowed_users,
// allowed_domains, allowed_idp_claims, allow_public_unauthenticated_access,
// allow_any_authenticated_user, cors_allow_preflight), then evaluated for
// every request.
//
// Semantics are Pomerium's (pkg/policy/parser, generator, rules):
//   - a document is a rule object {allow: body, deny: body} or a list of them;
//   - a body holds operators, each a list of criteria:
//       and: all hold; or: some holds; not: none holds (¬A∧¬B);
//       nor: not all hold (¬A∨¬B);
//   - every operator of every rule with the same action is OR-ed;
//   - reasons merge as Pomerium's merge_with_and / merge_with_or: a true
//     result carries the reasons of the true parts, a false one those of the
//     false parts;
//   - access needs a matching allow and no matching deny (Decision).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/options.h"
#include "policy/criterion.h"
#include "policy/decision.h"
#include "policy/input.h"

namespace gatehouse::policy {

class CriterionRegistry;
class TimeZoneDatabase;

struct CompileOptions {
  // Append `deny: {or: [invalid_client_certificate]}`, as Pomerium does for
  // every route when downstream mTLS is configured with the (default)
  // policy_with_default_deny enforcement.
  bool deny_invalid_client_certificate = false;
  // The criteria that may be used; nullptr = CriterionRegistry::builtin().
  const CriterionRegistry* criteria = nullptr;
  // Where time zones come from; nullptr = TimeZoneDatabase::system().
  const TimeZoneDatabase* time_zones = nullptr;
};

class Policy {
 public:
  // Compiles the route's policy. Errors name the route and the place in it:
  //   routes[2].policy.allow.and[1]: unknown criterion "emial" (did you mean "email"?)
  static Result<Policy> compile(const config::Route& route, const CompileOptions& options = {});

  // Compiles a PPL document given as JSON text; `where` starts every error
  // message ("routes[2].policy").
  static Result<Policy> compileDocument(std::string_view json_text, std::string_view where,
                                        const CompileOptions& options = {});

  // Decides one request. Thread-safe (const), does not allocate, and never
  // fails: anything a criterion cannot determine counts as not matching.
  Decision evaluate(const Input& input) const;

  // How many criteria the policy evaluates (for metrics and benchmarks).
  size_t criterionCount() const;

  // True when every criterion reads only the session (none reads the
  // request or the time): the decision for a session is the decision for
  // every request with it, and may be kept.
  bool readsSessionOnly() const;

  Policy(Policy&&) noexcept = default;
  Policy& operator=(Policy&&) noexcept = default;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;
  ~Policy();

 private:
  friend class PolicyCompiler;

  enum class Operator : uint8_t { kAnd, kOr, kNot, kNor };
  struct Term {
    Operator op;
    std::vector<std::unique_ptr<const Criterion>> criteria;
  };

  Policy() = default;
  static CriterionResult evaluateTerm(const Term& term, const Input& input);
  static CriterionResult evaluateAction(const std::vector<Term>& terms, const Input& input);

  std::vector<Term> allow_;
  std::vector<Term> deny_;
};

}  // namespace gatehouse::policy

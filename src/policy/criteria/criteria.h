#pragma once

// The built-in criteria, one file each; registerBuiltinCriteria
// (criterion_registry.cc) lists them by name.

#include <memory>
#include <string_view>

#include "common/result.h"
#include "policy/criterion.h"

namespace gatehouse::policy::criteria {

using Made = Result<std::unique_ptr<const Criterion>>;

Made makeAccept(const CriterionArgs& args);
Made makeReject(const CriterionArgs& args);
Made makeAuthenticatedUser(const CriterionArgs& args);
Made makeEmail(const CriterionArgs& args);
Made makeDomain(const CriterionArgs& args);
Made makeUser(const CriterionArgs& args);
Made makeClaim(const CriterionArgs& args);
Made makeGroups(const CriterionArgs& args);
Made makeHttpMethod(const CriterionArgs& args);
Made makeHttpPath(const CriterionArgs& args);
Made makeSourceIp(const CriterionArgs& args);
Made makeCorsPreflight(const CriterionArgs& args);
Made makeClientCertificate(const CriterionArgs& args);
Made makeInvalidClientCertificate(const CriterionArgs& args);
Made makeDate(const CriterionArgs& args);
Made makeDayOfWeek(const CriterionArgs& args);
Made makeTimeOfDay(const CriterionArgs& args);

// [true, {ok}] or [false, {unauthorized}].
inline CriterionResult verdict(bool matched, Reason ok, Reason unauthorized) {
  return matched ? CriterionResult{true, ok} : CriterionResult{false, unauthorized};
}

// Pomerium's session rule (NewCriterionSessionRule): without a session the
// answer is [false, {user-unauthenticated}], which turns into a sign-in
// redirect. Unlike Pomerium's Rego, the matcher is not consulted at all
// then: in Pomerium `email: {not: x}` or `claim/c: {exclude: x}` holds for a
// request without a session (its email is "" and its claims are empty),
// which would let anonymous requests past such a rule.
inline CriterionResult sessionVerdict(const Input& input, bool matched, Reason ok,
                                      Reason unauthorized) {
  if (!input.session.authenticated) return {false, Reason::kUserUnauthenticated};
  return verdict(matched, ok, unauthorized);
}

// Every criterion but `claim` is a bare name: `email/x` is a mistake.
inline Result<void> requireNoSubPath(const CriterionArgs& args, std::string_view name) {
  if (args.sub_path.empty()) return {};
  return Error::invalid("criterion \"" + std::string(name) + "\" takes no sub-path (\"" +
                        std::string(name) + "/" + std::string(args.sub_path) + "\")");
}

}  // namespace gatehouse::policy::criteria

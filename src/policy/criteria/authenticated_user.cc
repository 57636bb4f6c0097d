// authenticated_user: the request has a session with a user id. Its data is
// ignored. user-ok / user-unauthorized / user-unauthenticated.

#include "policy/criteria/criteria.h"

namespace gatehouse::policy::criteria {

namespace {

class AuthenticatedUser final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  CriterionResult evaluate(const Input& input) const override {
    return sessionVerdict(input, !input.session.user_id.empty(), Reason::kUserOk,
                          Reason::kUserUnauthorized);
  }
};

}  // namespace

Made makeAuthenticatedUser(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "authenticated_user"); !ok) return ok.error();
  return std::unique_ptr<const Criterion>(std::make_unique<AuthenticatedUser>());
}

}  // namespace gatehouse::policy::criteria

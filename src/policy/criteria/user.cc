// user: a string matcher on the session's user id. A session without a user
// id never matches (Pomerium's session.user_id is then undefined).
// user-ok / user-unauthorized / user-unauthenticated.

#include "policy/criteria/criteria.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class User final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  explicit User(StringMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    std::string_view user_id = input.session.user_id;
    return sessionVerdict(input, !user_id.empty() && matcher_.matches(user_id), Reason::kUserOk,
                          Reason::kUserUnauthorized);
  }

 private:
  StringMatcher matcher_;
};

}  // namespace

Made makeUser(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "user"); !ok) return ok.error();
  auto matcher = StringMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<User>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

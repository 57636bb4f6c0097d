// email: a string matcher on the user's email address.
// email-ok / email-unauthorized / user-unauthenticated.

#include "policy/criteria/criteria.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class Email final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  explicit Email(StringMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    return sessionVerdict(input, matcher_.matches(input.session.email), Reason::kEmailOk,
                          Reason::kEmailUnauthorized);
  }

 private:
  StringMatcher matcher_;
};

}  // namespace

Made makeEmail(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "email"); !ok) return ok.error();
  auto matcher = StringMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<Email>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

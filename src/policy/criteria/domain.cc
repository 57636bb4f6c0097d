// domain: a string matcher on the domain of the user's email address, which
// is, as Pomerium computes it (split(email, "@")[1]), the text between the
// first '@' and the next one. An email without '@' has no domain and never
// matches. domain-ok / domain-unauthorized / user-unauthenticated.

#include "policy/criteria/criteria.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class Domain final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  explicit Domain(StringMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    std::string_view email = input.session.email;
    size_t at = email.find('@');
    bool matched = false;
    if (at != std::string_view::npos) {
      std::string_view rest = email.substr(at + 1);
      matched = matcher_.matches(rest.substr(0, rest.find('@')));
    }
    return sessionVerdict(input, matched, Reason::kDomainOk, Reason::kDomainUnauthorized);
  }

 private:
  StringMatcher matcher_;
};

}  // namespace

Made makeDomain(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "domain"); !ok) return ok.error();
  auto matcher = StringMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<Domain>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

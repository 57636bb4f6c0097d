// groups: a string list matcher on the user's groups (Input's
// session.groups: IDs and names). groups-ok / groups-unauthorized /
// user-unauthenticated.

#include "policy/criteria/criteria.h"
#include "policy/string_list_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class Groups final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  explicit Groups(StringListMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    return sessionVerdict(input, matcher_.matches(input.session.groups), Reason::kGroupsOk,
                          Reason::kGroupsUnauthorized);
  }

 private:
  StringListMatcher matcher_;
};

}  // namespace

Made makeGroups(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "groups"); !ok) return ok.error();
  auto matcher = StringListMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<Groups>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

// accept: always true, [true, {accept}]. Its data is ignored (usually `true`).

#include "policy/criteria/criteria.h"

namespace gatehouse::policy::criteria {

namespace {

class Accept final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  CriterionResult evaluate(const Input&) const override { return {true, Reason::kAccept}; }
};

}  // namespace

Made makeAccept(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "accept"); !ok) return ok.error();
  return std::unique_ptr<const Criterion>(std::make_unique<Accept>());
}

}  // namespace gatehouse::policy::criteria

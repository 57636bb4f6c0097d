// reject: always false, [false, {reject}]. Its data is ignored.

#include "policy/criteria/criteria.h"

namespace gatehouse::policy::criteria {

namespace {

class Reject final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  CriterionResult evaluate(const Input&) const override { return {false, Reason::kReject}; }
};

}  // namespace

Made makeReject(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "reject"); !ok) return ok.error();
  return std::unique_ptr<const Criterion>(std::make_unique<Reject>());
}

}  // namespace gatehouse::policy::criteria

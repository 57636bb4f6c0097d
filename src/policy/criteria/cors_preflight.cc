// cors_preflight: the request is a CORS preflight: OPTIONS with non-empty
// Access-Control-Request-Method and Origin headers. Its data is ignored.
// cors-request / non-cors-request.

#include "policy/criteria/criteria.h"

namespace gatehouse::policy::criteria {

namespace {

bool hasNonEmpty(const HeaderLookup* headers, std::string_view name) {
  if (headers == nullptr) return false;
  auto value = headers->get(name);
  return value.has_value() && !value->empty();
}

class CorsPreflight final : public Criterion {
 public:
  CriterionResult evaluate(const Input& input) const override {
    const auto& request = input.request;
    bool preflight = request.method == "OPTIONS" &&
                     hasNonEmpty(request.headers, "Access-Control-Request-Method") &&
                     hasNonEmpty(request.headers, "Origin");
    return verdict(preflight, Reason::kCorsRequest, Reason::kNonCorsRequest);
  }
};

}  // namespace

Made makeCorsPreflight(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "cors_preflight"); !ok) return ok.error();
  return std::unique_ptr<const Criterion>(std::make_unique<CorsPreflight>());
}

}  // namespace gatehouse::policy::criteria

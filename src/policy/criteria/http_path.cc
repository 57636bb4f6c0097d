// http_path: a string matcher on the request path (normalised, without the
// query). http-path-ok / http-path-unauthorized.

#include "policy/criteria/criteria.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class HttpPath final : public Criterion {
 public:
  explicit HttpPath(StringMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    return verdict(matcher_.matches(input.request.path), Reason::kHttpPathOk,
                   Reason::kHttpPathUnauthorized);
  }

 private:
  StringMatcher matcher_;
};

}  // namespace

Made makeHttpPath(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "http_path"); !ok) return ok.error();
  auto matcher = StringMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<HttpPath>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

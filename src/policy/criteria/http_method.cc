// http_method: a string matcher on the request method (case-sensitive, as
// the method is sent: "GET"). http-method-ok / http-method-unauthorized.

#include "policy/criteria/criteria.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

class HttpMethod final : public Criterion {
 public:
  explicit HttpMethod(StringMatcher matcher) : matcher_(std::move(matcher)) {}
  CriterionResult evaluate(const Input& input) const override {
    return verdict(matcher_.matches(input.request.method), Reason::kHttpMethodOk,
                   Reason::kHttpMethodUnauthorized);
  }

 private:
  StringMatcher matcher_;
};

}  // namespace

Made makeHttpMethod(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "http_method"); !ok) return ok.error();
  auto matcher = StringMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(std::make_unique<HttpMethod>(std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

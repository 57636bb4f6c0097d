#include "policy/criterion_registry.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

TEST(CriterionRegistry, BuiltinHasEveryCriterion) {
  std::vector<std::string_view> expected = {"accept",
                                            "authenticated_user",
                                            "claim",
                                            "client_certificate",
                                            "cors_preflight",
                                            "date",
                                            "day_of_week",
                                            "domain",
                                            "email",
                                            "groups",
                                            "http_method",
                                            "http_path",
                                            "invalid_client_certificate",
                                            "reject",
                                            "source_ip",
                                            "time_of_day",
                                            "user"};
  EXPECT_EQ(CriterionRegistry::builtin().names(), expected);
}

// A criterion only this test knows.
class AlwaysUnauthenticated final : public Criterion {
 public:
  CriterionResult evaluate(const Input&) const override {
    return {false, Reason::kUserUnauthenticated};
  }
};

Result<std::unique_ptr<const Criterion>> makeAlwaysUnauthenticated(const CriterionArgs&) {
  return std::unique_ptr<const Criterion>(std::make_unique<AlwaysUnauthenticated>());
}

TEST(CriterionRegistry, CompilerUsesTheGivenRegistry) {
  CriterionRegistry registry;
  registry.add("accept", CriterionRegistry::builtin().find("accept"));
  registry.add("login_first", makeAlwaysUnauthenticated);
  CompileOptions options;
  options.criteria = &registry;

  auto policy =
      Policy::compileDocument(R"({"allow": {"or": [{"login_first": true}]}})", "p", options);
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  Request r;
  EXPECT_EQ(names(policy->evaluate(r.input()).allow_reasons), Names{"user-unauthenticated"});

  auto unknown =
      Policy::compileDocument(R"({"allow": {"or": [{"email": "a@b.c"}]}})", "p", options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "p.allow.or[0]: unknown criterion \"email\"");
}

}  // namespace
}  // namespace gatehouse::policy::testing

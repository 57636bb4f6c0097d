// A policy error names the route, the place in the policy and the criterion.
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

std::string errorForThirdRoute(std::string_view policy_yaml) {
  std::string text =
      "routes:\n"
      "  - from: https://a.example.com\n    to: http://a.internal\n"
      "  - from: https://b.example.com\n    to: http://b.internal\n"
      "  - from: https://c.example.com\n    to: http://c.internal\n"
      "    policy:\n" +
      indent(policy_yaml, "      ");
  config::LoadResult result = config::loadText(text, "/nonexistent", secretsEnv());
  EXPECT_TRUE(result.errors.empty());
  if (!result.options) return "config rejected it";
  auto policy = Policy::compile(result.options->routes.at(2));
  if (policy) return "compiled";
  return policy.error().message;
}

TEST(PolicyErrors, UnknownCriterionNamesRouteAndCriterion) {
  EXPECT_EQ(errorForThirdRoute(
                "allow:\n  and:\n    - email: a@example.com\n    - emial: b@example.com\n"),
            "routes[2].policy.allow.and[1]: unknown criterion \"emial\" (did you mean \"email\"?)");
  EXPECT_EQ(
      errorForThirdRoute("- allow:\n    or: [{accept: true}]\n- deny:\n    or: [{groupz: x}]\n"),
      "routes[2].policy[1].deny.or[0]: unknown criterion \"groupz\" (did you mean \"groups\"?)");
  EXPECT_EQ(errorForThirdRoute("allow:\n  or: [{pomerium_routes: true}]\n"),
            "routes[2].policy.allow.or[0]: unknown criterion \"pomerium_routes\"");
}

TEST(PolicyErrors, CriterionDataErrorsNameTheCriterion) {
  EXPECT_EQ(errorForThirdRoute("allow:\n  and:\n    - email: {iss: a@example.com}\n"),
            "routes[2].policy.allow.and[0].email: unknown string matcher operator \"iss\" "
            "(expected is, not, contains, starts_with, ends_with, in or not_in)");
  EXPECT_EQ(errorForThirdRoute("allow:\n  and:\n    - claim/groups: {contains: adm}\n"),
            "routes[2].policy.allow.and[0].claim/groups: unknown string list matcher operator "
            "\"contains\" (expected has, is or exclude)");
  EXPECT_EQ(
      errorForThirdRoute("allow:\n  and:\n    - email/x: a@example.com\n"),
      "routes[2].policy.allow.and[0].email/x: criterion \"email\" takes no sub-path (\"email/x\")");
}

TEST(PolicyErrors, Structure) {
  auto error = [](std::string_view yaml) { return compileError(yaml); };
  EXPECT_EQ(error("permit:\n  and: [{accept: true}]\n"),
            "routes[0].policy: unsupported action \"permit\" (expected allow or deny)");
  EXPECT_EQ(error("allow:\n  xor: [{accept: true}]\n"),
            "routes[0].policy.allow: unsupported operator \"xor\" (expected and, or, not or nor)");
  EXPECT_EQ(error("allow:\n  and: {accept: true}\n"),
            "routes[0].policy.allow.and: expected a list of criteria, got an object");
  EXPECT_EQ(
      error("allow: [{accept: true}]\n"),
      "routes[0].policy.allow: expected an object of operators (and, or, not, nor), got a list");
  EXPECT_THAT(error("allow:\n  and:\n    - {accept: true, reject: true}\n"),
              ::testing::StartsWith("routes[0].policy.allow.and[0]: a criterion is an object with "
                                    "exactly one key"));
  EXPECT_THAT(error("allow:\n  and:\n    - accept\n"),
              ::testing::HasSubstr("a criterion is an object with exactly one key"));
  EXPECT_THAT(error("- allow:\n    and: [{accept: true}]\n- 5\n"),
              ::testing::StartsWith("routes[0].policy[1]: expected a rule"));
}

TEST(PolicyErrors, MatchersThatCouldNeverMatchAreRejected) {
  auto error = [](std::string_view criterion) {
    return compileError("deny:\n  or:\n    - " + std::string(criterion) + "\n");
  };
  EXPECT_THAT(error("email: [a@example.com, b@example.com]"),
              ::testing::HasSubstr("to match one of several strings use {in: [...]}"));
  EXPECT_THAT(error("email: {}"), ::testing::HasSubstr("empty string matcher"));
  EXPECT_THAT(error("http_method: true"), ::testing::HasSubstr("got a boolean"));
  EXPECT_THAT(error("email: {in: a@example.com}"),
              ::testing::HasSubstr("\"in\" expects a list of strings, got a string"));
  EXPECT_THAT(error("email: {not_in: [1]}"), ::testing::HasSubstr("got a number in the list"));
  EXPECT_THAT(error("claim/groups: [a, b]"),
              ::testing::HasSubstr("use the or operator with one criterion each"));
  EXPECT_THAT(error("claim/groups: {}"), ::testing::HasSubstr("empty string list matcher"));
  EXPECT_THAT(error("groups: {has: [a]}"),
              ::testing::HasSubstr("expects a string, number or boolean"));
}

TEST(PolicyErrors, DocumentText) {
  auto bad_json = Policy::compileDocument("{\"allow\": ", "routes[7].policy");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.error().message, "routes[7].policy: not valid JSON");
  auto scalar = Policy::compileDocument("42", "routes[7].policy");
  ASSERT_FALSE(scalar.ok());
  EXPECT_THAT(scalar.error().message, ::testing::StartsWith("routes[7].policy: expected a rule"));
  config::Route route;
  route.index = 3;
  route.policy_json = "not json";
  auto policy = Policy::compile(route);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.error().message, "routes[3].policy: not valid JSON");
}

}  // namespace
}  // namespace gatehouse::policy::testing

// Operators, several operators and rules, and how allow and deny combine,
// checked against Pomerium's documentation (docs/internals/ppl.mdx) and its
// generator's semantics (pkg/policy/generator, pkg/policy/rules).
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

// The documentation's operator example: A = domain is example.com,
// B = claim/groups has admin.
Request person(bool a, bool b) {
  Request r = Request::user(a ? "u@example.com" : "u@other.com");
  r.claims = {{"groups", b ? nlohmann::json{"admin"} : nlohmann::json{"staff"}}};
  return r;
}

bool decideOperator(std::string_view op, bool a, bool b) {
  Policy policy =
      compileOk("allow:\n  " + std::string(op) +
                ":\n    - domain:\n        is: example.com\n    - claim/groups: admin\n");
  Request r = person(a, b);
  return policy.evaluate(r.input()).allowed();
}

TEST(Operators, TruthTablesAsDocumented) {
  for (bool a : {false, true}) {
    for (bool b : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "A=" << a << " B=" << b);
      EXPECT_EQ(decideOperator("and", a, b), a && b);    // A ∧ B
      EXPECT_EQ(decideOperator("or", a, b), a || b);     // A ∨ B
      EXPECT_EQ(decideOperator("not", a, b), !a && !b);  // ¬A ∧ ¬B (NOR)
      EXPECT_EQ(decideOperator("nor", a, b), !a || !b);  // ¬A ∨ ¬B (NAND)
    }
  }
}

TEST(Operators, ReasonsMergeAsPomerium) {
  auto reasons = [](std::string_view op, bool a, bool b) {
    Policy policy = compileOk("allow:\n  " + std::string(op) +
                              ":\n    - domain: example.com\n    - claim/groups: admin\n");
    Request r = person(a, b);
    Decision d = policy.evaluate(r.input());
    return names(d.allow_reasons);
  };
  // and: true carries every reason; false only the failing ones.
  EXPECT_EQ(reasons("and", true, true), (Names{"claim-ok", "domain-ok"}));
  EXPECT_EQ(reasons("and", true, false), (Names{"claim-unauthorized"}));
  EXPECT_EQ(reasons("and", false, false), (Names{"claim-unauthorized", "domain-unauthorized"}));
  // or: true carries the passing ones; false every reason.
  EXPECT_EQ(reasons("or", true, false), (Names{"domain-ok"}));
  EXPECT_EQ(reasons("or", true, true), (Names{"claim-ok", "domain-ok"}));
  EXPECT_EQ(reasons("or", false, false), (Names{"claim-unauthorized", "domain-unauthorized"}));
  // not / nor invert the values but keep the reasons.
  EXPECT_EQ(reasons("not", false, false), (Names{"claim-unauthorized", "domain-unauthorized"}));
  EXPECT_EQ(reasons("not", true, false), (Names{"domain-ok"}));
  EXPECT_EQ(reasons("nor", true, false), (Names{"claim-unauthorized"}));
  EXPECT_EQ(reasons("nor", true, true), (Names{"claim-ok", "domain-ok"}));
}

TEST(Operators, AtAGlanceExample) {
  Policy policy = compileOk(
      "allow:\n"
      "  and:\n"
      "    - domain:\n"
      "        is: example.com\n"
      "deny:\n"
      "  or:\n"
      "    - email:\n"
      "        is: user2@example.com\n"
      "    - email:\n"
      "        is: user3@example.com\n");
  Request user1 = Request::user("user1@example.com");
  Request user2 = Request::user("user2@example.com");
  Request outsider = Request::user("user1@other.com");
  Decision d1 = policy.evaluate(user1.input());
  EXPECT_TRUE(d1.allowed());
  EXPECT_EQ(names(d1.allow_reasons), Names{"domain-ok"});
  EXPECT_EQ(names(d1.deny_reasons), Names{"email-unauthorized"});
  Decision d2 = policy.evaluate(user2.input());
  EXPECT_TRUE(d2.allow);
  EXPECT_TRUE(d2.deny);
  EXPECT_FALSE(d2.allowed());  // deny wins
  EXPECT_EQ(names(d2.deny_reasons), Names{"email-ok"});
  EXPECT_FALSE(policy.evaluate(outsider.input()).allowed());
}

TEST(Operators, SeveralOperatorsInOneRuleAreOred) {
  // The documentation: anyone named Smith, or anyone at domain1 or domain2.
  const char* one_rule =
      "allow:\n"
      "  and:\n"
      "    - claim/family_name: Smith\n"
      "  or:\n"
      "    - domain:\n"
      "        is: domain1.com\n"
      "    - domain:\n"
      "        is: domain2.com\n";
  const char* two_rules =
      "- allow:\n"
      "    and:\n"
      "      - claim/family_name: Smith\n"
      "- allow:\n"
      "    or:\n"
      "      - domain:\n"
      "          is: domain1.com\n"
      "      - domain:\n"
      "          is: domain2.com\n";
  for (const char* text : {one_rule, two_rules}) {
    SCOPED_TRACE(text);
    Policy policy = compileOk(text);
    Request smith = Request::user("x@elsewhere.com");
    smith.claims = {{"family_name", {"Smith"}}};
    Request jones = Request::user("x@domain2.com");
    jones.claims = {{"family_name", {"Jones"}}};
    Request nobody = Request::user("x@elsewhere.com");
    nobody.claims = {{"family_name", {"Jones"}}};
    Decision ds = policy.evaluate(smith.input());
    EXPECT_TRUE(ds.allowed());
    EXPECT_EQ(names(ds.allow_reasons), Names{"claim-ok"});
    EXPECT_TRUE(policy.evaluate(jones.input()).allowed());
    Decision dn = policy.evaluate(nobody.input());
    EXPECT_FALSE(dn.allowed());
    EXPECT_EQ(names(dn.allow_reasons), (Names{"claim-unauthorized", "domain-unauthorized"}));
  }
}

TEST(Operators, DenyWithNotIsAnAllowList) {
  // The documentation's criteria example: deny anything but GET.
  Policy policy = compileOk(
      "allow:\n  and:\n    - claim/family_name: Smith\n"
      "deny:\n  not:\n    - http_method:\n        is: GET\n");
  Request smith = Request::user("s@example.com");
  smith.claims = {{"family_name", {"Smith"}}};
  EXPECT_TRUE(policy.evaluate(smith.input()).allowed());
  smith.method = "POST";
  Decision d = policy.evaluate(smith.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.deny_reasons), Names{"http-method-unauthorized"});
}

TEST(Operators, NoMatchingAllowIsDenied) {
  Policy deny_only = compileOk("deny:\n  or:\n    - reject: true\n");
  Request r = Request::user("a@example.com");
  Decision d = deny_only.evaluate(r.input());
  EXPECT_FALSE(d.allow);
  EXPECT_FALSE(d.deny);
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.allow_reasons.empty());
}

TEST(Operators, EmptyOperatorsContributeNothing) {
  Policy policy = compileOk("allow:\n  and: []\n  or: []\n");
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(policy.criterionCount(), 0u);
  // An empty `and` next to a real operator does not make the rule fail.
  Policy mixed = compileOk("allow:\n  and: []\n  or: [{accept: true}]\n");
  EXPECT_TRUE(mixed.evaluate(r.input()).allowed());
}

TEST(Operators, PomeriumGeneratorExample) {
  // pkg/policy/generator/generator_test.go: every operator over `accept`.
  Policy policy = compileOk(
      "- allow:\n"
      "    and: [{accept: 1}, {accept: 1}, {accept: 1}]\n"
      "    or: [{accept: 1}, {accept: 1}, {accept: 1}]\n"
      "    not: [{accept: 1}, {accept: 1}, {accept: 1}]\n"
      "    nor: [{accept: 1}, {accept: 1}, {accept: 1}]\n"
      "- allow:\n"
      "    and: [{accept: 1}]\n"
      "- deny:\n"
      "    nor: [{accept: 1}, {accept: 1}]\n");
  Request r;
  Decision d = policy.evaluate(r.input());
  EXPECT_TRUE(d.allow);
  EXPECT_FALSE(d.deny);  // nor over always-true criteria is false
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), Names{"accept"});
  EXPECT_EQ(names(d.deny_reasons), Names{"accept"});
  EXPECT_EQ(policy.criterionCount(), 15u);
}

TEST(Operators, UnauthenticatedReasonSurvivesForSignInRedirect) {
  // Pomerium turns user-unauthenticated on either side into a sign-in
  // redirect; it must reach the decision through the operators.
  Policy policy =
      compileOk("allow:\n  or:\n    - email: a@example.com\n    - http_path: /public\n");
  Request anonymous;
  anonymous.path = "/private";
  Decision d = policy.evaluate(anonymous.input());
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(names(d.allow_reasons), (Names{"http-path-unauthorized", "user-unauthenticated"}));
  anonymous.path = "/public";
  EXPECT_TRUE(policy.evaluate(anonymous.input()).allowed());
}

TEST(Operators, JsonDocumentsCompileDirectly) {
  auto policy = Policy::compileDocument(
      R"([{"allow": {"or": [{"email": {"is": "a@example.com"}}]}},
          {"deny": {"and": [{"http_method": "DELETE"}]}}])",
      "test");
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  Request a = Request::user("a@example.com");
  EXPECT_TRUE(policy->evaluate(a.input()).allowed());
  a.method = "DELETE";
  EXPECT_FALSE(policy->evaluate(a.input()).allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

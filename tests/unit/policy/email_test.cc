#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

TEST(EmailCriterion, BareStringMeansIs) {
  Policy policy = compileOk("allow:\n  and:\n    - email: alice@example.com\n");
  Request alice = Request::user("alice@example.com");
  Request bob = Request::user("bob@example.com");
  Decision yes = policy.evaluate(alice.input());
  Decision no = policy.evaluate(bob.input());
  EXPECT_TRUE(yes.allowed());
  EXPECT_EQ(names(yes.allow_reasons), Names{"email-ok"});
  EXPECT_FALSE(no.allowed());
  EXPECT_EQ(names(no.allow_reasons), Names{"email-unauthorized"});
}

TEST(EmailCriterion, Operators) {
  struct Case {
    std::string matcher;
    std::string email;
    bool allowed;
  };
  const Case cases[] = {
      {"{is: alice@example.com}", "alice@example.com", true},
      {"{is: alice@example.com}", "Alice@example.com", false},  // case-sensitive, as Rego ==
      {"{not: alice@example.com}", "bob@example.com", true},
      {"{not: alice@example.com}", "alice@example.com", false},
      {"{starts_with: admin@}", "admin@example.com", true},
      {"{starts_with: admin@}", "user@example.com", false},
      {"{ends_with: '@example.com'}", "a@example.com", true},
      {"{ends_with: '@example.com'}", "a@example.org", false},
      {"{contains: ample}", "a@example.com", true},
      {"{contains: xyz}", "a@example.com", false},
      {"{in: [a@x.com, b@x.com]}", "b@x.com", true},
      {"{in: [a@x.com, b@x.com]}", "c@x.com", false},
      {"{not_in: [a@x.com, b@x.com]}", "c@x.com", true},
      {"{not_in: [a@x.com, b@x.com]}", "a@x.com", false},
      // Several operators in one matcher must all hold.
      {"{starts_with: a, ends_with: '.com'}", "alice@x.com", true},
      {"{starts_with: a, ends_with: '.com'}", "alice@x.org", false},
      {"{ends_with: '@x.com', not: boss@x.com}", "boss@x.com", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.matcher + " vs " + c.email);
    Policy policy = compileOk("allow:\n  and:\n    - email: " + c.matcher + "\n");
    Request r = Request::user(c.email);
    Decision d = policy.evaluate(r.input());
    EXPECT_EQ(d.allowed(), c.allowed);
    EXPECT_EQ(names(d.allow_reasons), Names{c.allowed ? "email-ok" : "email-unauthorized"});
  }
}

TEST(EmailCriterion, NoSessionAsksToSignInEvenForNegativeMatchers) {
  // Pomerium's Rego would let an anonymous request satisfy {not: x}: its
  // email is "". Gatehouse asks it to sign in.
  for (const char* matcher : {"alice@example.com", "{not: evil@example.com}", "{not_in: [a]}"}) {
    SCOPED_TRACE(matcher);
    Policy policy = compileOk(std::string("allow:\n  and:\n    - email: ") + matcher + "\n");
    Request anonymous;
    Decision d = policy.evaluate(anonymous.input());
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(names(d.allow_reasons), Names{"user-unauthenticated"});
  }
}

TEST(EmailCriterion, MissingEmailIsEmptyString) {
  Policy policy = compileOk("allow:\n  and:\n    - email: {not: a@example.com}\n");
  Request r = Request::user("");
  EXPECT_TRUE(policy.evaluate(r.input()).allowed());
}

}  // namespace
}  // namespace gatehouse::policy::testing

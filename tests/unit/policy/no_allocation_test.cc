// Evaluating a compiled policy allocates nothing: global operator new is
// replaced in this test binary by one that counts (support/allocation_counter.h).
#include "support/allocation_counter.h"
#include "unit/policy/fake_time_zones.h"
#include "unit/policy/policy_test_util.h"

namespace gatehouse::policy::testing {
namespace {

using ::gatehouse::testing::AllocationWindow;

TEST(NoAllocation, CounterWorks) {
  AllocationWindow window;
  // A direct call: a new-expression may be optimised away.
  void* p = ::operator new(16);
  ::operator delete(p);
  std::string text(100, 'x');  // a library allocation counts too
  EXPECT_EQ(window.count(), 2u);
}

TEST(NoAllocation, EvaluatingEveryCriterion) {
  Policy policy = compileOk(
      "- allow:\n"
      "    and:\n"
      "      - authenticated_user: true\n"
      "      - email: {ends_with: '@example.com', not_in: [boss@example.com]}\n"
      "      - domain: example.com\n"
      "      - user: {starts_with: user-}\n"
      "      - claim/groups: {has: admins, exclude: banned}\n"
      "      - claim/address/country: FR\n"
      "      - groups: {has: devs}\n"
      "      - http_method: {in: [GET, POST]}\n"
      "      - http_path: {starts_with: /api/}\n"
      "      - source_ip: [10.0.0.0/8, '2001:db8::/32']\n"
      "      - client_certificate: {san_dns: {ends_with: .internal}}\n"
      "      - date: {after: '2020-01-01', before: '2100-01-01'}\n"
      "      - day_of_week: {days: mon-fri, timezone: Europe/Paris}\n"
      "      - time_of_day: {timezone: America/New_York, after: '0:00', before: '23:59:59'}\n"
      "    or:\n"
      "      - cors_preflight: true\n"
      "      - accept: true\n"
      "    not:\n"
      "      - reject: true\n"
      "    nor:\n"
      "      - invalid_client_certificate: true\n"
      "- deny:\n"
      "    or:\n"
      "      - email: evil@example.com\n"
      "      - claim/example.com/role: {is: intruder}\n",
      fakeZones());
  Request r = Request::user("alice@example.com", "user-42");
  r.method = "GET";
  r.path = "/api/things";
  r.source_ip = "10.1.2.3";
  r.headers = {{"Origin", "https://x"}, {"Accept", "application/json"}};
  r.now = utc(2024, 3, 6, 15);  // a Wednesday
  r.claims = {{"groups", {"admins", "devs"}}, {"address", {{"country", "FR"}}}};
  r.groups = {"devs"};
  r.cert_presented = true;
  r.cert_valid = true;
  r.san_dns = {"client.internal"};
  const Input& input = r.input();

  Decision warm = policy.evaluate(input);
  EXPECT_TRUE(warm.allowed()) << warm.reasons.toString();

  AllocationWindow window;
  size_t allowed = 0;
  for (int i = 0; i < 1000; ++i) allowed += policy.evaluate(input).allowed() ? 1 : 0;
  EXPECT_EQ(window.count(), 0u);
  EXPECT_EQ(allowed, 1000u);
}

TEST(NoAllocation, DeniedAndUnauthenticatedPaths) {
  Policy policy = compileOk(
      "allow:\n  or:\n    - email: a@example.com\n    - claim/groups: admins\n"
      "deny:\n  not:\n    - source_ip: 10.0.0.0/8\n");
  Request anonymous;
  anonymous.source_ip = "192.0.2.1";
  const Input& input = anonymous.input();
  AllocationWindow window;
  Decision d = policy.evaluate(input);
  EXPECT_EQ(window.count(), 0u);
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.deny);
}

}  // namespace
}  // namespace gatehouse::policy::testing

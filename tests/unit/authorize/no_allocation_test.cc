// A JWT cache hit and an engine decision allocate nothing: global operator
// new is replaced in this test binary by one that counts
// (support/allocation_counter.h).
#include "authorize/engine.h"
#include "support/allocation_counter.h"
#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

using ::gatehouse::testing::AllocationWindow;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

TEST(NoAllocation, JwtCacheHit) {
  IdentityJwt jwt(testing::ecKey(), std::vector<std::string>{"department", "level"});
  JwtCache cache;
  testing::User user;
  user.groups = {"engineering", "a-rather-long-group-name-that-does-not-fit-inline"};
  user.claims = {{"department", {"R&D", "Operations and everything else"}}, {"level", 12}};
  Identity identity = user.identity();
  ASSERT_TRUE(cache.get(jwt, identity, "app.example.com", IssuerFormat::kHostOnly, kNow));
  AllocationWindow window;
  for (int i = 0; i < 10; ++i) {
    auto token = cache.get(jwt, identity, "app.example.com", IssuerFormat::kHostOnly,
                           kNow + std::chrono::seconds(i));
    ASSERT_TRUE(token);
  }
  EXPECT_EQ(window.count(), 0U);
  EXPECT_EQ(cache.stats().hits, 10U);
}

TEST(NoAllocation, EngineEvaluate) {
  auto routes = testing::loadRoutes(R"(- from: https://a.example.com
  to: http://a.internal
  allowed_users: [alice@example.com]
)");
  EngineSettings settings;
  settings.signing_key = testing::ecKey();
  auto engine = Engine::create(routes, std::move(settings));
  ASSERT_TRUE(engine);
  policy::Input input;
  input.request.method = "GET";
  input.request.path = "/";
  input.request.host = "a.example.com";
  input.session.authenticated = true;
  input.session.user_id = "u";
  input.session.email = "alice@example.com";
  AllocationWindow window;
  bool allowed = (*engine)->evaluate(0, input).allowed();
  EXPECT_EQ(window.count(), 0U);
  EXPECT_TRUE(allowed);
}

}  // namespace
}  // namespace gatehouse::authorize

// A JWT cache hit and an engine decision allocate nothing: global operator
// new is replaced in this test binary by one that counts while a window is
// open.
#include <atomic>
#include <cstdlib>
#include <new>

#include "authorize/engine.h"
#include "unit/authorize/test_util.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<size_t> allocations{0};

void* countedAllocate(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return countedAllocate(size); }
void* operator new[](std::size_t size) { return countedAllocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return countedAllocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace gatehouse::authorize {
namespace {

class AllocationWindow {
 public:
  AllocationWindow() {
    allocations = 0;
    counting = true;
  }
  ~AllocationWindow() { counting = false; }
  size_t count() const { return allocations.load(); }
};

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

#include "databroker/client_awaitable.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <thread>

#include "databroker/local_client.h"
#include "databroker/memory_backend.h"
#include "unit/databroker/test_util.h"

namespace gatehouse::databroker::testing {
namespace {

TEST(ClientAwaitable, ACoroutineResumesOnItsOwnThreadWithTheAnswer) {
  std::shared_ptr<Backend> backend = makeMemoryBackend();
  ASSERT_TRUE(backend->put({rec("session", "s1", R"({"user_id":"u1"})")}).ok());
  auto client = makeLocalClient(backend);
  asio::io_context io;
  std::thread::id loop_thread = std::this_thread::get_id();
  std::optional<Result<Record>> found;
  std::optional<Result<Record>> missing;
  bool resumed_on_loop = false;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        found = co_await awaitCall<Record>([&](auto done) { client->get("session", "s1", done); });
        resumed_on_loop = std::this_thread::get_id() == loop_thread;
        missing = co_await awaitCall<Record>([&](auto done) { client->get("session", "x", done); });
      },
      asio::detached);
  io.run();  // returns once the coroutine is done: the pending call kept it running
  ASSERT_TRUE(found.has_value() && found->ok());
  EXPECT_EQ((*found)->data, R"({"user_id":"u1"})");
  EXPECT_TRUE(resumed_on_loop);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace gatehouse::databroker::testing

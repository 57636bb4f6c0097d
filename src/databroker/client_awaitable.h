#pragma once

// Awaiting a databroker::Client call from a coroutine on an event loop. The
// client answers on its own thread; the answer is posted back to the
// coroutine's executor, so the coroutine resumes on its own worker and the
// worker never blocks:
//
//   Result<Record> session = co_await databroker::awaitCall<Record>(
//       [&](auto done) { client.get("session", id, std::move(done)); });

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "databroker/client.h"
#include "net/asio.h"

namespace gatehouse::databroker {

template <typename T, typename Start>
Task<Result<T>> awaitCall(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<T>)>(
      [start = std::move(start)](auto handler) mutable {
        auto executor = asio::get_associated_executor(handler);
        // Keeps the event loop running while the client works.
        auto work = std::make_shared<asio::executor_work_guard<decltype(executor)>>(executor);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start(Callback<T>([shared, work, executor](Result<T> result) {
          asio::post(executor, [shared, work, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
            work->reset();
          });
        }));
      },
      asio::use_awaitable);
}

}  // namespace gatehouse::databroker

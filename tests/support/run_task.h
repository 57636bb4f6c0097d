#pragma once

// Runs a coroutine to completion on a private io_context, for unit tests.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <utility>

#include "common/result.h"
#include "net/asio.h"

namespace gatehouse::testing {

template <typename T>
T run(Task<T> task) {
  asio::io_context io;
  std::optional<T> out;
  auto wrapper = [&]() -> Task<void> { out.emplace(co_await std::move(task)); };
  asio::co_spawn(io, wrapper(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return std::move(*out);
}

}  // namespace gatehouse::testing

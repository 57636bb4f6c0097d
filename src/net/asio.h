#pragma once

// The Asio names Gatehouse uses everywhere. Including this pulls in Asio's
// core (coroutines, TCP, timers) but not SSL or Beast: keep those in the
// few .cc files that need them.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace gatehouse {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <typename T = void>
using Task = asio::awaitable<T>;
}  // namespace gatehouse

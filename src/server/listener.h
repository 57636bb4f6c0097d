#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "net/asio.h"

namespace gatehouse::server {

// Resolves a Pomerium listen address (":443", "0.0.0.0:8443",
// "[::1]:443", "localhost:8080", "127.0.0.1:0") to endpoints. An empty host
// means every interface (IPv6 and IPv4).
Result<std::vector<tcp::endpoint>> resolveListenAddress(const std::string& address);

// An acceptor on `endpoint` with SO_REUSEPORT, so that every worker can
// own one and the kernel spreads connections across them.
Result<tcp::acceptor> openAcceptor(asio::io_context& io, const tcp::endpoint& endpoint);

}  // namespace gatehouse::server

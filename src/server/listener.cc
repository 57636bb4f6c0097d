#include "server/listener.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include "common/strings.h"

namespace gatehouse::server {

Result<std::vector<tcp::endpoint>> resolveListenAddress(const std::string& address) {
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Error::invalid("invalid address \"" + address + "\"");
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return Error::invalid("address \"" + address + "\" has no port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  auto port_number = parseUint(port);
  if (!port_number || *port_number > 65535) {
    return Error::invalid("address \"" + address + "\": invalid port");
  }
  auto p = static_cast<uint16_t>(*port_number);
  if (host.empty()) return std::vector<tcp::endpoint>{tcp::endpoint(tcp::v6(), p)};
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(literal, p)};
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, ec);
  if (ec) return Error::invalid("address \"" + address + "\": " + ec.message());
  std::vector<tcp::endpoint> out;
  for (const auto& r : results) out.push_back(r.endpoint());
  if (out.empty()) return Error::invalid("address \"" + address + "\": no addresses");
  // One endpoint is enough for "localhost": prefer IPv4 for predictability.
  for (const auto& e : out) {
    if (e.address().is_v4()) return std::vector<tcp::endpoint>{e};
  }
  return std::vector<tcp::endpoint>{out.front()};
}

Result<tcp::acceptor> openAcceptor(asio::io_context& io, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  tcp::endpoint ep = endpoint;
  acceptor.open(ep.protocol(), ec);
  if (ec && ep.address().is_v6() && ep.address().is_unspecified()) {
    // No IPv6 on this host: fall back to every IPv4 interface.
    ep = tcp::endpoint(tcp::v4(), ep.port());
    acceptor.open(ep.protocol(), ec);
  }
  if (ec) return Error::internal("open listener: " + ec.message());
  if (ep.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  int one = 1;
  ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  acceptor.bind(ep, ec);
  if (ec) {
    return Error::internal("listen on " + ep.address().to_string() + ":" +
                           std::to_string(ep.port()) + ": " + ec.message());
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::internal("listen: " + ec.message());
  return std::move(acceptor);
}

}  // namespace gatehouse::server

#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "net/stream.h"
#include "net/tls.h"

namespace gatehouse::net {

std::unique_ptr<Stream> makeTcpStream(tcp::socket socket);

// Runs the server side of a TLS handshake on an accepted socket, bounded
// by `timeout`. `tls` must stay alive until this completes.
Task<Result<std::unique_ptr<Stream>>> acceptTls(tcp::socket socket,
                                                std::shared_ptr<const ServerTlsContext> tls,
                                                Clock::duration timeout);

// Runs the client side of a TLS handshake to an upstream. `server_name` is
// sent as SNI and, unless the context skips verification, checked against
// the certificate.
Task<Result<std::unique_ptr<Stream>>> connectTls(tcp::socket socket,
                                                 std::shared_ptr<const ClientTlsContext> tls,
                                                 const std::string& server_name,
                                                 Clock::duration timeout);

// Resolves `host` and connects to the first address that answers, bounded
// by `timeout`. ECONNREFUSED is reported as ErrorCode::kUnavailable.
Task<Result<tcp::socket>> connectTcp(const std::string& host, uint16_t port,
                                     Clock::duration timeout);

}  // namespace gatehouse::net

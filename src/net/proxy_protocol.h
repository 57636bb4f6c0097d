#pragma once
// The PROXY protocol (HAProxy's, versions 1 and 2): a layer-4 load balancer
// in front of Gatehouse opens each connection with a header that names the
// client's address, which the TCP connection itself no longer carries.
//
// The header is untrusted input until proven otherwise: the parser is
// strict (exact v1 grammar, v2 lengths checked against the address family,
// bounded sizes), never reads past `bytes`, and reports how many bytes the
// header took so that the caller consumes exactly those and nothing of the
// payload that follows.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "net/asio.h"
#include "net/stream.h"

namespace gatehouse::net {

struct ProxyHeader {
  size_t length = 0;  // bytes of the header, payload starts after them
  // The client and the address it connected to, when the header names
  // them. Empty for v1 "UNKNOWN", v2 LOCAL (the balancer's own health
  // checks) and v2 families other than TCP over IPv4/IPv6: the
  // connection's own addresses stand.
  std::optional<tcp::endpoint> source;
  std::optional<tcp::endpoint> destination;
};

struct ProxyParse {
  enum Status { kNeedMore, kInvalid, kDone };
  Status status = kNeedMore;
  ProxyHeader header;  // kDone
  std::string error;   // kInvalid: why, for the log
};

// v1 headers are at most 107 bytes; v2 headers at most this many (16 bytes
// and the address block with its TLVs). Longer ones are refused.
inline constexpr size_t kProxyV1MaxLength = 107;
inline constexpr size_t kProxyV2MaxLength = 16 + 2048;

// Parses the start of a connection. kNeedMore: `bytes` is a valid prefix of
// a header, read more (the caller bounds how long it waits).
ProxyParse parseProxyHeader(std::string_view bytes);

// A stream whose remote endpoint is the client named by a PROXY header
// rather than the balancer that connected; everything else is the wrapped
// stream's.
std::unique_ptr<Stream> withRemoteEndpoint(std::unique_ptr<Stream> stream, tcp::endpoint remote);

}  // namespace gatehouse::net

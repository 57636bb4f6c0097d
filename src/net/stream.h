#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/asio.h"
#include "net/client_certificate.h"

namespace gatehouse::net {

using Clock = std::chrono::steady_clock;

// What is left of `buffers` after the first `skip` bytes.
std::vector<asio::const_buffer> skipBytes(std::span<const asio::const_buffer> buffers, size_t skip);

// An established, ordered byte stream: plain TCP or TLS over TCP, on the
// calling worker's io_context. Not thread-safe; at most one read and one
// write may be outstanding at a time. Operations complete on the worker
// thread that owns the stream and never throw: failures are values.
class Stream {
 public:
  virtual ~Stream() = default;

  // Reads at least one byte into `buffer`. Returns 0 on a clean end of
  // stream (FIN, or TLS close_notify); an Error on reset, timeout or a TLS
  // failure.
  virtual Task<Result<size_t>> readSome(asio::mutable_buffer buffer) = 0;
  // For a reader that awaits the socket's own read instead of readSome, a
  // coroutine of its own (a frame allocated and resumed per read): the
  // plain TCP socket under the stream, or null (TLS, test streams). Such a
  // read asks readable() first and gives its outcome to readOutcome(), so
  // that it means what readSome would have returned.
  using PlainSocket = tcp::socket;
  virtual PlainSocket* plainSocket() { return nullptr; }
  virtual Result<void> readable() const { return Result<void>(); }
  virtual Result<size_t> readOutcome(const boost::system::error_code& ec, size_t n) const {
    (void)ec;
    return n;
  }
  // Writes every byte of `buffers`.
  virtual Task<Result<void>> write(std::span<const asio::const_buffer> buffers) = 0;
  // Writes what the stream takes without waiting, with no coroutine, and
  // returns the number of bytes written: all of them, nearly always, on a
  // plain socket. A stream that cannot (TLS) writes nothing here.
  virtual Result<size_t> writeNow(std::span<const asio::const_buffer> buffers) {
    (void)buffers;
    return size_t{0};
  }
  // A coroutine itself, so that the buffer outlives the lazy write.
  Task<Result<void>> write(std::string_view data) {
    asio::const_buffer b(data.data(), data.size());
    co_return co_await write(std::span<const asio::const_buffer>(&b, 1));
  }
  // Half-closes the sending side (TLS close_notify, then TCP FIN).
  virtual Task<void> shutdownSend() = 0;
  // Closes at once; pending operations complete with an error.
  virtual void close() = 0;
  virtual bool isOpen() const = 0;

  // Every operation that is still running at `deadline` fails with
  // ErrorCode::kTimeout and the stream is closed. time_point::max() = none.
  virtual void setDeadline(Clock::time_point deadline) = 0;
  void setTimeout(Clock::duration timeout) {
    setDeadline(timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max());
  }
  // True if the peer closed or sent data while the stream sat unused; used
  // before reusing a pooled upstream connection. Costs one recv syscall.
  virtual bool peerClosedOrDirty() = 0;

  // The negotiated ALPN protocol ("h2", "http/1.1") or "" (plain TCP / none).
  virtual std::string_view alpn() const { return {}; }
  // The SNI name the client sent ("" if none or not TLS).
  virtual std::string_view serverName() const { return {}; }
  virtual bool isTls() const { return false; }
  // The client certificate facts of a server-side TLS connection whose
  // listener asks for one (downstream mTLS); null otherwise. Owned by the
  // stream, fixed after the handshake.
  virtual const ClientCertificate* clientCertificate() const { return nullptr; }
  virtual tcp::endpoint remoteEndpoint() const = 0;
  virtual tcp::endpoint localEndpoint() const = 0;
};

}  // namespace gatehouse::net

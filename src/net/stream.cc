// Stream implementations over tcp::socket and asio::ssl::stream<tcp::socket>.
// All of Asio's SSL templates used by Gatehouse are instantiated here.

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "net/stream_factory.h"

namespace gatehouse::net {
namespace {

// Asynchronous operations are awaited as deferred operations: with
// use_awaitable each one would start a coroutine of its own (a frame
// allocated and resumed) around the operation.
constexpr auto kAwait = asio::as_tuple(asio::deferred);
namespace ssl = asio::ssl;
using boost::system::error_code;

Error ioError(const error_code& ec, bool timed_out, std::string_view what) {
  if (timed_out) return Error{ErrorCode::kTimeout, ErrorSource::kInternal, std::string(what) + ": timed out", false};
  ErrorCode code = ErrorCode::kClosed;
  if (ec == asio::error::connection_refused) code = ErrorCode::kUnavailable;
  return Error{code, ErrorSource::kInternal, std::string(what) + ": " + ec.message(), false};
}

bool isEof(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated ||
         ec == asio::error::connection_reset;
}

// The deadline watchdog shared by both stream kinds. Deadlines move on
// every request and often on every write, so moving one is only a store:
// the timer is re-armed only when the new deadline is earlier than the
// armed expiry, and an expiry that finds the deadline moved later simply
// re-arms for it. The timer handler holds only a weak reference, so a
// stream destroyed while an expiry is queued is never touched.
class Watchdog {
 public:
  explicit Watchdog(const asio::any_io_executor& executor)
      : timer_(executor), state_(std::make_shared<State>()) {}
  ~Watchdog() { timer_.cancel(); }

  template <typename OnExpire>
  void arm(Clock::time_point deadline, OnExpire on_expire) {
    State& st = *state_;
    st.deadline = deadline;
    if (deadline == Clock::time_point::max()) return;
    if (st.armed && st.armed_at <= deadline) return;
    startTimer(deadline, std::function<void()>(std::move(on_expire)));
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_at = Clock::time_point::max();
    uint64_t generation = 0;
    bool armed = false;
    bool expired = false;
  };

  void startTimer(Clock::time_point at, std::function<void()> on_expire) {
    State& st = *state_;
    st.armed = true;
    st.armed_at = at;
    uint64_t generation = ++st.generation;
    timer_.expires_at(at);
    std::weak_ptr<State> weak = state_;
    timer_.async_wait([this, weak, generation, on_expire = std::move(on_expire)](
                          const error_code& ec) mutable {
      auto state = weak.lock();
      if (ec || !state || state->generation != generation) return;
      state->armed = false;
      if (state->deadline == Clock::time_point::max()) return;
      if (Clock::now() < state->deadline) {
        // Moved later since the timer was set: wait for the new deadline.
        startTimer(state->deadline, std::move(on_expire));
        return;
      }
      state->expired = true;
      on_expire();
    });
  }

  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

class TcpStream final : public Stream {
 public:
  explicit TcpStream(tcp::socket socket)
      : socket_(std::move(socket)), watchdog_(socket_.get_executor()) {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    // write() sends what the socket takes at once without waiting.
    socket_.non_blocking(true, ec);
    remote_ = socket_.remote_endpoint(ec);
    local_ = socket_.local_endpoint(ec);
  }

  Task<Result<size_t>> readSome(asio::mutable_buffer buffer) override {
    if (auto ok = readable(); !ok) co_return ok.error();
    auto [ec, n] = co_await socket_.async_read_some(buffer, kAwait);
    co_return readOutcome(ec, n);
  }

  tcp::socket* plainSocket() override { return &socket_; }
  Result<void> readable() const override {
    if (watchdog_.expired()) return ioError({}, true, "read");
    return Result<void>();
  }
  Result<size_t> readOutcome(const error_code& ec, size_t n) const override {
    if (ec) {
      if (watchdog_.expired()) return ioError(ec, true, "read");
      if (isEof(ec)) return size_t{0};
      return ioError(ec, false, "read");
    }
    return n;
  }

  // A socket nearly always takes a whole message at once: one sendmsg
  // now, and the reactor (an asynchronous operation, its allocation and a
  // trip through the event loop) only for what the socket did not take.
  Result<size_t> writeNow(std::span<const asio::const_buffer> buffers) override {
    if (watchdog_.expired()) return ioError({}, true, "write");
    error_code ec;
    size_t sent = socket_.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return size_t{0};
    if (ec) return ioError(ec, watchdog_.expired(), "write");
    return sent;
  }

  Task<Result<void>> write(std::span<const asio::const_buffer> buffers) override {
    auto sent = writeNow(buffers);
    if (!sent) co_return sent.error();
    if (*sent == asio::buffer_size(buffers)) co_return Result<void>();
    std::vector<asio::const_buffer> rest = skipBytes(buffers, *sent);
    auto [wait_ec, n] = co_await asio::async_write(socket_, rest, kAwait);
    (void)n;
    if (wait_ec) co_return ioError(wait_ec, watchdog_.expired(), "write");
    co_return Result<void>();
  }

  Task<void> shutdownSend() override {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }

  void close() override {
    error_code ec;
    socket_.close(ec);
  }
  bool isOpen() const override { return socket_.is_open(); }

  void setDeadline(Clock::time_point deadline) override {
    watchdog_.arm(deadline, [this] { close(); });
  }

  bool peerClosedOrDirty() override {
    char c;
    ssize_t n = ::recv(socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);
    return true;  // 0 = closed; data on an idle HTTP/1 connection is unexpected
  }

  tcp::endpoint remoteEndpoint() const override { return remote_; }
  tcp::endpoint localEndpoint() const override { return local_; }

 private:
  tcp::socket socket_;
  Watchdog watchdog_;
  tcp::endpoint remote_;
  tcp::endpoint local_;
};

class TlsStream final : public Stream {
 public:
  TlsStream(tcp::socket socket, ssl::context& context)
      : stream_(std::move(socket), context), watchdog_(stream_.get_executor()) {
    error_code ec;
    stream_.next_layer().set_option(tcp::no_delay(true), ec);
    remote_ = stream_.next_layer().remote_endpoint(ec);
    local_ = stream_.next_layer().local_endpoint(ec);
  }

  ssl::stream<tcp::socket>& raw() { return stream_; }

  void captureHandshakeResults() {
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &proto, &len);
    if (proto) alpn_.assign(reinterpret_cast<const char*>(proto), len);
    const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
    if (name) server_name_ = name;
  }
  void setClientCertificate(ClientCertificate certificate) {
    client_certificate_ = std::move(certificate);
  }

  Task<Result<size_t>> readSome(asio::mutable_buffer buffer) override {
    if (watchdog_.expired()) co_return ioError({}, true, "tls read");
    auto [ec, n] = co_await stream_.async_read_some(buffer, kAwait);
    if (ec) {
      if (watchdog_.expired()) co_return ioError(ec, true, "tls read");
      if (isEof(ec)) co_return size_t{0};
      co_return ioError(ec, false, "tls read");
    }
    co_return n;
  }

  Task<Result<void>> write(std::span<const asio::const_buffer> buffers) override {
    if (watchdog_.expired()) co_return ioError({}, true, "tls write");
    // The SSL stream writes one buffer per record; coalesce small pieces
    // (a response head and the start of its body) into one record.
    size_t total = 0;
    for (const auto& b : buffers) total += b.size();
    error_code ec;
    if (buffers.size() > 1 && total <= 16 * 1024) {
      scratch_.clear();
      for (const auto& b : buffers) scratch_.append(static_cast<const char*>(b.data()), b.size());
      auto [e, n] = co_await asio::async_write(stream_, asio::buffer(scratch_), kAwait);
      (void)n;
      ec = e;
    } else {
      auto [e, n] = co_await asio::async_write(stream_, buffers, kAwait);
      (void)n;
      ec = e;
    }
    if (ec) co_return ioError(ec, watchdog_.expired(), "tls write");
    co_return Result<void>();
  }

  Task<void> shutdownSend() override {
    // Send close_notify without waiting for the peer's (SSL_shutdown once),
    // then FIN: waiting for the reply would let a client hold the worker.
    SSL_shutdown(stream_.native_handle());
    // Flush what SSL_shutdown queued in the write BIO: the asio engine
    // writes it on the next operation, so do one empty write.
    auto [ec, n] = co_await asio::async_write(stream_, asio::const_buffer(nullptr, 0), kAwait);
    (void)ec;
    (void)n;
    error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void close() override {
    error_code ec;
    stream_.next_layer().close(ec);
  }
  bool isOpen() const override { return stream_.next_layer().is_open(); }

  void setDeadline(Clock::time_point deadline) override {
    watchdog_.arm(deadline, [this] { close(); });
  }

  bool peerClosedOrDirty() override {
    char c;
    ssize_t n = ::recv(stream_.next_layer().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);
    // TLS 1.3 servers send session tickets after the handshake, so pending
    // bytes are normal here; only a close counts.
    return n == 0;
  }

  std::string_view alpn() const override { return alpn_; }
  std::string_view serverName() const override { return server_name_; }
  bool isTls() const override { return true; }
  const ClientCertificate* clientCertificate() const override {
    return client_certificate_ ? &*client_certificate_ : nullptr;
  }
  tcp::endpoint remoteEndpoint() const override { return remote_; }
  tcp::endpoint localEndpoint() const override { return local_; }

 private:
  ssl::stream<tcp::socket> stream_;
  Watchdog watchdog_;
  tcp::endpoint remote_;
  tcp::endpoint local_;
  std::string alpn_;
  std::string server_name_;
  std::optional<ClientCertificate> client_certificate_;
  std::string scratch_;
};

std::string sslErrorText(const error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof(buf));
    text = buf;
  }
  return text;
}

}  // namespace

std::vector<asio::const_buffer> skipBytes(std::span<const asio::const_buffer> buffers, size_t skip) {
  std::vector<asio::const_buffer> rest;
  for (const auto& b : buffers) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    rest.push_back(b + skip);
    skip = 0;
  }
  return rest;
}

std::unique_ptr<Stream> makeTcpStream(tcp::socket socket) {
  return std::make_unique<TcpStream>(std::move(socket));
}

Task<Result<std::unique_ptr<Stream>>> acceptTls(tcp::socket socket,
                                                std::shared_ptr<const ServerTlsContext> tls,
                                                Clock::duration timeout) {
  auto stream = std::make_unique<TlsStream>(std::move(socket), tls->handshakeContext());
  stream->setTimeout(timeout);
  auto [ec] = co_await stream->raw().async_handshake(ssl::stream_base::server, kAwait);
  if (ec) {
    co_return Error{ErrorCode::kProtocol, ErrorSource::kDownstream,
                    "tls handshake: " + sslErrorText(ec), false};
  }
  stream->setDeadline(Clock::time_point::max());
  stream->captureHandshakeResults();
  if (const ClientCertificateVerifier* verifier = tls->clientCertificateVerifier()) {
    stream->setClientCertificate(verifier->inspect(stream->raw().native_handle()));
  }
  co_return std::unique_ptr<Stream>(std::move(stream));
}

Task<Result<std::unique_ptr<Stream>>> connectTls(tcp::socket socket,
                                                 std::shared_ptr<const ClientTlsContext> tls,
                                                 const std::string& server_name,
                                                 Clock::duration timeout) {
  auto stream = std::make_unique<TlsStream>(std::move(socket), tls->context());
  SSL* ssl = stream->raw().native_handle();
  boost::system::error_code addr_ec;
  asio::ip::make_address(server_name, addr_ec);
  bool is_ip = !addr_ec;
  if (!is_ip && !server_name.empty()) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (!tls->skipVerify()) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str());
    } else {
      SSL_set1_host(ssl, server_name.c_str());
    }
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  stream->setTimeout(timeout);
  auto [ec] = co_await stream->raw().async_handshake(ssl::stream_base::client, kAwait);
  if (ec) {
    co_return Error{ErrorCode::kProtocol, ErrorSource::kUpstream,
                    "upstream tls handshake: " + sslErrorText(ec), false};
  }
  stream->setDeadline(Clock::time_point::max());
  stream->captureHandshakeResults();
  co_return std::unique_ptr<Stream>(std::move(stream));
}

Task<Result<tcp::socket>> connectTcp(const std::string& host, uint16_t port,
                                     Clock::duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  asio::steady_timer timer(executor);
  // The expiry handler may already be queued when the connect completes;
  // `state` tells it whether the socket is still ours to close.
  struct State {
    bool done = false;
    bool timed_out = false;
  };
  auto state = std::make_shared<State>();
  timer.expires_after(timeout);
  timer.async_wait([state, sock = &socket](const error_code& ec) {
    if (ec || state->done) return;
    state->timed_out = true;
    error_code ignored;
    sock->close(ignored);
  });

  // Literal addresses skip the resolver (and its thread hop).
  error_code addr_ec;
  auto address = asio::ip::make_address(host, addr_ec);
  error_code ec;
  if (!addr_ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, port), kAwait);
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), kAwait);
    if (rec) {
      state->done = true;
      timer.cancel();
      co_return Error{ErrorCode::kUnavailable, ErrorSource::kUpstream,
                      "resolve " + host + ": " + rec.message(), true};
    }
    tcp::endpoint endpoint;
    std::tie(ec, endpoint) = co_await asio::async_connect(socket, results, kAwait);
  }
  state->done = true;
  timer.cancel();
  if (state->timed_out) {
    co_return Error{ErrorCode::kTimeout, ErrorSource::kUpstream,
                    "connect " + host + ":" + std::to_string(port) + ": timed out", true};
  }
  if (ec) {
    ErrorCode code = ErrorCode::kUnavailable;
    co_return Error{code, ErrorSource::kUpstream,
                    "connect " + host + ":" + std::to_string(port) + ": " + ec.message(), true};
  }
  co_return std::move(socket);
}

}  // namespace gatehouse::net

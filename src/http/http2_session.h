#pragma once

// What the HTTP/2 server and client connections share: the nghttp2 session
// handle, the writer coroutine that drains it into the byte stream, the
// wake-up primitive their coroutines wait on, and the outbound body queue
// that feeds a stream's data provider. Internal to src/http.

#include <nghttp2/nghttp2.h>

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/headers.h"
#include "net/stream.h"

namespace gatehouse::http {

// Flow-control and buffering limits shared by both ends. Each bounds the
// memory one peer can make us hold.
// The per-stream receive window we advertise: the most request (or
// response) body one stream can have in flight that nobody has read yet.
inline constexpr int32_t kHttp2StreamWindow = 256 * 1024;
// The connection-level receive window: the most body data all streams of
// a connection together can have unread. Larger than one stream's window
// so that one stalled reader does not stall its siblings at once.
inline constexpr int32_t kHttp2ConnectionWindow = 2 * 1024 * 1024;
// A stream's outbound bytes that sendBody lets pile up before it waits
// for the peer to take them.
inline constexpr size_t kHttp2SendHighWater = size_t{256} * 1024;

// Wakes a coroutine that waits for a state change. The waiter re-checks
// its condition after every wake-up: a notify() while nobody waits is
// dropped, so the pattern is `while (!condition) co_await wakeup.wait()`.
// Built on a steady_timer that expires at the deadline and is cancelled to
// notify. One waiter at a time.
class Http2Wakeup {
 public:
  explicit Http2Wakeup(const asio::any_io_executor& executor) : timer_(executor) {}

  // Suspends until notify() or `deadline`. Returns false when the
  // deadline passed (the caller decides whether its condition came true
  // anyway).
  Task<bool> wait(net::Clock::time_point deadline = net::Clock::time_point::max());
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

// The unsent bytes of one outbound body, drained by the data provider.
class Http2BodyQueue {
 public:
  size_t size() const { return buffer_.size() - offset_; }
  bool empty() const { return size() == 0; }
  void append(std::string_view data);
  // Copies up to `max` bytes into `out` and drops them from the queue.
  size_t take(uint8_t* out, size_t max);
  void clear();

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

// Name/value pairs for nghttp2_submit_*: keeps the strings the nv array
// points at alive until the submit call copies them.
class Http2HeaderBlock {
 public:
  void add(std::string_view name, std::string_view value);
  // Appends `headers` with lower-case names, leaving out pseudo-header
  // look-alikes and fields that HTTP/2 forbids (RFC 9113 section 8.2.2).
  // `skip` names more fields to leave out (lower-case).
  void addFields(const Headers& headers, std::initializer_list<std::string_view> skip = {});
  const nghttp2_nv* data();
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> values_;
  std::vector<nghttp2_nv> nv_;
};

// True for the fields RFC 9113 section 8.2.2 calls connection-specific
// (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade),
// which make an HTTP/2 message malformed. `te` is not among them: it may
// be sent with the value "trailers".
bool isHttp2ConnectionSpecific(std::string_view lower_name);

struct Http2SessionDeleter {
  void operator()(nghttp2_session* session) const { nghttp2_session_del(session); }
};
using Http2SessionPtr = std::unique_ptr<nghttp2_session, Http2SessionDeleter>;

struct Http2OptionDeleter {
  void operator()(nghttp2_option* option) const { nghttp2_option_del(option); }
};
using Http2OptionPtr = std::unique_ptr<nghttp2_option, Http2OptionDeleter>;

// The session options both ends use; null when out of memory. Window
// updates follow what the reader consumed, not what arrived: that is what
// bounds the body bytes a peer can make us buffer. nghttp2's defaults stay
// in force for the rest: RST_STREAM rate limit (rapid reset), CONTINUATION
// count, outbound control-frame queue (PING/SETTINGS floods).
inline Http2OptionPtr newHttp2Option() {
  nghttp2_option* raw = nullptr;
  if (nghttp2_option_new(&raw) != 0) return nullptr;
  Http2OptionPtr option(raw);
  nghttp2_option_set_no_auto_window_update(option.get(), 1);
  nghttp2_option_set_max_settings(option.get(), 32);
  return option;
}

// Runs `body` (which returns an int or ssize_t for nghttp2) and turns any
// exception into NGHTTP2_ERR_CALLBACK_FAILURE: nghttp2 is C, nothing may
// unwind through it.
template <typename F>
auto http2Guard(F&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

// Installs the receive-side callbacks both ends use. `Owner` is the
// session's user data and provides onBeginHeaders, onHeader, onFrameRecv,
// onDataChunk and onStreamClose. A field with invalid characters makes the
// message malformed (RFC 9113 section 8.2.1): nghttp2 would silently drop
// it, so the stream is refused instead, and the policy and the upstream
// never see different headers.
template <typename Owner>
void setReceiveCallbacks(nghttp2_session_callbacks* callbacks) {
  static constexpr auto owner = [](void* user_data) -> Owner& {
    return *static_cast<Owner*>(user_data);
  };
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        return http2Guard([&] { return owner(user_data).onBeginHeaders(*frame); });
      });
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                    void* user_data) {
        return http2Guard([&] {
          return owner(user_data).onHeader(
              *frame, std::string_view(reinterpret_cast<const char*>(name), namelen),
              std::string_view(reinterpret_cast<const char*>(value), valuelen));
        });
      });
  nghttp2_session_callbacks_set_on_invalid_header_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t,
                    const uint8_t*, size_t, uint8_t, void*) -> int {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        return http2Guard([&] { return owner(user_data).onFrameRecv(*frame); });
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks, [](nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                    size_t len, void* user_data) {
        return http2Guard([&] { return owner(user_data).onDataChunk(stream_id, data, len); });
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks, [](nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
        return http2Guard([&] { return owner(user_data).onStreamClose(stream_id, error_code); });
      });
}

// The part of a connection both ends share. The owner creates the nghttp2
// session (with itself as user data), then runs runWriter() as its own
// coroutine and a reader loop that feeds receive(). Everything runs on one
// worker thread; nghttp2 is only ever entered from one coroutine at a time
// because none of its calls suspend.
class Http2Session {
 public:
  Http2Session(net::Stream& stream, const asio::any_io_executor& executor,
               net::Clock::duration write_stall_timeout);
  virtual ~Http2Session();
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  nghttp2_session* session() const { return session_.get(); }
  net::Stream& stream() { return stream_; }

  // Tells the writer there may be frames to send. Cheap; call after every
  // nghttp2 submit/consume/resume.
  void requestWrite() { writer_wake_.notify(); }

  // Drains nghttp2_session_mem_send into the stream, coalescing frames
  // into writes of up to 64 KiB, until stopWriter() was called and
  // nothing is left, the session has nothing more to do, or a write
  // failed. Calls onWriteFailed() on a failed write.
  Task<void> runWriter();
  void stopWriter();
  Task<void> waitWriterDone();
  bool writerDone() const { return writer_done_; }

  // Reads from the stream into the owner's buffer.
  Task<Result<size_t>> readSome(asio::mutable_buffer buffer) { return stream_.readSome(buffer); }
  // Feeds received bytes to nghttp2. An error means the connection is
  // unusable (nghttp2 may have queued a GOAWAY for the writer to send).
  Result<void> receive(const uint8_t* data, size_t size);

  // True when nghttp2 has nothing left to read or write (GOAWAY exchanged
  // and every stream closed, or a fatal error).
  bool sessionDone() const;

  // The deadline for the whole connection when it has no streams (idle),
  // time_point::max() while it has some. Writes are bounded separately by
  // the stall timeout.
  void setIdleDeadline(net::Clock::time_point deadline);

 protected:
  void setSession(nghttp2_session* session) { session_.reset(session); }
  virtual void onWriteFailed(const Error& error) = 0;

 private:
  void applyDeadline();

  net::Stream& stream_;
  Http2SessionPtr session_;
  Http2Wakeup writer_wake_;
  Http2Wakeup writer_done_wake_;
  net::Clock::duration write_stall_timeout_;
  net::Clock::time_point idle_deadline_ = net::Clock::time_point::max();
  net::Clock::time_point write_deadline_ = net::Clock::time_point::max();
  std::string out_;
  bool stop_writer_ = false;
  bool writer_done_ = false;
};

}  // namespace gatehouse::http

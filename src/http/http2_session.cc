#include "http/http2_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "common/strings.h"

namespace gatehouse::http {
namespace {

// Frames are coalesced into writes of about this size: large enough to
// amortise a syscall (and fill TLS records), small enough to keep one
// connection's output buffer modest.
constexpr size_t kWriteCoalesce = size_t{64} * 1024;

}  // namespace

Task<bool> Http2Wakeup::wait(net::Clock::time_point deadline) {
  timer_.expires_at(deadline);
  auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  // Cancelled = notified; completed without error = the deadline passed.
  co_return static_cast<bool>(ec);
}

void Http2BodyQueue::append(std::string_view data) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ >= size_t{64} * 1024 && offset_ * 2 >= buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(data);
}

size_t Http2BodyQueue::take(uint8_t* out, size_t max) {
  size_t n = std::min(max, size());
  std::memcpy(out, buffer_.data() + offset_, n);
  offset_ += n;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return n;
}

void Http2BodyQueue::clear() {
  std::string().swap(buffer_);
  offset_ = 0;
}

void Http2HeaderBlock::add(std::string_view name, std::string_view value) {
  names_.emplace_back(name);
  values_.emplace_back(value);
}

void Http2HeaderBlock::addFields(const Headers& headers,
                                 std::initializer_list<std::string_view> skip) {
  for (const auto& f : headers.fields()) {
    if (f.name.empty() || f.name.front() == ':') continue;
    std::string name = toLower(f.name);
    if (isHttp2ConnectionSpecific(name)) continue;
    bool skipped = false;
    for (auto s : skip) skipped = skipped || name == s;
    if (skipped) continue;
    names_.push_back(std::move(name));
    values_.push_back(f.value);
  }
}

const nghttp2_nv* Http2HeaderBlock::data() {
  nv_.clear();
  nv_.reserve(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    nghttp2_nv nv;
    nv.name = reinterpret_cast<uint8_t*>(names_[i].data());
    nv.namelen = names_[i].size();
    nv.value = reinterpret_cast<uint8_t*>(values_[i].data());
    nv.valuelen = values_[i].size();
    nv.flags = NGHTTP2_NV_FLAG_NONE;
    nv_.push_back(nv);
  }
  return nv_.data();
}

bool isHttp2ConnectionSpecific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade";
}

Http2Session::Http2Session(net::Stream& stream, const asio::any_io_executor& executor,
                           net::Clock::duration write_stall_timeout)
    : stream_(stream),
      writer_wake_(executor),
      writer_done_wake_(executor),
      write_stall_timeout_(write_stall_timeout) {}

Http2Session::~Http2Session() = default;

Task<void> Http2Session::runWriter() {
  while (true) {
    out_.clear();
    bool fatal = false;
    while (out_.size() < kWriteCoalesce) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
      if (n < 0) {
        fatal = true;
        break;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (!out_.empty()) {
      if (write_stall_timeout_.count() > 0) {
        write_deadline_ = net::Clock::now() + write_stall_timeout_;
        applyDeadline();
      }
      auto written = co_await stream_.write(out_);
      if (write_stall_timeout_.count() > 0) {
        write_deadline_ = net::Clock::time_point::max();
        applyDeadline();
      }
      if (!written) {
        onWriteFailed(written.error());
        break;
      }
      if (!fatal) continue;
    }
    if (fatal) {
      onWriteFailed(Error{ErrorCode::kInternal, ErrorSource::kInternal,
                          "http2: cannot serialise frames", false});
      break;
    }
    if (stop_writer_ || sessionDone()) break;
    // Do not keep a large buffer on an idle connection.
    if (out_.capacity() > size_t{16} * 1024) std::string().swap(out_);
    co_await writer_wake_.wait();
  }
  writer_done_ = true;
  writer_done_wake_.notify();
}

void Http2Session::stopWriter() {
  stop_writer_ = true;
  writer_wake_.notify();
}

Task<void> Http2Session::waitWriterDone() {
  while (!writer_done_) co_await writer_done_wake_.wait();
}

Result<void> Http2Session::receive(const uint8_t* data, size_t size) {
  ssize_t rv = nghttp2_session_mem_recv(session_.get(), data, size);
  requestWrite();
  if (rv < 0) {
    return Error{ErrorCode::kProtocol, ErrorSource::kInternal,
                 std::string("http2: ") + nghttp2_strerror(static_cast<int>(rv)), false};
  }
  return {};
}

bool Http2Session::sessionDone() const {
  return !nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get());
}

void Http2Session::setIdleDeadline(net::Clock::time_point deadline) {
  if (deadline == idle_deadline_) return;
  idle_deadline_ = deadline;
  applyDeadline();
}

void Http2Session::applyDeadline() {
  stream_.setDeadline(std::min(idle_deadline_, write_deadline_));
}

}  // namespace gatehouse::http

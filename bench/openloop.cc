// openloop: a fixed-rate (open-loop) HTTP/1.1 load generator for the
// benchmarks, with latency corrected for coordinated omission.
//
//   openloop -c CONNECTIONS -R REQUESTS_PER_SECOND -d SECONDS
//            [-H "Name: value"]... http://IP:PORT/path
//
// Request i is due at start + i / rate whatever happened to the requests
// before it. A due request goes out on an idle keep-alive connection (one
// request per connection at a time, no pipelining); when none is idle it
// waits in a queue. Its latency runs from the time it was due, not from the
// time it was sent, so a server that stalls is charged for every request
// that would have been sent during the stall (the correction wrk2 makes;
// wrk2 is not packaged in Debian, hence this file). Latencies go into
// logarithmic buckets with 64 linear sub-buckets per power of two (as
// HdrHistogram with two significant digits), so percentiles are exact to
// about 1.6%.
//
// Output, one "key value" per line, for bench/auth.py to read:
//   scheduled, completed, errors (connection failures), non2xx3xx (status
//   >= 400), unfinished (due but not answered by the end of the drain time),
//   rate (completed per second), p50_ms p90_ms p99_ms p999_ms max_ms.
//
// Plain POSIX sockets, epoll and a timerfd: one thread, no dependencies.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Nanos = std::uint64_t;

Nanos nowNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanos>(ts.tv_sec) * 1'000'000'000ULL + static_cast<Nanos>(ts.tv_nsec);
}

// Log-linear histogram of nanoseconds: values below 128 have a bucket each;
// above, every power of two is split into 64 equal sub-buckets.
class Histogram {
 public:
  void record(Nanos value) {
    ++counts_[index(value)];
    ++total_;
    max_ = std::max(max_, value);
  }

  std::uint64_t total() const { return total_; }
  Nanos max() const { return max_; }

  // The highest value equivalent to the bucket holding the q-quantile.
  Nanos quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.5);
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(upperEdge(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr std::size_t kBuckets = 128 + 58 * 64;

  static std::size_t index(Nanos v) {
    if (v < 128) return static_cast<std::size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;  // >= 1
    const auto sub = static_cast<std::size_t>(v >> shift) - 64;  // 0..63
    return 128 + static_cast<std::size_t>(shift - 1) * 64 + sub;
  }

  static Nanos upperEdge(std::size_t i) {
    if (i < 128) return i;
    const std::size_t shift = (i - 128) / 64 + 1;
    const std::size_t sub = (i - 128) % 64 + 64;
    return (static_cast<Nanos>(sub + 1) << shift) - 1;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  Nanos max_ = 0;
};

struct Options {
  int connections = 16;
  double rate = 1000;
  double seconds = 10;
  double drainSeconds = 2;
  std::vector<std::string> headers;
  std::string host;  // from the URL unless a Host header is given
  std::string port;
  std::string path;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "openloop: %s\nusage: openloop -c CONNECTIONS -R RATE -d SECONDS "
               "[-H 'Name: value']... [--drain SECONDS] http://IP:PORT/path\n",
               why);
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage("an option is missing its value");
      return argv[++i];
    };
    if (a == "-c") {
      o.connections = std::atoi(value());
    } else if (a == "-R") {
      o.rate = std::atof(value());
    } else if (a == "-d") {
      o.seconds = std::atof(value());
    } else if (a == "--drain") {
      o.drainSeconds = std::atof(value());
    } else if (a == "-H") {
      o.headers.emplace_back(value());
    } else if (!a.empty() && a[0] != '-' && url.empty()) {
      url = a;
    } else {
      usage("unknown argument");
    }
  }
  if (o.connections < 1 || o.rate <= 0 || o.seconds <= 0) usage("bad -c, -R or -d");
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) usage("the URL must start with http://");
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  o.host = authority.substr(0, colon);
  o.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  return o;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

// What is known about the response being read on a connection.
struct ResponseHead {
  int status = 0;
  std::size_t bodyStart = 0;
  std::optional<std::size_t> contentLength;
  bool chunked = false;
  bool close = false;
};

std::optional<ResponseHead> parseHead(const std::string& in) {
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  ResponseHead h;
  h.bodyStart = end + 4;
  const std::string_view head(in.data(), end);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
    h.status = -1;
    return h;
  }
  h.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    const std::size_t lineStart = pos + 2;
    std::size_t next = head.find("\r\n", lineStart);
    const std::string_view line =
        head.substr(lineStart, (next == std::string_view::npos ? head.size() : next) - lineStart);
    if (startsWithNoCase(line, "content-length:")) {
      h.contentLength = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
    } else if (startsWithNoCase(line, "transfer-encoding:")) {
      h.chunked = line.find("chunked") != std::string_view::npos;
    } else if (startsWithNoCase(line, "connection:")) {
      h.close = line.find("close") != std::string_view::npos;
    }
    pos = next;
  }
  return h;
}

// The length of a complete chunked body starting at `from`, or nothing yet.
std::optional<std::size_t> chunkedLength(const std::string& in, std::size_t from) {
  std::size_t pos = from;
  for (;;) {
    const auto lineEnd = in.find("\r\n", pos);
    if (lineEnd == std::string::npos) return std::nullopt;
    const std::size_t size = std::strtoull(in.c_str() + pos, nullptr, 16);
    pos = lineEnd + 2;
    if (size == 0) {  // trailers end with an empty line
      const auto end = in.find("\r\n\r\n", lineEnd);
      if (end == std::string::npos) return std::nullopt;
      return end + 4 - from;
    }
    if (in.size() < pos + size + 2) return std::nullopt;
    pos += size + 2;
  }
}

struct Connection {
  int fd = -1;
  bool connected = false;
  bool busy = false;
  Nanos due = 0;            // when the request in flight was due
  std::size_t sent = 0;     // bytes of the request written so far
  std::string in;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(Options options) : o_(std::move(options)) {}

  int run() {
    if (!resolve()) return 1;
    buildRequest();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    addFd(timer_, EPOLLIN, kTimerTag);
    conns_.resize(static_cast<std::size_t>(o_.connections));
    for (std::size_t i = 0; i < conns_.size(); ++i) open(i);
    waitConnected();

    const auto interval = 1e9 / o_.rate;
    start_ = nowNanos();
    end_ = start_ + static_cast<Nanos>(o_.seconds * 1e9);
    const Nanos drainEnd = end_ + static_cast<Nanos>(o_.drainSeconds * 1e9);
    std::uint64_t next = 0;
    auto dueAt = [&](std::uint64_t i) {
      return start_ + static_cast<Nanos>(static_cast<double>(i) * interval);
    };
    std::array<epoll_event, 256> events{};
    for (;;) {
      const Nanos now = nowNanos();
      while (dueAt(next) <= now && dueAt(next) < end_) {
        queue_.push_back(dueAt(next));
        ++next;
      }
      dispatch();
      const bool scheduling = dueAt(next) < end_;
      if (!scheduling && queue_.empty() && inFlight_ == 0) break;
      if (now >= drainEnd) break;
      armTimer(scheduling ? dueAt(next) : drainEnd);
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0 && errno != EINTR) {
        std::perror("epoll_wait");
        return 1;
      }
      for (int k = 0; k < n; ++k) handle(events[static_cast<std::size_t>(k)]);
    }
    scheduled_ = next;
    report();
    return 0;
  }

 private:
  static constexpr std::uint64_t kTimerTag = ~0ULL;

  bool resolve() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = getaddrinfo(o_.host.c_str(), o_.port.c_str(), &hints, &res); rc != 0) {
      std::fprintf(stderr, "openloop: %s:%s: %s\n", o_.host.c_str(), o_.port.c_str(),
                   gai_strerror(rc));
      return false;
    }
    std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
    addrLen_ = res->ai_addrlen;
    family_ = res->ai_family;
    freeaddrinfo(res);
    return true;
  }

  void buildRequest() {
    bool hasHost = false;
    std::string extra;
    for (const auto& h : o_.headers) {
      if (startsWithNoCase(h, "host:")) hasHost = true;
      extra += h + "\r\n";
    }
    request_ = "GET " + o_.path + " HTTP/1.1\r\n";
    if (!hasHost) request_ += "Host: " + o_.host + ":" + o_.port + "\r\n";
    request_ += extra + "\r\n";
  }

  void addFd(int fd, std::uint32_t events, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  void modFd(int fd, std::uint32_t events, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
  }

  void open(std::size_t i) {
    Connection& c = conns_[i];
    c = Connection{};
    c.fd = socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addrLen_) != 0 &&
        errno != EINPROGRESS) {
      ++errors_;
    }
    addFd(c.fd, EPOLLOUT | EPOLLIN, i);
  }

  void waitConnected() {
    const Nanos deadline = nowNanos() + 5'000'000'000ULL;
    std::array<epoll_event, 256> events{};
    std::size_t up = 0;
    while (up < conns_.size() && nowNanos() < deadline) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      for (int k = 0; k < n; ++k) {
        const auto tag = events[static_cast<std::size_t>(k)].data.u64;
        if (tag == kTimerTag) continue;
        Connection& c = conns_[tag];
        if (c.connected) continue;
        if (!socketOk(c.fd)) {
          std::fprintf(stderr, "openloop: connect: %s\n", std::strerror(errno));
          std::exit(1);
        }
        markConnected(tag);
        ++up;
      }
    }
    if (up < conns_.size()) {
      std::fprintf(stderr, "openloop: only %zu of %zu connections opened\n", up, conns_.size());
      std::exit(1);
    }
  }

  static bool socketOk(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    errno = err;
    return err == 0;
  }

  void markConnected(std::size_t i) {
    Connection& c = conns_[i];
    c.connected = true;
    modFd(c.fd, EPOLLIN, i);
    idle_.push_back(i);
  }

  void armTimer(Nanos at) {
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000ULL);
    spec.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000ULL);
    timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  // Hands queued requests, oldest first, to idle connections.
  void dispatch() {
    while (!queue_.empty() && !idle_.empty()) {
      const std::size_t i = idle_.back();
      idle_.pop_back();
      Connection& c = conns_[i];
      c.busy = true;
      c.due = queue_.front();
      c.sent = 0;
      queue_.pop_front();
      ++inFlight_;
      write(i);
    }
  }

  void write(std::size_t i) {
    Connection& c = conns_[i];
    while (c.sent < request_.size()) {
      const ssize_t n =
          send(c.fd, request_.data() + c.sent, request_.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        modFd(c.fd, EPOLLIN | EPOLLOUT, i);
        return;
      } else {
        fail(i);
        return;
      }
    }
    modFd(c.fd, EPOLLIN, i);
  }

  void handle(const epoll_event& ev) {
    if (ev.data.u64 == kTimerTag) {
      std::uint64_t expirations = 0;
      [[maybe_unused]] auto r = ::read(timer_, &expirations, sizeof expirations);
      return;
    }
    const std::size_t i = ev.data.u64;
    Connection& c = conns_[i];
    if (!c.connected) {
      if (!socketOk(c.fd)) {
        ++errors_;
        reopen(i);
        return;
      }
      markConnected(i);
      return;
    }
    if ((ev.events & EPOLLOUT) && c.busy && c.sent < request_.size()) write(i);
    if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read(i);
  }

  void read(std::size_t i) {
    Connection& c = conns_[i];
    char buf[65536];
    for (;;) {
      const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      fail(i);  // EOF or error: whatever was in flight is lost
      return;
    }
    if (!c.busy) {
      if (!c.in.empty()) fail(i);  // bytes nobody asked for
      return;
    }
    const auto head = parseHead(c.in);
    if (!head) return;
    if (head->status < 0) {
      fail(i);
      return;
    }
    std::size_t bodyLength = 0;
    if (head->chunked) {
      const auto len = chunkedLength(c.in, head->bodyStart);
      if (!len) return;
      bodyLength = *len;
    } else if (head->contentLength) {
      bodyLength = *head->contentLength;
    } else if (head->status >= 200 && head->status != 204 && head->status != 304) {
      fail(i);  // a body delimited by the end of the connection: not supported
      return;
    }
    if (c.in.size() < head->bodyStart + bodyLength) return;
    const Nanos now = nowNanos();
    latencies_.record(now - c.due);
    if (head->status >= 400) ++non2xx3xx_;
    ++completed_;
    if (now <= end_) ++completedInWindow_;
    --inFlight_;
    c.busy = false;
    c.in.erase(0, head->bodyStart + bodyLength);
    if (head->close || !c.in.empty()) {
      reopen(i);
      return;
    }
    idle_.push_back(i);
    dispatch();
  }

  // A connection failure: the request in flight is counted as an error (no
  // latency), and a new connection takes the old one's place.
  void fail(std::size_t i) {
    ++errors_;
    if (conns_[i].busy) --inFlight_;
    conns_[i].busy = false;
    reopen(i);
  }

  void reopen(std::size_t i) {
    Connection& c = conns_[i];
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    idle_.erase(std::remove(idle_.begin(), idle_.end(), i), idle_.end());
    open(i);
  }

  void report() const {
    const double ms = 1e-6;
    std::printf("scheduled %llu\n", static_cast<unsigned long long>(scheduled_));
    std::printf("completed %llu\n", static_cast<unsigned long long>(completed_));
    std::printf("errors %llu\n", static_cast<unsigned long long>(errors_));
    std::printf("non2xx3xx %llu\n", static_cast<unsigned long long>(non2xx3xx_));
    std::printf("unfinished %llu\n", static_cast<unsigned long long>(queue_.size() + inFlight_));
    std::printf("rate %.1f\n", static_cast<double>(completedInWindow_) / o_.seconds);
    std::printf("p50_ms %.3f\n", static_cast<double>(latencies_.quantile(0.50)) * ms);
    std::printf("p90_ms %.3f\n", static_cast<double>(latencies_.quantile(0.90)) * ms);
    std::printf("p99_ms %.3f\n", static_cast<double>(latencies_.quantile(0.99)) * ms);
    std::printf("p999_ms %.3f\n", static_cast<double>(latencies_.quantile(0.999)) * ms);
    std::printf("max_ms %.3f\n", static_cast<double>(latencies_.max()) * ms);
  }

  Options o_;
  sockaddr_storage addr_{};
  socklen_t addrLen_ = 0;
  int family_ = AF_INET;
  std::string request_;
  int epoll_ = -1;
  int timer_ = -1;
  std::vector<Connection> conns_;
  std::vector<std::size_t> idle_;
  std::deque<Nanos> queue_;  // due times of requests waiting for a connection
  std::uint64_t inFlight_ = 0;
  Nanos start_ = 0;
  Nanos end_ = 0;
  std::uint64_t scheduled_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t completedInWindow_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t non2xx3xx_ = 0;
  Histogram latencies_;
};

}  // namespace

int main(int argc, char** argv) {
  return LoadGenerator(parseOptions(argc, argv)).run();
}

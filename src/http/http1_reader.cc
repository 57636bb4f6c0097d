// HTTP/1.x message reading. This is the only translation unit that
// instantiates Beast's parser.

#include "http/http1_reader.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <optional>
#include <type_traits>

#include "common/strings.h"
#include "http/byte_scan.h"
#include "http/head_validator.h"
#include "http/http1_head.h"

namespace gatehouse::http {

namespace beast = boost::beast;
// A plain socket's read is awaited as a deferred operation, within the
// reading coroutine: no coroutine of its own (see Stream::plainSocket).
constexpr auto kAwait = asio::as_tuple(asio::deferred);
using boost::system::error_code;

namespace {

Error protocolError(std::string message) {
  return Error{ErrorCode::kProtocol, ErrorSource::kDownstream, std::move(message), false};
}

Error upstreamError(std::string message) {
  return Error{ErrorCode::kProtocol, ErrorSource::kUpstream, std::move(message), false};
}

}  // namespace

// Adapts Beast's callback parser: the head goes into a RequestHead or
// ResponseHead, body pieces become views into the reader's buffer.
namespace detail {
class MessageParser {
 public:
  virtual ~MessageParser() = default;
  virtual size_t put(const char* data, size_t size, error_code& ec) = 0;
  virtual void putEof(error_code& ec) = 0;
  virtual bool isDone() const = 0;
  virtual bool isChunked() const = 0;
  virtual bool needEof() const = 0;
  virtual bool keepAlive() const = 0;
  virtual std::optional<uint64_t> contentLength() const = 0;

  // What the codec needs from the head just parsed.
  HeadFacts facts() const {
    HeadFacts out;
    out.method = method;
    out.target = target;
    out.status = status;
    out.version = version;
    out.chunked = isChunked();
    out.content_length = contentLength();
    out.keep_alive = keepAlive();
    out.saw_transfer_encoding = saw_transfer_encoding;
    out.saw_underscore = saw_underscore;
    return out;
  }

  std::vector<std::string_view> pending;
  size_t pending_index = 0;
  RequestHead* request = nullptr;
  ResponseHead* response = nullptr;
  std::string_view method;
  std::string_view target;
  int version = 11;
  int status = 0;
  bool saw_transfer_encoding = false;
  bool saw_underscore = false;
};
template <bool isRequest>
class BeastParser final : public detail::MessageParser,
                          public beast::http::basic_parser<isRequest> {
 public:
  BeastParser() {
    this->header_limit(std::numeric_limits<std::uint32_t>::max());
    this->body_limit(boost::none);
    this->eager(true);
  }

  bool isHeaderDone() const { return this->is_header_done(); }
  size_t put(const char* data, size_t size, error_code& ec) override {
    return beast::http::basic_parser<isRequest>::put(asio::const_buffer(data, size), ec);
  }
  void putEof(error_code& ec) override { beast::http::basic_parser<isRequest>::put_eof(ec); }
  bool isDone() const override { return this->is_done(); }
  bool isChunked() const override { return this->chunked(); }
  bool needEof() const override { return this->need_eof(); }
  // Beast lets "keep-alive" win over "close" on HTTP/1.0; RFC 9112 section
  // 9.3 does not.
  bool keepAlive() const override { return this->keep_alive() && !close_listed_; }
  std::optional<uint64_t> contentLength() const override {
    auto v = this->content_length();
    if (!v) return std::nullopt;
    return *v;
  }

 private:
  void on_request_impl(beast::http::verb, beast::string_view method_str,
                       beast::string_view target_str, int v, error_code&) override {
    method = std::string_view(method_str.data(), method_str.size());
    target = std::string_view(target_str.data(), target_str.size());
    version = v;
  }
  void on_response_impl(int code, beast::string_view, int v, error_code&) override {
    status = code;
    version = v;
  }
  void on_field_impl(beast::http::field field, beast::string_view name_text,
                     beast::string_view value_text, error_code&) override {
    std::string_view name(name_text.data(), name_text.size());
    std::string_view value(value_text.data(), value_text.size());
    if (field == beast::http::field::transfer_encoding) saw_transfer_encoding = true;
    if (field == beast::http::field::connection || field == beast::http::field::proxy_connection) {
      close_listed_ = close_listed_ || listsClose(value);
    }
    if (name.find('_') != std::string_view::npos) saw_underscore = true;
    // After the head, fields come from a chunked body's trailer section;
    // they are read and dropped, never merged into the head.
    if (!request && !response) return;
    Headers& headers = request ? request->headers : response->headers;
    headers.add(name, value);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  size_t on_body_impl(beast::string_view body, error_code&) override {
    pending.emplace_back(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    pending.emplace_back(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  static bool listsClose(std::string_view value) {
    while (true) {
      size_t comma = value.find(',');
      if (iequals(trim(value.substr(0, comma)), "close")) return true;
      if (comma == std::string_view::npos) return false;
      value.remove_prefix(comma + 1);
    }
  }

  bool close_listed_ = false;
};

struct ParserSlots {
  std::optional<BeastParser<true>> request;
  std::optional<BeastParser<false>> response;
};

}  // namespace detail

namespace {

using detail::BeastParser;

// Fields that describe the connection or the framing of this hop; the
// codec interprets them and never passes them on. Content-Length goes in
// the same pass when `content_length`.
void removeConnectionFields(Headers& headers, bool content_length) {
  // Tokens listed in Connection that are not hop-by-hop names already
  // (usually none: "keep-alive" and "upgrade" are), so that the common
  // case allocates nothing.
  std::vector<std::string> listed;
  for (const auto& f : headers.fields()) {
    if (!iequals(f.name, "connection")) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view token = trim(rest.substr(0, comma));
      if (!token.empty() && !isHopByHop(token)) {
        listed.emplace_back(token);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  headers.removeIf([&](const Field& f) {
    if (isHopByHop(f.name)) return true;
    if (content_length && iequals(f.name, "content-length")) return true;
    for (const auto& token : listed) {
      if (iequals(f.name, token)) return true;
    }
    return false;
  });
}

}  // namespace

Http1Reader::Http1Reader(net::Stream& stream, size_t buffer_size)
    : stream_(stream), buffer_(buffer_size), slots_(std::make_unique<detail::ParserSlots>()) {}

Http1Reader::~Http1Reader() = default;

void Http1Reader::compact() {
  if (start_ == 0) return;
  if (start_ < end_) std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
  end_ -= start_;
  start_ = 0;
}

asio::mutable_buffer Http1Reader::spare() {
  if (end_ == buffer_.size()) compact();
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  return asio::buffer(buffer_.data() + end_, buffer_.size() - end_);
}

Result<size_t> Http1Reader::filled(Result<size_t> n) {
  if (!n) return n;
  if (*n == 0) at_eof_ = true;
  end_ += *n;
  return n;
}

Task<Result<size_t>> Http1Reader::readHead(size_t max_head_bytes,
                                           net::Clock::duration read_timeout) {
  max_head_bytes_ = max_head_bytes;
  compact();
  size_t scanned = 0;
  bool started = end_ > start_;
  if (started && read_timeout.count() > 0) stream_.setTimeout(read_timeout);
  while (true) {
    // Tolerate (and skip) empty lines before a request line, as RFC 9112
    // section 2.2 allows.
    while (start_ + 1 < end_ && buffer_[start_] == '\r' && buffer_[start_ + 1] == '\n') {
      start_ += 2;
    }
    std::string_view data(buffer_.data() + start_, end_ - start_);
    // The head ends at the first empty line. A bare "\n\n" also ends it so
    // that the validator can refuse it instead of waiting for more bytes.
    if (size_t len = findHeadEnd(data.data(), data.size(), scanned)) {
      // The whole head may arrive in one read that the buffer had room
      // for: the limit holds however the bytes were split.
      if (len > max_head_bytes_) {
        co_return Error{ErrorCode::kTooLarge, ErrorSource::kDownstream, "header too large", false};
      }
      co_return len;
    }
    scanned = data.size() >= 2 ? data.size() - 2 : 0;
    if (data.size() > max_head_bytes_) {
      co_return Error{ErrorCode::kTooLarge, ErrorSource::kDownstream, "header too large", false};
    }
    if (buffer_.size() - end_ < 4096 && buffer_.size() < max_head_bytes_ + 8192) {
      compact();
      if (buffer_.size() - end_ < 4096) buffer_.resize(buffer_.size() * 2);
    }
    size_t before = end_ - start_;
    Result<size_t> got = size_t{0};
    if (net::Stream::PlainSocket* socket = stream_.plainSocket(); socket && stream_.readable()) {
      auto [ec, read] = co_await socket->async_read_some(spare(), kAwait);
      got = stream_.readOutcome(ec, read);
    } else {
      got = co_await stream_.readSome(spare());
    }
    auto n = filled(std::move(got));
    if (!n) co_return n.error();
    if (*n == 0) {
      if (before == 0 && !started) co_return size_t{0};
      co_return Error{ErrorCode::kClosed, ErrorSource::kDownstream, "connection closed in head",
                      false};
    }
    if (!started) {
      started = true;
      if (read_timeout.count() > 0) stream_.setTimeout(read_timeout);
    }
  }
}

Task<Result<bool>> Http1Reader::readRequest(RequestHead& out, const Http1Limits& limits,
                                            net::Clock::duration read_timeout) {
  auto len = co_await readHead(limits.max_head_bytes, read_timeout);
  if (!len) co_return len.error();
  co_return takeRequest(*len, out, limits);
}

Result<bool> Http1Reader::takeRequest(size_t length, RequestHead& out, const Http1Limits& limits) {
  if (length == 0) return false;
  std::string_view head(buffer_.data() + start_, length);
  if (auto r = parseRequestHead(head, out, limits); !r) {
    // No message to read a body of: what follows is the error answer.
    parser_ = nullptr;
    framing_ = {};
    return r.error();
  }
  start_ += length;
  return true;
}

Result<void> Http1Reader::parseRequestHead(std::string_view head, RequestHead& out,
                                           const Http1Limits& limits) {
  const HeadLimits head_limits{limits.max_head_bytes, limits.max_headers};
  out.reset();
  out.headers.reserve(16);
  parser_ = nullptr;
  plain_body_ = false;
  // The plain case is split directly, its bytes checked on the way; for
  // anything else (a chunked body above all) the head is checked on its
  // own and goes through Beast's parser, which then reads the body too.
  HeadFacts facts;
  BeastParser<true>* parser = nullptr;
  // Split for forwarding, the split reads Host, Upgrade and Expect and
  // leaves out what removeConnectionFields would remove, unless Connection
  // names other fields: that head is split again in full.
  bool forwarded =
      splitRequestHead(head, head_limits, facts, out.headers, FieldSet::kForwardedRequest);
  if (forwarded && facts.connection_names_fields) {
    out.headers.clear();
    facts = HeadFacts();
    forwarded = false;
    if (!splitRequestHead(head, head_limits, facts, out.headers)) return protocolError("parse");
  } else if (!forwarded) {
    HeadCheck check = validateRequestHead(head, head_limits);
    if (check.verdict == HeadVerdict::kHeadersTooLarge) {
      return Error{ErrorCode::kTooLarge, ErrorSource::kDownstream, check.reason, false};
    }
    if (check.verdict != HeadVerdict::kOk) return protocolError(check.reason);
    out.headers.clear();
    parser = &slots_->request.emplace();
    parser->request = &out;
    error_code ec;
    size_t used = parser->put(head.data(), head.size(), ec);
    if (ec && ec != beast::http::error::need_more) return protocolError("parse: " + ec.message());
    if (used != head.size()) return protocolError("parse: trailing bytes in head");
    facts = parser->facts();
  }
  if (facts.version != 10 && facts.version != 11) {
    return Error{ErrorCode::kProtocol, ErrorSource::kDownstream, "unsupported HTTP version", false};
  }
  // assign, not a new string: the connection's head keeps its storage.
  assignKept(out.method, facts.method);
  out.version = facts.version;
  assignKept(out.target, facts.target);

  // Framing. Beast already refuses Content-Length together with chunked
  // and conflicting Content-Lengths; a Transfer-Encoding that does not end
  // in chunked (or any on HTTP/1.0) leaves the length undecidable.
  if (facts.saw_transfer_encoding && (!facts.chunked || out.version == 10)) {
    return protocolError("unsupported transfer-encoding");
  }
  if (facts.chunked) {
    framing_ = {BodyFraming::kChunked, 0};
    out.has_body = true;
  } else if (auto cl = facts.content_length; cl && *cl > 0) {
    framing_ = {BodyFraming::kLength, *cl};
    out.content_length = *cl;
    out.has_body = true;
  } else {
    framing_ = {BodyFraming::kNone, 0};
    if (facts.content_length) out.content_length = 0;
  }
  keep_alive_ = facts.keep_alive;

  if (facts.saw_underscore) {
    if (limits.reject_underscore_headers) return protocolError("header name with underscore");
    if (!limits.allow_underscore_headers) {
      out.headers.removeIf([](const Field& f) { return f.name.find('_') != std::string::npos; });
    }
  }

  // A forwarding split has read Upgrade, Expect and Host and left out the
  // fields removed here; the fields of any other head are searched.
  std::optional<std::string_view> upgrade;
  std::optional<std::string_view> expect;
  if (forwarded) {
    if (facts.connection_upgrade) upgrade = facts.upgrade;
    expect = facts.expect;
  } else {
    if (out.headers.hasToken("connection", "upgrade")) upgrade = out.headers.get("upgrade");
    expect = out.headers.get("expect");
  }
  if (upgrade) out.upgrade = toLower(trim(*upgrade));
  if (expect) {
    if (!iequals(trim(*expect), "100-continue")) {
      return Error{ErrorCode::kProtocol, ErrorSource::kDownstream, "unsupported expectation",
                   false};
    }
    out.expect_continue = out.version == 11;
  }
  size_t host_count = facts.host_count;
  std::string_view host = facts.host;  // into the head, or the field kept below
  if (!forwarded) {
    // Before Host is looked at: removing fields moves the ones kept.
    out.headers.remove("expect");
    removeConnectionFields(out.headers, /*content_length=*/true);
    host_count = out.headers.count("host");
    if (host_count > 0) host = *out.headers.get("host");
  }

  // The authority: an absolute-form target wins over Host (RFC 9112
  // section 3.2.2), and Host is rewritten to match so that nothing
  // downstream can see two different authorities.
  if (host_count > 1) return protocolError("more than one Host header");
  if (!out.target.empty() && out.target.front() != '/' && out.target != "*") {
    std::string_view t = out.target;
    size_t scheme_end = t.find("://");
    if (scheme_end == std::string_view::npos) {
      if (out.method == "CONNECT") return protocolError("CONNECT is not supported");
      return protocolError("invalid request target");
    }
    std::string scheme = toLower(t.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https")
      return protocolError("invalid request target scheme");
    t.remove_prefix(scheme_end + 3);
    size_t path_start = t.find_first_of("/?");
    std::string_view authority = t.substr(0, path_start);
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
      return protocolError("invalid request target authority");
    }
    out.authority = std::string(authority);
    if (path_start == std::string_view::npos) {
      out.target = "/";
    } else if (t[path_start] == '?') {
      out.target = "/" + std::string(t.substr(path_start));
    } else {
      out.target = std::string(t.substr(path_start));
    }
    out.headers.set("host", out.authority);
  } else if (host_count == 1) {
    assignKept(out.authority, trim(host));
  } else if (out.version == 11) {
    return protocolError("missing Host header");
  }
  for (char c : out.authority) {
    // Token bytes (underscores among them: they occur in real host names),
    // the port's colon and an IPv6 literal's brackets.
    if (!(isTokenByte(static_cast<unsigned char>(c)) || c == ':' || c == '[' || c == ']')) {
      return protocolError("invalid Host header");
    }
  }
  if (out.authority.find('@') != std::string::npos) return protocolError("invalid Host header");

  startBody(parser);
  if (parser) parser->request = nullptr;
  return {};
}

void Http1Reader::startBody(detail::MessageParser* parser) {
  parser_ = parser;
  plain_body_ = parser == nullptr;
  remaining_ = framing_.kind == BodyFraming::kLength ? framing_.length : 0;
}

Task<Result<ResponseHead>> Http1Reader::readResponse(std::string_view request_method) {
  while (true) {
    auto len = co_await readHead(kMaxHttp1ResponseHead, net::Clock::duration::zero());
    if (!len) co_return len.error();
    auto head = takeResponse(*len, request_method);
    if (!head) co_return head.error();
    if (*head) co_return std::move(**head);
  }
}

Result<std::optional<ResponseHead>> Http1Reader::takeResponse(size_t length,
                                                              std::string_view request_method,
                                                              ResponseHead storage) {
  if (length == 0) return upstreamError("upstream closed the connection before responding");
  std::string_view head(buffer_.data() + start_, length);
  ResponseHead out = std::move(storage);
  out.headers.clear();
  out.headers.reserve(16);
  parser_ = nullptr;
  plain_body_ = false;
  HeadFacts facts;
  BeastParser<false>* parser = nullptr;
  // Keep the upstream's Content-Length for HEAD and 304 answers, which
  // describe a body without sending one; framing fields go otherwise.
  const bool head_request = request_method == "HEAD";
  bool forwarded =
      splitResponseHead(head, facts, out.headers,
                        head_request ? FieldSet::kForwardedWithLength : FieldSet::kForwarded);
  if (forwarded && facts.connection_names_fields) {
    // The split left out Connection, which names fields to remove: read
    // all the fields again and remove them below.
    out.headers.clear();
    facts = HeadFacts();
    forwarded = false;
    if (!splitResponseHead(head, facts, out.headers))
      return upstreamError("invalid upstream response head");
  } else if (!forwarded) {
    out.headers.clear();
    parser = &slots_->response.emplace();
    parser->response = &out;
    if (head_request) parser->skip(true);
    error_code ec;
    size_t used = parser->put(head.data(), head.size(), ec);
    if ((ec && ec != beast::http::error::need_more) || used != head.size()) {
      return upstreamError("invalid upstream response head: " + ec.message());
    }
    facts = parser->facts();
  }
  start_ += length;
  out.status = facts.status;
  if (out.status >= 100 && out.status < 200 && out.status != 101) {
    return std::optional<ResponseHead>();  // interim
  }
  // A coding other than chunked last leaves the body's end to the close
  // (RFC 9112 section 6.3), and Beast would frame it by a Content-Length
  // sent beside it: refuse it rather than guess.
  if (parser && parser->saw_transfer_encoding && !parser->isChunked()) {
    return upstreamError("upstream response with a transfer-encoding other than chunked");
  }

  keep_alive_ = facts.keep_alive;
  if (out.status == 101) {
    framing_ = {BodyFraming::kNone, 0};
  } else if (request_method == "HEAD" || out.status == 204 || out.status == 304) {
    framing_ = {BodyFraming::kNone, 0};
  } else if (facts.chunked) {
    framing_ = {BodyFraming::kChunked, 0};
  } else if (auto cl = facts.content_length) {
    framing_ = {*cl > 0 ? BodyFraming::kLength : BodyFraming::kNone, *cl};
  } else {
    framing_ = {BodyFraming::kUntilClose, 0};
    keep_alive_ = false;
  }
  if (!forwarded) {
    removeConnectionFields(out.headers, !(head_request || out.status == 304));
  }
  startBody(parser);
  if (parser) parser->response = nullptr;
  return std::optional<ResponseHead>(std::move(out));
}

bool Http1Reader::bodyDone() const {
  if (framing_.kind == BodyFraming::kNone) return true;
  if (plain_body_) {
    return framing_.kind == BodyFraming::kLength ? remaining_ == 0 : at_eof_ && start_ == end_;
  }
  return parser_ && parser_->isDone() && parser_->pending_index >= parser_->pending.size();
}

Error Http1Reader::closedInBody() {
  return Error{ErrorCode::kClosed, ErrorSource::kDownstream, "connection closed in body", false};
}

std::string_view Http1Reader::takePlainBody() {
  bool by_length = framing_.kind == BodyFraming::kLength;
  size_t take = end_ - start_;
  if (by_length && take > remaining_) take = static_cast<size_t>(remaining_);
  std::string_view piece(buffer_.data() + start_, take);
  start_ += take;
  if (by_length) remaining_ -= take;
  return piece;
}

std::optional<Result<std::string_view>> Http1Reader::readBodyNow() {
  if (framing_.kind == BodyFraming::kNone) return Result<std::string_view>(std::string_view());
  if (plain_body_) {
    // A Content-Length body, or a response body that ends with the close.
    bool by_length = framing_.kind == BodyFraming::kLength;
    if (by_length && remaining_ == 0) return Result<std::string_view>(std::string_view());
    if (start_ == end_) {
      if (!at_eof_) return std::nullopt;
      if (by_length) return Result<std::string_view>(closedInBody());
      return Result<std::string_view>(std::string_view());
    }
    return Result<std::string_view>(takePlainBody());
  }
  if (!parser_) return Result<std::string_view>(std::string_view());
  detail::MessageParser& p = *parser_;
  if (p.pending_index < p.pending.size()) {
    return Result<std::string_view>(p.pending[p.pending_index++]);
  }
  return std::nullopt;
}

Task<Result<std::string_view>> Http1Reader::readBody() {
  if (auto now = readBodyNow()) co_return std::move(*now);
  if (plain_body_) {
    // Nothing buffered: nothing handed out refers to the buffer any more.
    compact();
    if (buffer_.size() < 64 * 1024) buffer_.resize(64 * 1024);
    auto n = filled(co_await stream_.readSome(spare()));
    if (!n) co_return n.error();
    if (*n == 0) {
      if (framing_.kind == BodyFraming::kLength) co_return closedInBody();
      co_return std::string_view();
    }
    co_return takePlainBody();
  }
  if (!parser_) co_return std::string_view();
  detail::MessageParser& p = *parser_;
  while (true) {
    if (p.pending_index < p.pending.size()) co_return p.pending[p.pending_index++];
    p.pending.clear();
    p.pending_index = 0;
    if (p.isDone()) co_return std::string_view();
    if (start_ < end_) {
      error_code ec;
      size_t used = p.put(buffer_.data() + start_, end_ - start_, ec);
      if (ec && ec != beast::http::error::need_more) {
        co_return Error{ErrorCode::kProtocol, ErrorSource::kDownstream, "body: " + ec.message(),
                        false};
      }
      start_ += used;
      if (used > 0 || !p.pending.empty() || p.isDone()) continue;
    }
    // Need more bytes: nothing handed out refers to the buffer any more.
    compact();
    if (buffer_.size() < 64 * 1024) buffer_.resize(64 * 1024);
    auto n = filled(co_await stream_.readSome(spare()));
    if (!n) co_return n.error();
    if (*n == 0) {
      if (p.needEof()) {
        error_code ec;
        p.putEof(ec);
        continue;
      }
      co_return closedInBody();
    }
  }
}

std::string Http1Reader::takeBuffered() {
  std::string out(buffer_.data() + start_, end_ - start_);
  start_ = end_ = 0;
  return out;
}

}  // namespace gatehouse::http

namespace gatehouse::http::detail {
namespace {

template <bool isRequest>
bool parseWithBeast(std::string_view head, HeadFacts& facts, Headers& fields) {
  BeastParser<isRequest> parser;
  std::conditional_t<isRequest, RequestHead, ResponseHead> out;
  if constexpr (isRequest) {
    parser.request = &out;
  } else {
    parser.response = &out;
  }
  error_code ec;
  size_t used = parser.put(head.data(), head.size(), ec);
  if ((ec && ec != beast::http::error::need_more) || used != head.size() ||
      !parser.isHeaderDone()) {
    return false;
  }
  facts = parser.facts();
  fields = std::move(out.headers);
  return true;
}

}  // namespace

bool parseHeadWithGeneralParser(std::string_view head, bool request, HeadFacts& facts,
                                Headers& fields) {
  return request ? parseWithBeast<true>(head, facts, fields)
                 : parseWithBeast<false>(head, facts, fields);
}

}  // namespace gatehouse::http::detail

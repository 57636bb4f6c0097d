#include "net/proxy_protocol.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace gatehouse::net {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

ProxyParse invalid(std::string error) {
  ProxyParse p;
  p.status = ProxyParse::kInvalid;
  p.error = std::move(error);
  return p;
}

// Splits off the text up to the next single space; false if there is none
// or the field is empty.
bool nextField(std::string_view& rest, std::string_view& field) {
  size_t space = rest.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  field = rest.substr(0, space);
  rest.remove_prefix(space + 1);
  return true;
}

std::optional<asio::ip::address> parseAddress(std::string_view text, bool v6) {
  // inet_pton takes a NUL-terminated string; the longest IPv6 text is 45.
  char buf[64];
  if (text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (v6) {
    asio::ip::address_v6::bytes_type bytes;
    if (inet_pton(AF_INET6, buf, bytes.data()) != 1) return std::nullopt;
    return asio::ip::address(asio::ip::address_v6(bytes));
  }
  asio::ip::address_v4::bytes_type bytes;
  if (inet_pton(AF_INET, buf, bytes.data()) != 1) return std::nullopt;
  return asio::ip::address(asio::ip::address_v4(bytes));
}

// A port: 1 to 5 digits, no sign, no leading zero (except "0"), ≤ 65535.
std::optional<uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

ProxyParse parseV1(std::string_view bytes) {
  size_t end = bytes.find("\r\n");
  // Only printable text may precede the CRLF (a lone CR is checked by the
  // field parsers), whether or not it has arrived yet.
  for (char c : bytes.substr(0, std::min(end, bytes.size()))) {
    if ((c < 0x20 || c > 0x7e) && c != '\r') return invalid("PROXY v1 header is not text");
  }
  if (end == std::string_view::npos) {
    if (bytes.size() >= kProxyV1MaxLength) return invalid("PROXY v1 header longer than 107 bytes");
    return {};
  }
  if (end + 2 > kProxyV1MaxLength) return invalid("PROXY v1 header longer than 107 bytes");
  std::string_view line = bytes.substr(kV1Prefix.size(), end - kV1Prefix.size());
  ProxyParse done;
  done.status = ProxyParse::kDone;
  done.header.length = end + 2;
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return done;  // addresses ignored

  std::string_view rest = line, family, src, dst, sport;
  if (!nextField(rest, family) || !nextField(rest, src) || !nextField(rest, dst) ||
      !nextField(rest, sport)) {
    return invalid("PROXY v1 header: expected \"PROXY TCP4|TCP6 src dst sport dport\"");
  }
  std::string_view dport = rest;
  bool v6;
  if (family == "TCP4") {
    v6 = false;
  } else if (family == "TCP6") {
    v6 = true;
  } else {
    return invalid("PROXY v1 header: unknown protocol \"" + std::string(family) + "\"");
  }
  auto src_address = parseAddress(src, v6);
  auto dst_address = parseAddress(dst, v6);
  if (!src_address || !dst_address) return invalid("PROXY v1 header: bad address");
  auto src_port = parsePort(sport);
  auto dst_port = parsePort(dport);
  if (!src_port || !dst_port) return invalid("PROXY v1 header: bad port");
  done.header.source = tcp::endpoint(*src_address, *src_port);
  done.header.destination = tcp::endpoint(*dst_address, *dst_port);
  return done;
}

uint16_t be16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

ProxyParse parseV2(std::string_view bytes) {
  if (bytes.size() < 16) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  unsigned version = p[12] >> 4, command = p[12] & 0x0f;
  if (version != 2) return invalid("PROXY v2 header: unsupported version");
  if (command > 1) return invalid("PROXY v2 header: unknown command");
  size_t length = 16 + be16(p + 14);
  if (length > kProxyV2MaxLength) return invalid("PROXY v2 header longer than 2064 bytes");
  if (bytes.size() < length) return {};

  ProxyParse done;
  done.status = ProxyParse::kDone;
  done.header.length = length;
  if (command == 0) return done;  // LOCAL: the balancer speaking for itself
  unsigned family = p[13] >> 4, transport = p[13] & 0x0f;
  const unsigned char* a = p + 16;
  size_t block = length - 16;
  if (family > 3 || transport > 2) return invalid("PROXY v2 header: unknown address family");
  // Only TCP over IPv4 and IPv6 carries an address Gatehouse can use; the
  // spec asks receivers to accept other families and keep the
  // connection's own addresses.
  if (transport != 1 || (family != 1 && family != 2)) return done;
  if (family == 1) {
    if (block < 12) return invalid("PROXY v2 header: IPv4 address block too short");
    asio::ip::address_v4::bytes_type src, dst;
    std::memcpy(src.data(), a, 4);
    std::memcpy(dst.data(), a + 4, 4);
    done.header.source = tcp::endpoint(asio::ip::address_v4(src), be16(a + 8));
    done.header.destination = tcp::endpoint(asio::ip::address_v4(dst), be16(a + 10));
  } else {
    if (block < 36) return invalid("PROXY v2 header: IPv6 address block too short");
    asio::ip::address_v6::bytes_type src, dst;
    std::memcpy(src.data(), a, 16);
    std::memcpy(dst.data(), a + 16, 16);
    done.header.source = tcp::endpoint(asio::ip::address_v6(src), be16(a + 32));
    done.header.destination = tcp::endpoint(asio::ip::address_v6(dst), be16(a + 34));
  }
  return done;
}

class RemoteEndpointStream final : public Stream {
 public:
  RemoteEndpointStream(std::unique_ptr<Stream> inner, tcp::endpoint remote)
      : inner_(std::move(inner)), remote_(remote) {}

  Task<Result<size_t>> readSome(asio::mutable_buffer buffer) override {
    return inner_->readSome(buffer);
  }
  Task<Result<void>> write(std::span<const asio::const_buffer> buffers) override {
    return inner_->write(buffers);
  }
  Task<void> shutdownSend() override { return inner_->shutdownSend(); }
  void close() override { inner_->close(); }
  bool isOpen() const override { return inner_->isOpen(); }
  void setDeadline(Clock::time_point deadline) override { inner_->setDeadline(deadline); }
  bool peerClosedOrDirty() override { return inner_->peerClosedOrDirty(); }
  std::string_view alpn() const override { return inner_->alpn(); }
  std::string_view serverName() const override { return inner_->serverName(); }
  bool isTls() const override { return inner_->isTls(); }
  const ClientCertificate* clientCertificate() const override {
    return inner_->clientCertificate();
  }
  tcp::endpoint remoteEndpoint() const override { return remote_; }
  tcp::endpoint localEndpoint() const override { return inner_->localEndpoint(); }

 private:
  std::unique_ptr<Stream> inner_;
  tcp::endpoint remote_;
};

}  // namespace

ProxyParse parseProxyHeader(std::string_view bytes) {
  // Decide the version from as many bytes as are here; a prefix of either
  // signature needs more.
  size_t n1 = std::min(bytes.size(), kV1Prefix.size());
  if (bytes.substr(0, n1) == kV1Prefix.substr(0, n1)) {
    return n1 < kV1Prefix.size() ? ProxyParse{} : parseV1(bytes);
  }
  size_t n2 = std::min(bytes.size(), kV2Signature.size());
  if (bytes.substr(0, n2) == kV2Signature.substr(0, n2)) {
    return n2 < kV2Signature.size() ? ProxyParse{} : parseV2(bytes);
  }
  return invalid("the connection does not start with a PROXY protocol header");
}

std::unique_ptr<Stream> withRemoteEndpoint(std::unique_ptr<Stream> stream, tcp::endpoint remote) {
  return std::make_unique<RemoteEndpointStream>(std::move(stream), remote);
}

}  // namespace gatehouse::net

#include "net/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::net {
namespace {

using namespace std::string_literals;

std::string v2(uint8_t ver_cmd, uint8_t family, std::string block) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(family);
  h += static_cast<char>(block.size() >> 8);
  h += static_cast<char>(block.size() & 0xff);
  return h + block;
}

std::string ipv4Block() {
  // 192.0.2.7:51000 -> 198.51.100.1:443
  return "\xc0\x00\x02\x07"s + "\xc6\x33\x64\x01"s + "\xc7\x38"s + "\x01\xbb"s;
}

TEST(ProxyProtocolV1, Tcp4NamesTheClientAndTheHeaderLength) {
  std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\n";
  auto p = parseProxyHeader(header + "\x16\x03\x01 rest of a ClientHello");
  ASSERT_EQ(p.status, ProxyParse::kDone) << p.error;
  EXPECT_EQ(p.header.length, header.size());
  ASSERT_TRUE(p.header.source);
  EXPECT_EQ(p.header.source->address().to_string(), "192.0.2.7");
  EXPECT_EQ(p.header.source->port(), 51000);
  EXPECT_EQ(p.header.destination->address().to_string(), "198.51.100.1");
  EXPECT_EQ(p.header.destination->port(), 443);
}

TEST(ProxyProtocolV1, Tcp6) {
  auto p = parseProxyHeader("PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\nGET");
  ASSERT_EQ(p.status, ProxyParse::kDone) << p.error;
  EXPECT_EQ(p.header.source->address().to_string(), "2001:db8::7");
  EXPECT_EQ(p.header.destination->port(), 65535);
}

TEST(ProxyProtocolV1, UnknownKeepsTheConnectionsAddresses) {
  for (std::string h : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    auto p = parseProxyHeader(h);
    ASSERT_EQ(p.status, ProxyParse::kDone) << h;
    EXPECT_EQ(p.header.length, h.size());
    EXPECT_FALSE(p.header.source);
  }
}

TEST(ProxyProtocolV1, EveryPrefixNeedsMore) {
  std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\n";
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parseProxyHeader(header.substr(0, n)).status, ProxyParse::kNeedMore) << n;
  }
}

TEST(ProxyProtocolV1, MalformedHeadersAreRefused) {
  for (std::string h : {
           "PROXY TCP4 192.0.2.7 198.51.100.1 51000\r\n",        // a field missing
           "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443 x\r\n",  // one too many
           "PROXY TCP4  192.0.2.7 198.51.100.1 51000 443\r\n",   // double space
           "PROXY TCP4 2001:db8::7 198.51.100.1 51000 443\r\n",  // family mismatch
           "PROXY TCP6 192.0.2.7 2001:db8::1 51000 443\r\n",
           "PROXY TCP4 192.0.2.777 198.51.100.1 51000 443\r\n",  // bad address
           "PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",    // port out of range
           "PROXY TCP4 192.0.2.7 198.51.100.1 051000 443\r\n",   // leading zero
           "PROXY TCP4 192.0.2.7 198.51.100.1 -1 443\r\n",
           "PROXY UDP4 192.0.2.7 198.51.100.1 51000 443\r\n",  // not TCP
           "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\n",    // bare LF: a control byte
       }) {
    auto p = parseProxyHeader(h);
    EXPECT_EQ(p.status, ProxyParse::kInvalid) << h;
    EXPECT_FALSE(p.error.empty());
  }
}

TEST(ProxyProtocolV1, ControlBytesAreRefusedEvenInUnknown) {
  // Found by fuzzing: a finished UNKNOWN line with a non-text byte was
  // accepted while its prefixes were refused.
  EXPECT_EQ(parseProxyHeader("PROXY UNKNOWN a\xbf b\r\n").status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader("PROXY UNKNOWN a\xbf b").status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader("PROXY UNKNOWN a\tb\r\n").status, ProxyParse::kInvalid);
}

TEST(ProxyProtocolV1, LongerThan107BytesIsRefused) {
  std::string h = "PROXY UNKNOWN " + std::string(100, 'x');
  EXPECT_EQ(parseProxyHeader(h).status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader(h + "\r\n").status, ProxyParse::kInvalid);
}

TEST(ProxyProtocol, ADirectClientIsRefused) {
  EXPECT_EQ(parseProxyHeader("GET / HTTP/1.1\r\n").status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader("\x16\x03\x01\x02\x00").status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader("PROXy").status, ProxyParse::kInvalid);
}

TEST(ProxyProtocolV2, Ipv4WithTlvsIsConsumedWhole) {
  std::string tlvs =
      "\x04\x00\x03"
      "abc"s;  // PP2_TYPE_NOOP with 3 bytes
  std::string h = v2(0x21, 0x11, ipv4Block() + tlvs);
  auto p = parseProxyHeader(h + "payload");
  ASSERT_EQ(p.status, ProxyParse::kDone) << p.error;
  EXPECT_EQ(p.header.length, h.size());
  EXPECT_EQ(p.header.source->address().to_string(), "192.0.2.7");
  EXPECT_EQ(p.header.source->port(), 51000);
  EXPECT_EQ(p.header.destination->port(), 443);
}

TEST(ProxyProtocolV2, Ipv6) {
  std::string block(36, '\0');
  block[0] = '\x20';
  block[1] = '\x01';
  block[15] = '\x07';
  block[32] = '\x00';
  block[33] = '\x50';
  auto p = parseProxyHeader(v2(0x21, 0x21, block));
  ASSERT_EQ(p.status, ProxyParse::kDone) << p.error;
  EXPECT_EQ(p.header.source->address().to_string(), "2001::7");
  EXPECT_EQ(p.header.source->port(), 80);
}

TEST(ProxyProtocolV2, LocalAndOtherFamiliesKeepTheConnectionsAddresses) {
  auto local = parseProxyHeader(v2(0x20, 0x00, ""));
  ASSERT_EQ(local.status, ProxyParse::kDone);
  EXPECT_EQ(local.header.length, 16u);
  EXPECT_FALSE(local.header.source);
  auto unix_stream = parseProxyHeader(v2(0x21, 0x31, std::string(216, 'u')));
  ASSERT_EQ(unix_stream.status, ProxyParse::kDone);
  EXPECT_FALSE(unix_stream.header.source);
  auto udp = parseProxyHeader(v2(0x21, 0x12, ipv4Block()));
  ASSERT_EQ(udp.status, ProxyParse::kDone);
  EXPECT_FALSE(udp.header.source);
}

TEST(ProxyProtocolV2, PrefixesNeedMoreAndBadHeadersAreRefused) {
  std::string h = v2(0x21, 0x11, ipv4Block());
  for (size_t n = 0; n < h.size(); ++n) {
    EXPECT_EQ(parseProxyHeader(h.substr(0, n)).status, ProxyParse::kNeedMore) << n;
  }
  EXPECT_EQ(parseProxyHeader(v2(0x11, 0x11, ipv4Block())).status, ProxyParse::kInvalid);  // v1 byte
  EXPECT_EQ(parseProxyHeader(v2(0x22, 0x11, ipv4Block())).status, ProxyParse::kInvalid);  // command
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x11, ipv4Block().substr(0, 11))).status,
            ProxyParse::kInvalid);  // short
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x21, std::string(35, 'a'))).status, ProxyParse::kInvalid);
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x41, ipv4Block())).status, ProxyParse::kInvalid);  // family
  // A length beyond the bound is refused before the bytes arrive.
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x11, std::string(4000, 'a')).substr(0, 16)).status,
            ProxyParse::kInvalid);
}

}  // namespace
}  // namespace gatehouse::net

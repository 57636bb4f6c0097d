// Fuzzes the PROXY protocol parser that reads the first bytes of every
// connection when use_proxy_protocol is on, and checks what the accept path
// relies on: a finished header never claims more bytes than were given (or
// the caller would consume the payload), every proper prefix of a finished
// header asks for more rather than being refused or finished differently,
// and the bounds hold.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "net/proxy_protocol.h"

namespace {

using gatehouse::net::kProxyV1MaxLength;
using gatehouse::net::kProxyV2MaxLength;
using gatehouse::net::parseProxyHeader;
using gatehouse::net::ProxyParse;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ProxyParse p = parseProxyHeader(bytes);
  if (p.status == ProxyParse::kInvalid && p.error.empty()) fail("refusal without a reason");
  if (p.status != ProxyParse::kDone) return 0;
  size_t n = p.header.length;
  if (n == 0 || n > size) fail("header length outside the input");
  if (n > kProxyV2MaxLength) fail("header longer than the bound");
  if (bytes[0] == 'P' && n > kProxyV1MaxLength) fail("v1 header longer than 107 bytes");
  if (p.header.source.has_value() != p.header.destination.has_value()) fail("half an address");
  // The header alone parses to the same result, and its prefixes need more.
  ProxyParse alone = parseProxyHeader(bytes.substr(0, n));
  if (alone.status != ProxyParse::kDone || alone.header.length != n ||
      alone.header.source != p.header.source) {
    fail("the header alone parses differently");
  }
  for (size_t k = 0; k < n; k += (n > 64 ? 7 : 1)) {
    if (parseProxyHeader(bytes.substr(0, k)).status != ProxyParse::kNeedMore) {
      fail("a prefix of a header does not ask for more");
    }
  }
  return 0;
}

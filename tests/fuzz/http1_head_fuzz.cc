// Fuzzes the direct split of HTTP/1 heads against the general parser. The
// first byte chooses a request (even) or a response (odd); the rest is the
// head, cut where the reader cuts it. Whenever the split accepts a head,
// the general parser must accept it too and read the same start line,
// framing, keep-alive and fields: the reader relies on that to use either
// without any difference in meaning. A request head that splits must also
// pass validateRequestHead, with the limits the split was given: the reader
// makes that check only when the split fails.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/strings.h"
#include "http/head_validator.h"
#include "http/http1_head.h"

namespace {

using namespace gatehouse::http;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "split and general parser differ: %s\n", what);
  std::abort();
}

// `forwarded` must be `all` without the fields `left_out` names, in order.
template <typename LeftOut>
void expectAllLess(const Headers& all, const Headers& forwarded, LeftOut left_out) {
  size_t j = 0;
  for (const auto& f : all.fields()) {
    if (left_out(std::string_view(f.name))) continue;
    if (j >= forwarded.size() || forwarded.fields()[j].name != f.name ||
        forwarded.fields()[j].value != f.value) {
      fail("forwarded fields");
    }
    ++j;
  }
  if (j != forwarded.size()) fail("forwarded field count");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool request = (data[0] & 1) == 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  // The head ends where the reader ends it: at the first LF followed by LF
  // or CRLF (a bare "\n\n" too, so that the check can refuse it).
  size_t len = 0;
  for (size_t i = input.find('\n'); i != std::string_view::npos; i = input.find('\n', i + 1)) {
    if (i + 1 < input.size() && input[i + 1] == '\n') {
      len = i + 2;
      break;
    }
    if (i + 2 < input.size() && input[i + 1] == '\r' && input[i + 2] == '\n') {
      len = i + 3;
      break;
    }
  }
  if (len == 0) return 0;
  std::string_view head = input.substr(0, len);
  // Small limits as well as the defaults, so that the fuzzer reaches them.
  const HeadLimits limits = (data[0] & 2) == 0 ? HeadLimits{} : HeadLimits{64, 3};

  HeadFacts fast;
  Headers fast_fields;
  bool split = request ? splitRequestHead(head, limits, fast, fast_fields)
                       : splitResponseHead(head, fast, fast_fields);
  if (!split) return 0;
  if (request && validateRequestHead(head, limits).verdict != HeadVerdict::kOk) {
    fail("the split accepts a request head that validateRequestHead refuses");
  }

  HeadFacts general;
  Headers general_fields;
  if (!detail::parseHeadWithGeneralParser(head, request, general, general_fields)) {
    fail("the general parser refuses a head the split accepts");
  }
  if (fast.method != general.method || fast.target != general.target) fail("request line");
  if (fast.status != general.status || fast.version != general.version) fail("status or version");
  if (fast.content_length != general.content_length) fail("content-length");
  if (general.chunked || general.saw_transfer_encoding) fail("transfer-encoding");
  if (fast.saw_underscore != general.saw_underscore) fail("underscore");
  // A response without a length ends with the close whatever Connection
  // says; the general parser folds that into keep-alive, the reader does
  // it separately.
  bool length_known = request || fast.content_length || fast.status / 100 == 1 ||
                      fast.status == 204 || fast.status == 304;
  if (length_known && fast.keep_alive != general.keep_alive) fail("keep-alive");
  if (fast_fields.size() != general_fields.size()) fail("field count");
  for (size_t i = 0; i < fast_fields.size(); ++i) {
    if (fast_fields.fields()[i].name != general_fields.fields()[i].name) fail("field name");
    if (fast_fields.fields()[i].value != general_fields.fields()[i].value) fail("field value");
  }
  if (request) {
    // A request split for forwarding reads the same facts, Host, Upgrade
    // and Expect as the reader finds them among all the fields, and adds
    // the fields less the hop-by-hop ones, Content-Length and Expect.
    HeadFacts facts;
    Headers fields;
    if (!splitRequestHead(head, limits, facts, fields, FieldSet::kForwardedRequest)) {
      fail("a forwarding split refuses a request head");
    }
    if (facts.method != fast.method || facts.target != fast.target ||
        facts.version != fast.version || facts.content_length != fast.content_length ||
        facts.keep_alive != fast.keep_alive || facts.saw_underscore != fast.saw_underscore ||
        facts.connection_names_fields != fast.connection_names_fields) {
      fail("forwarding request split facts");
    }
    if (facts.host_count != fast_fields.count("host")) fail("host count");
    if (facts.host_count > 0 && facts.host != *fast_fields.get("host")) fail("host");
    if (facts.expect != fast_fields.get("expect")) fail("expect");
    if (facts.upgrade != fast_fields.get("upgrade")) fail("upgrade");
    if (facts.connection_upgrade != fast_fields.hasToken("connection", "upgrade")) {
      fail("connection upgrade");
    }
    expectAllLess(fast_fields, fields, [](std::string_view name) {
      return isHopByHop(name) || gatehouse::iequals(name, "content-length") ||
             gatehouse::iequals(name, "expect");
    });
    return 0;
  }

  // A split for forwarding reads the same facts and adds the same fields
  // less the hop-by-hop ones and (unless kept, as on a 304) Content-Length.
  for (FieldSet set : {FieldSet::kForwarded, FieldSet::kForwardedWithLength}) {
    HeadFacts facts;
    Headers fields;
    if (!splitResponseHead(head, facts, fields, set)) fail("a forwarding split refuses a head");
    if (facts.status != fast.status || facts.version != fast.version ||
        facts.content_length != fast.content_length || facts.keep_alive != fast.keep_alive ||
        facts.saw_underscore != fast.saw_underscore) {
      fail("forwarding split facts");
    }
    const bool drop_length = set == FieldSet::kForwarded && fast.status != 304;
    expectAllLess(fast_fields, fields, [&](std::string_view name) {
      return isHopByHop(name) || (drop_length && gatehouse::iequals(name, "content-length"));
    });
  }
  return 0;
}

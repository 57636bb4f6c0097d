#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "http/head_validator.h"
#include "http/headers.h"

namespace gatehouse::http {

// What the HTTP/1 codec needs from a head besides its fields.
struct HeadFacts {
  std::string_view method;  // requests
  std::string_view target;  // requests
  int status = 0;           // responses
  int version = 11;         // 10 or 11
  std::optional<uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding ends in chunked
  // From the version and the Connection (and Proxy-Connection) tokens, as
  // RFC 9112 section 9.3 says ("close" wins over "keep-alive" on HTTP/1.0
  // too); a response body delimited by the close is not accounted for here.
  bool keep_alive = true;
  bool saw_transfer_encoding = false;
  bool saw_underscore = false;
  // Connection (or Proxy-Connection) lists a token other than close,
  // keep-alive and the hop-by-hop names: it names a field of this message
  // that must not be forwarded. Set by the split only.
  bool connection_names_fields = false;

  // Read by a request split for forwarding (FieldSet::kForwardedRequest),
  // which leaves these fields out or is asked for them; views into the head.
  std::string_view host;                    // the first Host value
  uint32_t host_count = 0;                  // how many Host fields
  bool connection_upgrade = false;          // Connection lists "upgrade"
  std::optional<std::string_view> upgrade;  // the first Upgrade value
  std::optional<std::string_view> expect;   // the first Expect value
};

// Which fields a split adds.
enum class FieldSet : uint8_t {
  kAll,  // every field line, as the general parser reads them
  // What a proxy forwards: the hop-by-hop fields (isHopByHop) and
  // Content-Length are read and left out, but a 304's Content-Length is
  // kept (it describes a body the answer does not carry). Fields that
  // Connection names are not: facts.connection_names_fields tells the
  // caller to remove them.
  kForwarded,
  kForwardedWithLength,  // the same, keeping Content-Length whatever the status (HEAD)
  // What a proxy forwards of a request: as kForwarded, and without Expect,
  // which the proxy answers itself. Host, Upgrade and Expect are read into
  // the facts on the way.
  kForwardedRequest,
};

// Splits a complete head (start line up to and including the empty line)
// into `facts`, adding its fields to `fields`, for the plain case that
// almost every message is: CRLF line endings, one Content-Length of digits
// or none, no Transfer-Encoding, Connection as a list of tokens, no
// obs-fold. Returns false for anything else, with `fields` in an
// unspecified state: the caller then parses the head with the general
// parser, which decides on it exactly as it would have alone. Where this
// returns true the general parser gives the same facts and fields (the
// http1_head fuzz target checks this on every input).
//
// Every byte is checked as validateRequestHead checks a request head, with
// a request's `limits`: where a request head splits, that check would have
// accepted it (the fuzz target checks this too), so the caller need not
// make it. A response's fields can be split for forwarding (`set`), which
// saves adding the fields a proxy would remove at once. A request takes
// kAll or kForwardedRequest, a response any other set.
bool splitRequestHead(std::string_view head, const HeadLimits& limits, HeadFacts& facts,
                      Headers& fields, FieldSet set = FieldSet::kAll);
bool splitResponseHead(std::string_view head, HeadFacts& facts, Headers& fields,
                       FieldSet set = FieldSet::kAll);

namespace detail {
// The general parser's reading of a head (Beast's, in http1_reader.cc), for
// the fuzz target and tests that compare the two. False when it refuses the
// head.
bool parseHeadWithGeneralParser(std::string_view head, bool request, HeadFacts& facts,
                                Headers& fields);
}  // namespace detail

}  // namespace gatehouse::http

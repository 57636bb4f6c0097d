#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "http/headers.h"

namespace gatehouse::http {

// A request as received from the client, protocol-independent. For
// HTTP/1 `authority` comes from the Host header (or an absolute-form
// target); for HTTP/2 from :authority. Header fields hold end-to-end
// fields only: the codec has removed framing and hop-by-hop fields.
struct RequestHead {
  std::string method;
  std::string scheme;     // "https" or "http": how the client reached us
  std::string authority;  // host[:port] as sent
  std::string target;     // origin-form path and query, as sent
  int version = 11;       // 10, 11, 20
  Headers headers;
  std::optional<uint64_t> content_length;  // nullopt = none or streamed
  bool has_body = false;
  bool expect_continue = false;
  std::string upgrade;  // the Upgrade token ("websocket") if the client asks for one

  // Back to a default-constructed head, keeping the storage of its strings
  // and fields (one head object serves every request of a connection).
  // Every member is reset here.
  void reset() {
    method.clear();
    scheme.clear();
    authority.clear();
    target.clear();
    version = 11;
    headers.clear();
    content_length.reset();
    has_body = false;
    expect_continue = false;
    upgrade.clear();
  }
};

struct ResponseHead {
  int status = 200;
  Headers headers;
};

}  // namespace gatehouse::http

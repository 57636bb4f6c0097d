#pragma once

// set_request_headers values with variables, compiled once per route and
// rendered per request. The grammar and the variables are Pomerium's
// (internal/headertemplate, headers_evaluator_evaluation.go
// fillSetRequestHeaders):
//
//   $$                                   a literal "$"
//   $name.name...                        a simple reference: names of
//                                        [A-Za-z0-9_-], joined by "."
//   ${ name . name ["string"] ... }      a braced reference: names joined by
//                                        "." or indexed by a quoted string
//                                        (backslash escapes the next byte);
//                                        spaces and tabs allowed between parts
//
// Known references:
//   pomerium.access_token, pomerium.id_token   the session's OAuth tokens
//   pomerium.jwt                               the identity JWT
//   pomerium.client_cert_fingerprint           SHA-256 of the client certificate, hex
//   pomerium.request.headers.<name>            a request header (also
//   pomerium.request.headers["<name>"])        ${...["X-Name"]}), "" if absent
// Any other reference renders as "". Text that does not parse as a
// reference ("${", "$ ", a trailing "$", "${x.}") stays as written.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authorize/identity.h"
#include "policy/input.h"

namespace gatehouse::authorize {

class HeaderTemplate {
 public:
  // What a template may refer to, for one request. Borrowed.
  struct Context {
    const Identity* identity = nullptr;  // nullptr = no session: tokens render ""
    std::string_view jwt;
    std::string_view client_cert_fingerprint;  // 64 hex digits, "" without a certificate
    const policy::HeaderLookup* request_headers = nullptr;
  };

  // Never fails: what is not a reference is literal text.
  static HeaderTemplate compile(std::string_view text);

  // Appends the rendered value to `out`.
  void render(const Context& context, std::string& out) const;
  std::string render(const Context& context) const {
    std::string out;
    render(context, out);
    return out;
  }

  // Whether rendering needs the identity JWT (so that a route that does not
  // pass identity headers signs one only when a template asks for it).
  bool usesJwt() const;
  // Whether the template is plain text (no references).
  bool isLiteral() const;

 private:
  enum class Kind : uint8_t {
    kText,
    kAccessToken,
    kIdToken,
    kJwt,
    kClientCertFingerprint,
    kRequestHeader,  // text = the header name
    kEmpty,          // an unknown reference
  };
  struct Segment {
    Kind kind;
    std::string text;
  };

  std::vector<Segment> segments_;
};

}  // namespace gatehouse::authorize

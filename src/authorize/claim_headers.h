#pragma once

// `jwt_claims_headers`: request headers that carry single claims of the
// identity JWT to the upstream (Pomerium's config/custom.go JWTClaimHeaders
// and headers_evaluator_evaluation.go fillJWTClaimHeaders).
//
// Three shapes are accepted, as Pomerium accepts them:
//   - a list of claim names:           [email, groups]
//   - a string of them, separated by commas and/or white space: "email,groups"
//   - a map of header name to claim:   {X-Email: email}
// A list entry `email` becomes the header `X-Pomerium-Claim-Email`
// (Pomerium's "x-pomerium-claim-" + claim, in the canonical form Go's
// http.Header gives it).

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authorize/identity_jwt.h"
#include "authorize/output_headers.h"
#include "common/result.h"

namespace gatehouse::authorize {

class ClaimHeaders {
 public:
  struct Entry {
    std::string header;  // canonical form: X-Pomerium-Claim-Email
    std::string claim;   // email
  };

  ClaimHeaders() = default;
  // From (header name, claim name) pairs. Header names are canonicalised; a
  // later pair for the same header replaces an earlier one (it is a map in
  // Pomerium). Pairs with an empty header or claim are dropped.
  explicit ClaimHeaders(std::vector<std::pair<std::string, std::string>> header_to_claim);
  // The list shape: each claim gets its default header name.
  static ClaimHeaders fromClaims(std::span<const std::string> claims);

  // The value as the config layer keeps it: a JSON object text (the map
  // shape), a JSON array text, or a string of claim names separated by
  // commas and/or white space (the list shape comma-joined, or the string
  // shape as written). Errors name the key.
  static Result<ClaimHeaders> parse(std::string_view text);

  // "x-pomerium-claim-" + claim, canonicalised: X-Pomerium-Claim-Email.
  static std::string defaultHeaderName(std::string_view claim);
  // Go's textproto.CanonicalMIMEHeaderKey: the first letter and every letter
  // after a hyphen upper case, the others lower case; a name with a byte
  // that is not a header token character is returned unchanged.
  static std::string canonicalHeaderName(std::string_view name);

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  // The distinct claim names, in order (what IdentityJwt needs).
  std::vector<std::string> claimNames() const;

  // Appends one header per entry, its value the claim read from `claims`
  // (arrays comma-joined); an empty value when the JWT has no such claim.
  void render(const IdentityClaims& claims, OutputHeaders& out) const;

  friend bool operator==(const ClaimHeaders& a, const ClaimHeaders& b) {
    if (a.entries_.size() != b.entries_.size()) return false;
    for (size_t i = 0; i < a.entries_.size(); ++i) {
      if (a.entries_[i].header != b.entries_[i].header ||
          a.entries_[i].claim != b.entries_[i].claim) {
        return false;
      }
    }
    return true;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace gatehouse::authorize

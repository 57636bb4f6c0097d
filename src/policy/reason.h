#pragma once

// Why a criterion, an operator or a whole policy decided as it did. The
// strings are Pomerium's (pkg/policy/criteria/reasons.go), so logs, error
// pages and the authorize response read the same as Pomerium's.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::policy {

enum class Reason : uint8_t {
  kAccept,                         // accept
  kReject,                         // reject
  kUserOk,                         // user-ok
  kUserUnauthorized,               // user-unauthorized: signed in, but not allowed
  kUserUnauthenticated,            // user-unauthenticated: must sign in first
  kEmailOk,                        // email-ok
  kEmailUnauthorized,              // email-unauthorized
  kDomainOk,                       // domain-ok
  kDomainUnauthorized,             // domain-unauthorized
  kClaimOk,                        // claim-ok
  kClaimUnauthorized,              // claim-unauthorized
  kGroupsOk,                       // groups-ok
  kGroupsUnauthorized,             // groups-unauthorized
  kHttpMethodOk,                   // http-method-ok
  kHttpMethodUnauthorized,         // http-method-unauthorized
  kHttpPathOk,                     // http-path-ok
  kHttpPathUnauthorized,           // http-path-unauthorized
  kSourceIpOk,                     // source-ip-ok
  kSourceIpUnauthorized,           // source-ip-unauthorized
  kCorsRequest,                    // cors-request
  kNonCorsRequest,                 // non-cors-request
  kClientCertificateOk,            // client-certificate-ok
  kClientCertificateUnauthorized,  // client-certificate-unauthorized
  kClientCertificateRequired,      // client-certificate-required: none was presented
  kInvalidClientCertificate,       // invalid-client-certificate: presented, but not trusted
  kValidClientCertificate,         // valid-client-certificate
  // The time criteria are Pomerium Enterprise features without published
  // reason strings; these follow the "<criterion>-ok/-unauthorized" pattern.
  kDateOk,                 // date-ok
  kDateUnauthorized,       // date-unauthorized
  kDayOfWeekOk,            // day-of-week-ok
  kDayOfWeekUnauthorized,  // day-of-week-unauthorized
  kTimeOfDayOk,            // time-of-day-ok
  kTimeOfDayUnauthorized,  // time-of-day-unauthorized
  kRouteNotFound,          // route-not-found: set by route lookup, never by a criterion
  kCount,
};

// The reason's wire string ("email-ok"); "" for kCount.
std::string_view toString(Reason reason);

// A set of reasons: one bit per Reason, so that combining results on the
// request path is an OR of two integers and never allocates.
class Reasons {
 public:
  constexpr Reasons() = default;
  constexpr Reasons(Reason reason) : bits_(bit(reason)) {}  // NOLINT: a reason is a set of one

  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool has(Reason reason) const { return (bits_ & bit(reason)) != 0; }
  constexpr void add(Reason reason) { bits_ |= bit(reason); }
  constexpr void add(Reasons other) { bits_ |= other.bits_; }
  constexpr size_t size() const { return static_cast<size_t>(__builtin_popcountll(bits_)); }
  constexpr uint64_t bits() const { return bits_; }

  friend constexpr Reasons operator|(Reasons a, Reasons b) { return Reasons(a.bits_ | b.bits_); }
  friend constexpr bool operator==(Reasons a, Reasons b) { return a.bits_ == b.bits_; }

  // Calls f(Reason) for each member, in enum order. Does not allocate.
  template <typename F>
  constexpr void forEach(F&& f) const {
    for (uint8_t i = 0; i < static_cast<uint8_t>(Reason::kCount); ++i) {
      if ((bits_ >> i) & 1U) f(static_cast<Reason>(i));
    }
  }

  // The wire strings sorted alphabetically, as Pomerium's Reasons.Strings()
  // lists them (for logs and error pages; allocates).
  std::vector<std::string_view> strings() const;
  // strings() joined with ", ".
  std::string toString() const;

 private:
  explicit constexpr Reasons(uint64_t bits) : bits_(bits) {}
  static constexpr uint64_t bit(Reason reason) {
    return uint64_t{1} << static_cast<uint8_t>(reason);
  }

  uint64_t bits_ = 0;
};

static_assert(static_cast<int>(Reason::kCount) <= 64, "Reasons is a 64-bit set");

}  // namespace gatehouse::policy

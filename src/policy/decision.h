#pragma once

#include "policy/reason.h"

namespace gatehouse::policy {

// The outcome of evaluating a policy, combined as Pomerium combines it:
// access requires a matching allow rule and no matching deny rule; deny wins,
// and no matching allow rule means denied.
struct Decision {
  bool allow = false;  // some allow rule matched
  bool deny = false;   // some deny rule matched
  // Every reason from both sides (what logs and error pages show).
  Reasons reasons;
  // Each side's reasons, for mapping a decision to a response as Pomerium
  // does: e.g. client-certificate-required among the deny reasons gives 495,
  // user-unauthenticated on either side a sign-in redirect.
  Reasons allow_reasons;
  Reasons deny_reasons;

  // The request may proceed.
  bool allowed() const { return allow && !deny; }
};

}  // namespace gatehouse::policy

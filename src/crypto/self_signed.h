#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace gatehouse::crypto {

struct PemPair {
  std::string cert_pem;
  std::string key_pem;
};

// A fresh self-signed ECDSA P-256 certificate for `names` (DNS SANs; IP
// literals become IP SANs), valid from one hour ago for one year. Used as
// the catch-all certificate when none is configured.
Result<PemPair> generateSelfSigned(const std::vector<std::string>& names);

}  // namespace gatehouse::crypto

// invalid_client_certificate: true when the request has no trusted client
// certificate. Its data is ignored. As Pomerium decides it:
//   trusted (or no client CA configured) -> [false, {valid-client-certificate}]
//   none presented                        -> [true,  {client-certificate-required}]
//   presented, not trusted                -> [true,  {invalid-client-certificate}]
// Used under `deny`; Pomerium adds `deny: {or: [invalid_client_certificate]}`
// to every route when downstream mTLS enforcement is policy_with_default_deny.

#include "policy/criteria/criteria.h"

namespace gatehouse::policy::criteria {

namespace {

class InvalidClientCertificate final : public Criterion {
 public:
  CriterionResult evaluate(const Input& input) const override {
    const auto& certificate = input.request.client_certificate;
    if (certificate.valid) return {false, Reason::kValidClientCertificate};
    if (!certificate.presented) return {true, Reason::kClientCertificateRequired};
    return {true, Reason::kInvalidClientCertificate};
  }
};

}  // namespace

Made makeInvalidClientCertificate(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "invalid_client_certificate"); !ok) return ok.error();
  return std::unique_ptr<const Criterion>(std::make_unique<InvalidClientCertificate>());
}

}  // namespace gatehouse::policy::criteria

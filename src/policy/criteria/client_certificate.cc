// client_certificate: a certificate matcher on the client's TLS certificate:
//   fingerprint: SHA-256 of the certificate, long (AA:BB:..) or short (aabb..)
//                form, a string or a list (any may match)
//   spki_hash:   base64 SHA-256 of the SubjectPublicKeyInfo, string or list
//   san_email, san_dns, san_uri: string matchers on the Subject Alternative
//                Names; as in Pomerium each operator must hold for some SAN
// All given keys must hold; `{}` accepts any presented certificate. A request
// without a certificate never matches.
// client-certificate-ok / client-certificate-unauthorized.

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/base64.h"
#include "common/strings.h"
#include "policy/criteria/criteria.h"
#include "policy/json_describe.h"
#include "policy/string_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

bool isHex(char c, bool upper) {
  return (c >= '0' && c <= '9') || (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'));
}

// The short, lower-case form of a fingerprint in either accepted form.
std::optional<std::string> canonicalFingerprint(std::string_view text) {
  if (text.size() == 64) {
    for (char c : text) {
      if (!isHex(c, false)) return std::nullopt;
    }
    return std::string(text);
  }
  if (text.size() == 95) {  // 32 upper-case hex pairs joined by ':'
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (i % 3 == 2) {
        if (text[i] != ':') return std::nullopt;
        continue;
      }
      if (!isHex(text[i], true)) return std::nullopt;
      out += asciiLower(text[i]);
    }
    return out;
  }
  return std::nullopt;
}

// A string or a list of strings, each converted by `convert`.
template <typename Convert>
Result<std::vector<std::string>> stringList(const nlohmann::json& data, std::string_view what,
                                            Convert convert) {
  std::vector<std::string> out;
  if (!data.is_string() && !data.is_array()) {
    return Error::invalid(std::string(what) +
                          " condition expects a string or array of strings, got " +
                          describeJson(data));
  }
  auto add = [&](const nlohmann::json& value) -> Result<void> {
    if (!value.is_string()) {
      return Error::invalid(std::string(what) + " must be a string (was " + describeJson(value) +
                            ")");
    }
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) return Error::invalid(std::string(what) + " must not be empty");
    auto converted = convert(text);
    if (!converted) return converted.error();
    out.push_back(std::move(*converted));
    return {};
  };
  if (data.is_string()) {
    if (auto ok = add(data); !ok) return ok.error();
  } else {
    for (const auto& element : data) {
      if (auto ok = add(element); !ok) return ok.error();
    }
  }
  return out;
}

class ClientCertificate final : public Criterion {
 public:
  struct Conditions {
    std::vector<std::string> fingerprints;
    std::vector<std::string> spki_hashes;
    std::optional<StringMatcher> san_email;
    std::optional<StringMatcher> san_dns;
    std::optional<StringMatcher> san_uri;
  };

  explicit ClientCertificate(Conditions conditions) : c_(std::move(conditions)) {}

  CriterionResult evaluate(const Input& input) const override {
    return verdict(matches(input.request.client_certificate), Reason::kClientCertificateOk,
                   Reason::kClientCertificateUnauthorized);
  }

 private:
  bool matches(const ClientCertificateInput& cert) const {
    if (!cert.presented) return false;
    if (!c_.fingerprints.empty() && !contains(c_.fingerprints, cert.fingerprint_sha256)) {
      return false;
    }
    if (!c_.spki_hashes.empty() && !contains(c_.spki_hashes, cert.spki_sha256_base64)) {
      return false;
    }
    if (c_.san_email && !c_.san_email->matchesAnyPerOperator(cert.san_email)) return false;
    if (c_.san_dns && !c_.san_dns->matchesAnyPerOperator(cert.san_dns)) return false;
    if (c_.san_uri && !c_.san_uri->matchesAnyPerOperator(cert.san_uri)) return false;
    return true;
  }

  static bool contains(const std::vector<std::string>& list, std::string_view value) {
    for (const auto& item : list) {
      if (item == value) return true;
    }
    return false;
  }

  Conditions c_;
};

}  // namespace

Made makeClientCertificate(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "client_certificate"); !ok) return ok.error();
  if (!args.data.is_object()) {
    return Error::invalid("expected object for certificate matcher, got " +
                          describeJson(args.data));
  }
  ClientCertificate::Conditions conditions;
  for (auto entry = args.data.begin(); entry != args.data.end(); ++entry) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    if (key == "fingerprint") {
      auto list = stringList(
          value, "certificate fingerprint", [](const std::string& text) -> Result<std::string> {
            auto canonical = canonicalFingerprint(text);
            if (!canonical) {
              return Error::invalid("unsupported certificate fingerprint format (" + text + ")");
            }
            return *canonical;
          });
      if (!list) return list.error();
      conditions.fingerprints = std::move(*list);
    } else if (key == "spki_hash") {
      auto list = stringList(value, "certificate SPKI hash",
                             [](const std::string& text) -> Result<std::string> {
                               auto raw = base64Decode(text);
                               bool standard = text.find_first_of("-_") == std::string::npos;
                               if (!raw || raw->size() != 32 || !standard || text.size() != 44) {
                                 return Error::invalid(
                                     "certificate SPKI hash must be a base64-encoded SHA-256 hash "
                                     "(was " +
                                     text + ")");
                               }
                               return text;
                             });
      if (!list) return list.error();
      conditions.spki_hashes = std::move(*list);
    } else if (key == "san_email" || key == "san_dns" || key == "san_uri") {
      auto matcher = StringMatcher::compile(value);
      if (!matcher) return Error::invalid(key + ": " + matcher.error().message);
      auto& slot = key == "san_email" ? conditions.san_email
                   : key == "san_dns" ? conditions.san_dns
                                      : conditions.san_uri;
      slot = std::move(*matcher);
    } else {
      return Error::invalid("unsupported certificate matcher condition: " + key +
                            " (expected fingerprint, spki_hash, san_email, san_dns or san_uri)");
    }
  }
  return std::unique_ptr<const Criterion>(
      std::make_unique<ClientCertificate>(std::move(conditions)));
}

}  // namespace gatehouse::policy::criteria

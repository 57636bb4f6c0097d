#include "proxy/downstream_mtls.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base64.h"
#include "common/strings.h"

namespace gatehouse::proxy {
namespace {

using Verifier = net::ClientCertificateVerifier;
constexpr std::string_view kKey = "downstream_mtls";

Error invalid(std::string_view key, std::string_view message) {
  std::string text(kKey);
  if (!key.empty()) {
    text += '.';
    text += key;
  }
  text += ": ";
  text += message;
  return Error::invalid(std::move(text));
}

Result<std::string> readFile(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid(key, "cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Pomerium takes `ca` and `crl` as base64 of the PEM bundle; PEM given
// directly is accepted as well. Line breaks in the base64 are ignored.
Result<std::string> inlinePem(std::string_view key, const std::string& value) {
  if (value.find("-----BEGIN") != std::string::npos) return value;
  std::string compact;
  for (char c : value) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  }
  auto decoded = base64Decode(compact);
  if (!decoded) return invalid(key, "is neither base64 nor PEM");
  return std::move(*decoded);
}

// `ca` or `ca_file` (likewise crl): at most one of them.
Result<std::string> pemSetting(const nlohmann::json& settings, const std::string& key) {
  auto text = settings.find(key);
  auto file = settings.find(key + "_file");
  bool has_text = text != settings.end() && text->is_string() && !text->get<std::string>().empty();
  bool has_file = file != settings.end() && file->is_string() && !file->get<std::string>().empty();
  if (has_text && has_file) return invalid("", "cannot set both " + key + " and " + key + "_file");
  if (has_text) return inlinePem(key, text->get<std::string>());
  if (has_file) return readFile(key + "_file", file->get<std::string>());
  return std::string();
}

Result<Verifier::SanType> sanType(std::string_view where, const std::string& name) {
  std::string lower = toLower(name);
  if (lower == "dns") return Verifier::SanType::kDns;
  if (lower == "email") return Verifier::SanType::kEmail;
  if (lower == "uri") return Verifier::SanType::kUri;
  if (lower == "ip_address") return Verifier::SanType::kIpAddress;
  if (lower == "user_principal_name") return Verifier::SanType::kUserPrincipalName;
  return invalid(where, "unknown SAN type \"" + name +
                            "\" (expected dns, email, uri, ip_address or user_principal_name)");
}

// Pomerium's form is a list of one-entry maps ({dns: "regex"}); a single
// map of type to pattern is accepted too.
Result<std::vector<Verifier::SanMatcher>> sanMatchers(const nlohmann::json& value) {
  constexpr std::string_view kWhere = "match_subject_alt_names";
  std::vector<Verifier::SanMatcher> matchers;
  auto add = [&](std::string_view where, const std::string& type,
                 const nlohmann::json& pattern) -> Result<void> {
    auto parsed = sanType(where, type);
    if (!parsed) return parsed.error();
    if (!pattern.is_string()) return invalid(where, "the pattern must be a string");
    matchers.push_back({*parsed, pattern.get<std::string>()});
    return {};
  };
  if (value.is_object()) {
    for (const auto& [type, pattern] : value.items()) {
      if (auto r = add(kWhere, type, pattern); !r) return r.error();
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      std::string where = std::string(kWhere) + "[" + std::to_string(i) + "]";
      const nlohmann::json& entry = value[i];
      if (!entry.is_object() || entry.size() != 1) {
        return invalid(where, "expected one {type: pattern} entry");
      }
      if (auto r = add(where, entry.begin().key(), entry.begin().value()); !r) return r.error();
    }
  } else if (!value.is_null()) {
    return invalid(kWhere, "expected a list of {type: pattern} entries");
  }
  return matchers;
}

}  // namespace

Result<DownstreamMtls> DownstreamMtls::parse(std::string_view json_text) {
  DownstreamMtls result;
  if (json_text.empty()) return result;
  auto settings = nlohmann::json::parse(json_text, nullptr, false);
  if (!settings.is_object()) return invalid("", "expected a map");

  Verifier::Settings verifier_settings;
  auto ca = pemSetting(settings, "ca");
  if (!ca) return ca.error();
  auto crl = pemSetting(settings, "crl");
  if (!crl) return crl.error();
  verifier_settings.ca_pem = std::move(*ca);
  verifier_settings.crl_pem = std::move(*crl);
  if (auto e = settings.find("enforcement"); e != settings.end() && e->is_string()) {
    std::string enforcement = toLower(e->get<std::string>());
    if (enforcement == "policy") {
      verifier_settings.enforcement = Verifier::Enforcement::kPolicy;
    } else if (enforcement == "reject_connection") {
      verifier_settings.enforcement = Verifier::Enforcement::kRejectConnection;
    } else if (enforcement == "policy_with_default_deny" || enforcement.empty()) {
      verifier_settings.enforcement = Verifier::Enforcement::kPolicyWithDefaultDeny;
    } else {
      return invalid("enforcement", "\"" + enforcement +
                                        "\" is not one of policy, policy_with_default_deny, "
                                        "reject_connection");
    }
  }
  if (auto m = settings.find("match_subject_alt_names"); m != settings.end()) {
    auto matchers = sanMatchers(*m);
    if (!matchers) return matchers.error();
    verifier_settings.match_subject_alt_names = std::move(*matchers);
  }
  if (auto d = settings.find("max_verify_depth"); d != settings.end()) {
    if (!d->is_number_unsigned() || d->get<uint64_t>() > UINT32_MAX) {
      return invalid("max_verify_depth", "expected a number from 0 to 4294967295");
    }
    verifier_settings.max_verify_depth = d->get<uint32_t>();
  }
  // Without a CA there is nothing to verify against: client certificates
  // are not asked for, as in Pomerium.
  if (verifier_settings.ca_pem.empty()) return result;

  auto verifier = Verifier::create(verifier_settings);
  if (!verifier) {
    // The verifier names the setting ("ca: ...", "crl: ..."); say which
    // of the two forms it came from.
    std::string message = verifier.error().message;
    for (std::string_view key : {"ca", "crl"}) {
      std::string prefix = std::string(key) + ": ";
      bool from_file = settings.contains(std::string(key) + "_file");
      if (from_file && startsWith(message, prefix)) {
        message = std::string(key) + "_file: " + message.substr(prefix.size());
      }
    }
    return Error::invalid(std::string(kKey) + "." + message);
  }
  result.verifier = std::move(*verifier);
  result.deny_invalid_certificates =
      verifier_settings.enforcement == Verifier::Enforcement::kPolicyWithDefaultDeny;
  return result;
}

}  // namespace gatehouse::proxy

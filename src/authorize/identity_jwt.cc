#include "authorize/identity_jwt.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/strings.h"
#include "crypto/random.h"

namespace gatehouse::authorize {
namespace {

constexpr std::string_view kBaseClaims[] = {"iss",  "aud",   "jti",    "iat", "exp", "sub",
                                            "user", "email", "groups", "sid", "name"};

// A number as Go's fmt.Sprint writes a float64 (how Pomerium turns a
// numeric claim into a string): the shortest digits that round-trip, in
// exponent form ("1e+06", "1.5e-05") when the decimal exponent is below -4
// or at least 6, plain decimal otherwise.
void appendGoFloat(std::string& out, double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  if (ec != std::errc()) return;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  if (text == "inf" || text == "-inf" || text == "nan" || text == "-nan") {
    out += text == "inf" ? "+Inf" : (text == "-inf" ? "-Inf" : "NaN");
    return;
  }
  bool negative = text.front() == '-';
  if (negative) text.remove_prefix(1);
  size_t e = text.find('e');
  std::string digits;
  digits += text[0];
  if (e > 1) digits.append(text.substr(2, e - 2));  // skip "d."
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+' ? 1 : 0), text.data() + text.size(),
                  exponent);
  if (negative) out += '-';
  if (exponent < -4 || exponent >= 6) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += exponent < 0 ? '-' : '+';
    int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    out += digits;
    out.append(integer_digits - digits.size(), '0');
  } else {
    out.append(digits, 0, integer_digits);
    out += '.';
    out.append(digits, integer_digits);
  }
}

// One claim element as Pomerium's getClaimStringSlice reads it: strings as
// they are, numbers and booleans printed; null, objects and nested arrays
// are skipped (false).
bool appendScalar(std::string& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      out += value.get_ref<const std::string&>();
      return true;
    case nlohmann::json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return true;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      // Claims are protobuf ListValues in Pomerium: every number is a double.
      appendGoFloat(out, value.get<double>());
      return true;
    default:
      return false;
  }
}

// The claim's values comma-joined; false when the claim is absent.
bool appendClaimJoined(const nlohmann::json* claims, std::string_view name, std::string& out) {
  if (claims == nullptr || !claims->is_object()) return false;
  auto it = claims->find(name);
  if (it == claims->end()) return false;
  if (!it->is_array()) {
    appendScalar(out, *it);
    return true;
  }
  bool first = true;
  for (const auto& element : *it) {
    size_t mark = out.size();
    if (!first) out += ',';
    if (appendScalar(out, element)) {
      first = false;
    } else {
      out.resize(mark);
    }
  }
  return true;
}

void appendName(const Identity& identity, std::string& out) {
  if (!identity.name.empty()) {
    out += identity.name;
    return;
  }
  appendClaimJoined(identity.claims, "name", out);
}

// A JSON string literal as Go's encoding/json writes one: HTML-significant
// characters and U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
void appendGoJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '<':
        case '>':
        case '&':
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; anything malformed becomes U+FFFD.
    size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    uint32_t code_point = length == 4 ? (c & 0x07U) : length == 3 ? (c & 0x0FU) : (c & 0x1FU);
    bool valid = length != 0 && c <= 0xF4 && i + length <= s.size();
    for (size_t k = 1; valid && k < length; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      code_point = (code_point << 6) | (next & 0x3FU);
    }
    if (valid) {
      valid = !(length == 3 &&
                (code_point < 0x800 || (code_point >= 0xD800 && code_point <= 0xDFFF))) &&
              !(length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF));
    }
    if (!valid) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (code_point == 0x2028 || code_point == 0x2029) {
      out += code_point == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, length));
    }
    i += length;
  }
  out += '"';
}

void appendLengthPrefixed(std::string& out, std::string_view s) {
  auto n = static_cast<uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof(n));
  out += s;
}

}  // namespace

std::optional<IssuerFormat> parseIssuerFormat(std::string_view text) {
  if (iequals(text, "hostOnly") || iequals(text, "IssuerHostOnly")) return IssuerFormat::kHostOnly;
  if (iequals(text, "uri") || iequals(text, "IssuerURI")) return IssuerFormat::kUri;
  return std::nullopt;
}

std::string_view issuerFormatName(IssuerFormat format) {
  return format == IssuerFormat::kUri ? "uri" : "hostOnly";
}

std::string issuerFor(IssuerFormat format, std::string_view host) {
  if (format == IssuerFormat::kUri) {
    std::string uri = "https://";
    uri += host;
    uri += '/';
    return uri;
  }
  return std::string(host);
}

bool isBaseClaim(std::string_view claim) {
  return std::find(std::begin(kBaseClaims), std::end(kBaseClaims), claim) != std::end(kBaseClaims);
}

bool IdentityClaims::appendHeaderValue(std::string_view claim, std::string& out) const {
  if (claim == "iss") {
    out += stamp_.issuer;
  } else if (claim == "aud") {
    out += stamp_.audience;
  } else if (claim == "jti") {
    out += stamp_.jti;
  } else if (claim == "iat") {
    out += std::to_string(stamp_.issued_at);
  } else if (claim == "exp") {
    out += std::to_string(stamp_.expires_at);
  } else if (claim == "sub" || claim == "user") {
    out += identity_.user_id;
  } else if (claim == "email") {
    out += identity_.email;
  } else if (claim == "groups") {
    for (size_t i = 0; i < identity_.groups.size(); ++i) {
      if (i > 0) out += ',';
      out += identity_.groups[i];
    }
  } else if (claim == "sid") {
    out += identity_.session_id;
  } else if (claim == "name") {
    appendName(identity_, out);
  } else if (std::find(extra_claims_.begin(), extra_claims_.end(), claim) != extra_claims_.end()) {
    return appendClaimJoined(identity_.claims, claim, out);
  } else {
    return false;
  }
  return true;
}

std::string IdentityClaims::payloadJson() const {
  std::vector<std::pair<std::string_view, std::string>> members;
  members.reserve(std::size(kBaseClaims) + extra_claims_.size());
  auto add_string = [&](std::string_view key, std::string_view value) {
    std::string json;
    appendGoJsonString(json, value);
    members.emplace_back(key, std::move(json));
  };
  add_string("iss", stamp_.issuer);
  add_string("aud", stamp_.audience);
  add_string("jti", stamp_.jti);
  members.emplace_back("iat", std::to_string(stamp_.issued_at));
  members.emplace_back("exp", std::to_string(stamp_.expires_at));
  add_string("sub", identity_.user_id);
  add_string("user", identity_.user_id);
  add_string("email", identity_.email);
  std::string groups = "[";
  for (size_t i = 0; i < identity_.groups.size(); ++i) {
    if (i > 0) groups += ',';
    appendGoJsonString(groups, identity_.groups[i]);
  }
  groups += ']';
  members.emplace_back("groups", std::move(groups));
  add_string("sid", identity_.session_id);
  std::string name;
  appendName(identity_, name);
  add_string("name", name);
  for (const auto& claim : extra_claims_) {
    std::string value;
    if (appendClaimJoined(identity_.claims, claim, value)) add_string(claim, value);
  }
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string json = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) json += ',';
    appendGoJsonString(json, members[i].first);
    json += ':';
    json += members[i].second;
  }
  json += '}';
  return json;
}

IdentityJwt::IdentityJwt(std::shared_ptr<const crypto::SigningKey> signing_key,
                         std::span<const std::string> claim_names)
    : signing_key_(std::move(signing_key)) {
  for (const auto& claim : claim_names) {
    if (isBaseClaim(claim)) continue;
    if (std::find(extra_claims_.begin(), extra_claims_.end(), claim) != extra_claims_.end()) {
      continue;
    }
    extra_claims_.push_back(claim);
  }
  appendLengthPrefixed(config_key_, signing_key_->current().keyId());
  for (const auto& claim : extra_claims_) appendLengthPrefixed(config_key_, claim);
}

Result<IdentityJwt::Minted> IdentityJwt::mint(const Identity& identity, std::string_view host,
                                              IssuerFormat format,
                                              std::chrono::system_clock::time_point now) const {
  Minted minted;
  minted.jti = randomUuid();
  minted.issued_at =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  minted.expires_at = minted.issued_at + kLifetime.count();
  std::string issuer = issuerFor(format, host);
  IdentityClaims claims(identity,
                        {.issuer = issuer,
                         .audience = host,
                         .jti = minted.jti,
                         .issued_at = minted.issued_at,
                         .expires_at = minted.expires_at},
                        extra_claims_);
  auto token = signing_key_->sign(claims.payloadJson());
  if (!token) return token.error();
  minted.token = std::move(*token);
  return minted;
}

void IdentityJwt::appendFingerprint(const Identity& identity, std::string& out) const {
  appendLengthPrefixed(out, identity.user_id);
  appendLengthPrefixed(out, identity.email);
  appendLengthPrefixed(out, identity.name);
  if (identity.name.empty()) {
    // The name then comes from the claims.
    size_t mark = out.size();
    out.append(sizeof(uint32_t), '\0');
    bool present = appendClaimJoined(identity.claims, "name", out);
    auto n = static_cast<uint32_t>(out.size() - mark - sizeof(uint32_t));
    std::copy_n(reinterpret_cast<const char*>(&n), sizeof(n),
                out.begin() + static_cast<long>(mark));
    out += present ? '\1' : '\0';
  }
  auto count = static_cast<uint32_t>(identity.groups.size());
  out.append(reinterpret_cast<const char*>(&count), sizeof(count));
  for (const auto& group : identity.groups) appendLengthPrefixed(out, group);
  for (const auto& claim : extra_claims_) {
    size_t mark = out.size();
    out.append(sizeof(uint32_t), '\0');
    bool present = appendClaimJoined(identity.claims, claim, out);
    auto n = static_cast<uint32_t>(out.size() - mark - sizeof(uint32_t));
    std::copy_n(reinterpret_cast<const char*>(&n), sizeof(n),
                out.begin() + static_cast<long>(mark));
    out += present ? '\1' : '\0';
  }
}

std::string randomUuid() {
  std::string bytes = crypto::randomBytes(16);
  bytes[6] = static_cast<char>((static_cast<unsigned char>(bytes[6]) & 0x0FU) | 0x40U);
  bytes[8] = static_cast<char>((static_cast<unsigned char>(bytes[8]) & 0x3FU) | 0x80U);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string uuid;
  uuid.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
    auto b = static_cast<unsigned char>(bytes[i]);
    uuid += kHex[b >> 4];
    uuid += kHex[b & 0xF];
  }
  return uuid;
}

}  // namespace gatehouse::authorize

#include "authorize/claim_headers.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace gatehouse::authorize {
namespace {

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isSeparator(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// A JSON scalar as Go's fmt.Sprint prints the value it decodes to.
std::string scalarText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

std::string ClaimHeaders::canonicalHeaderName(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
    return std::string(name);
  }
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 32);
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + 32);
    }
    upper = c == '-';
  }
  return out;
}

std::string ClaimHeaders::defaultHeaderName(std::string_view claim) {
  std::string name = "x-pomerium-claim-";
  name += claim;
  return canonicalHeaderName(name);
}

ClaimHeaders::ClaimHeaders(std::vector<std::pair<std::string, std::string>> header_to_claim) {
  for (auto& [header, claim] : header_to_claim) {
    if (header.empty() || claim.empty()) continue;
    std::string canonical = canonicalHeaderName(header);
    auto existing = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& entry) {
      return iequals(entry.header, canonical);
    });
    if (existing != entries_.end()) {
      existing->claim = std::move(claim);
    } else {
      entries_.push_back({std::move(canonical), std::move(claim)});
    }
  }
}

ClaimHeaders ClaimHeaders::fromClaims(std::span<const std::string> claims) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(claims.size());
  for (const auto& claim : claims) pairs.emplace_back(defaultHeaderName(claim), claim);
  return ClaimHeaders(std::move(pairs));
}

Result<ClaimHeaders> ClaimHeaders::parse(std::string_view text) {
  std::string_view trimmed = trim(text);
  if (!trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[')) {
    auto json = nlohmann::json::parse(trimmed, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return Error::invalid("jwt_claims_headers: neither a map, a list nor a string of claims");
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    if (json.is_object()) {
      for (auto it = json.begin(); it != json.end(); ++it) {
        if (it->is_structured()) {
          return Error::invalid("jwt_claims_headers." + it.key() + ": must be a claim name");
        }
        pairs.emplace_back(it.key(), scalarText(*it));
      }
      return ClaimHeaders(std::move(pairs));
    }
    std::vector<std::string> claims;
    for (const auto& element : json) {
      if (element.is_structured()) {
        return Error::invalid("jwt_claims_headers: list entries must be claim names");
      }
      claims.push_back(scalarText(element));
    }
    return fromClaims(claims);
  }
  // Pomerium splits the string form on commas and any white space.
  std::vector<std::string> claims;
  size_t i = 0;
  while (i < trimmed.size()) {
    while (i < trimmed.size() && isSeparator(trimmed[i])) ++i;
    size_t start = i;
    while (i < trimmed.size() && !isSeparator(trimmed[i])) ++i;
    if (i > start) claims.emplace_back(trimmed.substr(start, i - start));
  }
  return fromClaims(claims);
}

std::vector<std::string> ClaimHeaders::claimNames() const {
  std::vector<std::string> names;
  for (const auto& entry : entries_) {
    if (std::find(names.begin(), names.end(), entry.claim) == names.end()) {
      names.push_back(entry.claim);
    }
  }
  return names;
}

void ClaimHeaders::render(const IdentityClaims& claims, OutputHeaders& out) const {
  for (const auto& entry : entries_) claims.appendHeaderValue(entry.claim, out.add(entry.header));
}

}  // namespace gatehouse::authorize

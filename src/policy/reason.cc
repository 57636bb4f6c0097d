#include "policy/reason.h"

#include <algorithm>
#include <array>

namespace gatehouse::policy {

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Reason::kCount)> kNames = {
    "accept",
    "reject",
    "user-ok",
    "user-unauthorized",
    "user-unauthenticated",
    "email-ok",
    "email-unauthorized",
    "domain-ok",
    "domain-unauthorized",
    "claim-ok",
    "claim-unauthorized",
    "groups-ok",
    "groups-unauthorized",
    "http-method-ok",
    "http-method-unauthorized",
    "http-path-ok",
    "http-path-unauthorized",
    "source-ip-ok",
    "source-ip-unauthorized",
    "cors-request",
    "non-cors-request",
    "client-certificate-ok",
    "client-certificate-unauthorized",
    "client-certificate-required",
    "invalid-client-certificate",
    "valid-client-certificate",
    "date-ok",
    "date-unauthorized",
    "day-of-week-ok",
    "day-of-week-unauthorized",
    "time-of-day-ok",
    "time-of-day-unauthorized",
    "route-not-found",
};

}  // namespace

std::string_view toString(Reason reason) {
  auto index = static_cast<size_t>(reason);
  return index < kNames.size() ? kNames[index] : std::string_view();
}

std::vector<std::string_view> Reasons::strings() const {
  std::vector<std::string_view> out;
  out.reserve(size());
  forEach([&](Reason reason) { out.push_back(policy::toString(reason)); });
  std::sort(out.begin(), out.end());
  return out;
}

std::string Reasons::toString() const {
  std::string out;
  for (std::string_view name : strings()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace gatehouse::policy

// source_ip: an IP address or CIDR range, or a list of them; true when the
// request's source address is in any (OPA's net.cidr_contains_matches).
// A request without a known source address never matches.
// source-ip-ok / source-ip-unauthorized.

#include <nlohmann/json.hpp>
#include <vector>

#include "policy/criteria/criteria.h"
#include "policy/ip_address.h"
#include "policy/json_describe.h"

namespace gatehouse::policy::criteria {

namespace {

class SourceIp final : public Criterion {
 public:
  explicit SourceIp(std::vector<IpRange> ranges) : ranges_(std::move(ranges)) {}
  CriterionResult evaluate(const Input& input) const override {
    bool matched = false;
    if (const auto& ip = input.request.source_ip.get()) {
      for (const IpRange& range : ranges_) {
        if (range.contains(*ip)) {
          matched = true;
          break;
        }
      }
    }
    return verdict(matched, Reason::kSourceIpOk, Reason::kSourceIpUnauthorized);
  }

 private:
  std::vector<IpRange> ranges_;
};

Result<IpRange> parseRange(const nlohmann::json& value) {
  if (!value.is_string())
    return Error::invalid("expected string value, got " + describeJson(value));
  const auto& text = value.get_ref<const std::string&>();
  auto range = IpRange::parse(text);
  if (!range) return Error::invalid("expected IP or CIDR range, got: \"" + text + "\"");
  return *range;
}

}  // namespace

Made makeSourceIp(const CriterionArgs& args) {
  if (auto ok = requireNoSubPath(args, "source_ip"); !ok) return ok.error();
  std::vector<IpRange> ranges;
  if (args.data.is_array()) {
    for (const auto& element : args.data) {
      auto range = parseRange(element);
      if (!range) return range.error();
      ranges.push_back(*range);
    }
  } else if (args.data.is_string()) {
    auto range = parseRange(args.data);
    if (!range) return range.error();
    ranges.push_back(*range);
  } else {
    return Error::invalid("expected string or array of strings, got " + describeJson(args.data));
  }
  return std::unique_ptr<const Criterion>(std::make_unique<SourceIp>(std::move(ranges)));
}

}  // namespace gatehouse::policy::criteria

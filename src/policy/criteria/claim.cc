// claim/<path>: a string list matcher on an identity provider claim.
// claim-ok / claim-unauthorized / user-unauthenticated.
//
// The path is looked up as Pomerium's object_get does: first as one key
// ("example.com/role" may be a claim name of its own), then, split at every
// '/' and '.', as up to five nested keys ("address/country"). Pomerium keeps
// every claim as a list, so a nested lookup may step through a list holding
// one object; plain JSON objects work as well.

#include <nlohmann/json.hpp>
#include <vector>

#include "policy/criteria/criteria.h"
#include "policy/string_list_matcher.h"

namespace gatehouse::policy::criteria {

namespace {

constexpr size_t kMaxSegments = 5;

const nlohmann::json* member(const nlohmann::json* object, const std::string& key) {
  if (object == nullptr) return nullptr;
  // A claim stored the Pomerium way: a list wrapping one object.
  if (object->is_array() && object->size() == 1) object = &(*object)[0];
  if (!object->is_object()) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

class Claim final : public Criterion {
 public:
  bool readsSessionOnly() const override { return true; }
  Claim(std::string path, std::vector<std::string> segments, StringListMatcher matcher)
      : path_(std::move(path)), segments_(std::move(segments)), matcher_(std::move(matcher)) {}

  CriterionResult evaluate(const Input& input) const override {
    if (!input.session.authenticated) return {false, Reason::kUserUnauthenticated};
    return verdict(matcher_.matches(lookup(input.session.claims)), Reason::kClaimOk,
                   Reason::kClaimUnauthorized);
  }

 private:
  const nlohmann::json* lookup(const nlohmann::json* claims) const {
    if (claims == nullptr || !claims->is_object()) return nullptr;
    if (auto it = claims->find(path_); it != claims->end()) return &*it;
    if (segments_.size() < 2) return nullptr;
    const nlohmann::json* value = claims;
    for (const std::string& segment : segments_) {
      value = member(value, segment);
      if (value == nullptr) return nullptr;
    }
    return value;
  }

  std::string path_;
  std::vector<std::string> segments_;  // empty when the path has more than five
  StringListMatcher matcher_;
};

}  // namespace

Made makeClaim(const CriterionArgs& args) {
  if (args.sub_path.empty()) {
    return Error::invalid("criterion \"claim\" needs the claim's name: claim/<name>");
  }
  std::vector<std::string> segments;
  size_t start = 0;
  std::string_view path = args.sub_path;
  while (true) {
    size_t end = path.find_first_of("/.", start);
    segments.emplace_back(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (segments.size() > kMaxSegments) segments.clear();
  auto matcher = StringListMatcher::compile(args.data);
  if (!matcher) return matcher.error();
  return std::unique_ptr<const Criterion>(
      std::make_unique<Claim>(std::string(path), std::move(segments), std::move(*matcher)));
}

}  // namespace gatehouse::policy::criteria

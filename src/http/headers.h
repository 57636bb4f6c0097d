#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::http {

struct Field {
  std::string name;
  std::string value;
};

// An ordered list of header fields with case-insensitive lookup. Small (a
// typical request has a dozen fields), so a vector beats any map here.
class Headers {
 public:
  void add(std::string_view name, std::string_view value) {
    fields_.push_back(Field{std::string(name), std::string(value)});
  }
  // Replaces every field named `name` with one field.
  void set(std::string_view name, std::string_view value);
  // Removes every field named `name`; returns how many.
  size_t remove(std::string_view name);
  // The first value, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // True if a comma-separated header `name` lists `token` (case-insensitive).
  bool hasToken(std::string_view name, std::string_view token) const;

  template <typename Pred>
  size_t removeIf(Pred pred) {
    size_t before = fields_.size();
    std::erase_if(fields_, pred);
    return before - fields_.size();
  }

  const std::vector<Field>& fields() const { return fields_; }
  std::vector<Field>& fields() { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  void reserve(size_t n) { fields_.reserve(n); }

 private:
  std::vector<Field> fields_;
};

// Hop-by-hop fields (RFC 9110 section 7.6.1) that a proxy must not forward.
bool isHopByHop(std::string_view name);

const char* statusReason(int status);

}  // namespace gatehouse::http

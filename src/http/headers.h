#pragma once

#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace gatehouse::http {

struct Field {
  std::string name;
  std::string value;
};

// An ordered list of header fields with case-insensitive lookup. Small (a
// typical request has a dozen fields), so a vector beats any map here.
//
// Fields that are cleared or removed keep their strings for the next ones
// added: a head object that serves one message after another (a
// connection's request head, a pooled upstream request head) stops
// allocating once it has seen the longest names and values.
class Headers {
 public:
  Headers() = default;
  Headers(const Headers& other) { *this = other; }
  Headers& operator=(const Headers& other) {
    if (this != &other) {
      clear();
      for (const auto& f : other.fields()) add(f.name, f.value);
    }
    return *this;
  }
  // A moved-from list is empty (and usable).
  Headers(Headers&& other) noexcept
      : fields_(std::move(other.fields_)), size_(std::exchange(other.size_, 0)) {
    other.fields_.clear();
  }
  Headers& operator=(Headers&& other) noexcept {
    if (this != &other) {
      fields_ = std::move(other.fields_);
      size_ = std::exchange(other.size_, 0);
      other.fields_.clear();
    }
    return *this;
  }

  void add(std::string_view name, std::string_view value) {
    if (size_ < fields_.size()) {
      Field& f = fields_[size_];
      assignKept(f.name, name);
      assignKept(f.value, value);
    } else {
      fields_.push_back(Field{std::string(name), std::string(value)});
    }
    ++size_;
  }
  // Adds `name` with an empty value to fill in (in a kept string's storage).
  std::string& add(std::string_view name) {
    add(name, {});
    return fields_[size_ - 1].value;
  }
  // Removes the last field.
  void removeLast() { --size_; }
  // Adds a field before all the others.
  void addFirst(std::string_view name, std::string_view value);
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

  // Removes the fields `pred` holds for, keeping the order of the others.
  template <typename Pred>
  size_t removeIf(Pred pred) {
    size_t kept = 0;
    for (size_t i = 0; i < size_; ++i) {
      if (pred(static_cast<const Field&>(fields_[i]))) continue;
      if (kept != i) std::swap(fields_[kept], fields_[i]);
      ++kept;
    }
    size_t removed = size_ - kept;
    size_ = kept;
    return removed;
  }

  std::span<const Field> fields() const { return {fields_.data(), size_}; }
  std::span<Field> fields() { return {fields_.data(), size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  void reserve(size_t n) { fields_.reserve(n); }
  // The heap memory the list holds, spare fields included.
  size_t retainedBytes() const;

 private:
  // fields_[0, size_) are the fields; the rest are kept for their storage.
  std::vector<Field> fields_;
  size_t size_ = 0;
};

// Hop-by-hop fields (RFC 9110 section 7.6.1) that a proxy must not forward.
// Inline: it runs for every field in both directions, and most names are
// settled by their length alone.
inline bool isHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return iequals(name, "te");
    case 7:
      return iequals(name, "trailer") || iequals(name, "upgrade");
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16:
      return iequals(name, "proxy-connection");
    case 17:
      return iequals(name, "transfer-encoding");
    case 18:
      return iequals(name, "proxy-authenticate");
    case 19:
      return iequals(name, "proxy-authorization");
    default:
      return false;
  }
}

const char* statusReason(int status);

}  // namespace gatehouse::http

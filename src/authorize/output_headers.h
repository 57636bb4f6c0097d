#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace gatehouse::authorize {

// Request headers authorize asks the proxy to set on the upstream request,
// in order. Each one replaces any header of the same name (compared
// case-insensitively) that the request already carries, as Envoy's
// OVERWRITE_IF_EXISTS_OR_ADD does for Pomerium's ext_authz response.
// Independent of src/http on purpose: authorize does not depend on it.
//
// A list that is cleared keeps its entries' strings for the next ones
// added: a worker hands the same list to one decision after another, and
// the identity JWT, the claim values and the long header names stop
// allocating once they have been seen.
class OutputHeaders {
 public:
  using value_type = std::pair<std::string, std::string>;

  OutputHeaders() = default;
  OutputHeaders(std::initializer_list<value_type> entries)
      : entries_(entries), size_(entries_.size()) {}
  OutputHeaders(const OutputHeaders& other) { *this = other; }
  OutputHeaders& operator=(const OutputHeaders& other) {
    if (this != &other) {
      clear();
      for (const auto& [name, value] : other) emplace_back(name, value);
    }
    return *this;
  }
  // A moved-from list is empty (and usable).
  OutputHeaders(OutputHeaders&& other) noexcept
      : entries_(std::move(other.entries_)), size_(std::exchange(other.size_, 0)) {
    other.entries_.clear();
  }
  OutputHeaders& operator=(OutputHeaders&& other) noexcept {
    if (this != &other) {
      entries_ = std::move(other.entries_);
      size_ = std::exchange(other.size_, 0);
      other.entries_.clear();
    }
    return *this;
  }

  // Appends `name` with an empty value to fill in.
  std::string& add(std::string_view name) {
    if (size_ < entries_.size()) {
      value_type& entry = entries_[size_++];
      assignKept(entry.first, name);
      entry.second.clear();
      return entry.second;
    }
    entries_.emplace_back(std::string(name), std::string());
    ++size_;
    return entries_.back().second;
  }
  void emplace_back(std::string_view name, std::string_view value) {
    if (size_ < entries_.size()) {
      value_type& entry = entries_[size_++];
      assignKept(entry.first, name);
      assignKept(entry.second, value);
      return;
    }
    entries_.emplace_back(std::string(name), std::string(value));
    ++size_;
  }

  void clear() { size_ = 0; }
  // Heap bytes held, past entries included (strings past the small-string
  // buffer, and the entries themselves).
  size_t retainedBytes() const {
    size_t bytes = entries_.capacity() * sizeof(value_type);
    for (const auto& [name, value] : entries_) bytes += heapBytes(name) + heapBytes(value);
    return bytes;
  }
  void reserve(size_t n) { entries_.reserve(n); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const value_type& operator[](size_t i) const { return entries_[i]; }
  const value_type* data() const { return entries_.data(); }
  const value_type* begin() const { return entries_.data(); }
  const value_type* end() const { return entries_.data() + size_; }

  friend bool operator==(const OutputHeaders& a, const OutputHeaders& b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i) {
      if (a.entries_[i] != b.entries_[i]) return false;
    }
    return true;
  }

 private:
  std::vector<value_type> entries_;
  size_t size_ = 0;  // entries_ past it keep their strings for reuse
};

}  // namespace gatehouse::authorize

#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gatehouse {

// Where an error came from: the three questions a proxy asks of every
// failure are whose fault it is, what kind it is, and whether a retry is safe.
enum class ErrorSource {
  kDownstream,  // the client sent something wrong
  kUpstream,    // the application behind a route failed
  kInternal,    // Gatehouse itself, its configuration or environment
};

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kUnavailable,
  kTimeout,
  kProtocol,
  kTooLarge,
  kClosed,
  kInternal,
  kAborted,          // a precondition of the caller's state no longer holds; start over
  kUnauthenticated,  // the caller's credentials are missing or wrong
  kAlreadyExists,    // the thing asked for is held by someone else
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  ErrorSource source = ErrorSource::kInternal;
  std::string message;
  bool retryable = false;

  static Error invalid(std::string message) {
    return {ErrorCode::kInvalidArgument, ErrorSource::kInternal, std::move(message), false};
  }
  static Error internal(std::string message) {
    return {ErrorCode::kInternal, ErrorSource::kInternal, std::move(message), false};
  }
};

// Result<T> is the value-or-error type at module boundaries (std::expected is
// not in the C++20 library we build with).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace gatehouse

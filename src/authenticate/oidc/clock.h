#pragma once

#include <chrono>
#include <functional>

namespace gatehouse::authenticate::oidc {

// The two clocks the relying party reads, injectable for tests. Both
// functions must be safe to call from any thread.
struct Clock {
  // Wall time: checks of "exp", "nbf" and "iat", and token expiry.
  std::function<std::chrono::system_clock::time_point()> now;
  // Monotonic time: JWKS refetch rate limit and discovery backoff, which
  // must not jump with the wall clock.
  std::function<std::chrono::steady_clock::time_point()> monotonic;

  static Clock system() {
    return Clock{[] { return std::chrono::system_clock::now(); },
                 [] { return std::chrono::steady_clock::now(); }};
  }
};

}  // namespace gatehouse::authenticate::oidc

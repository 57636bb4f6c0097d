#pragma once

// A per-worker cache of signed identity JWTs.
//
// Pomerium signs a new X-Pomerium-Jwt-Assertion for every request (an ECDSA
// signature each time, its largest per-request cost after TLS). Gatehouse
// signs one per (session id, session version, request host, issuer format,
// minter configuration) and hands the same token to every request in that
// key until its remaining life falls below `refresh_before_expiry` (60 s of
// the 5 minutes by default); then it signs a new one.
//
// A deliberate difference from Pomerium follows: requests within that window
// share one `jti` and one `iat`, where Pomerium's are per request. Upstreams
// verify the signature, `aud`, `iss` and `exp`, which are unchanged; one that
// used `jti` to refuse replays of the assertion would refuse the second
// request of a session (the assertion is a statement about the user for the
// upstream, not a one-time credential, and no known SDK does this).
//
// A hit also requires the identity content the payload is made of (user
// id, email, name, groups, configured claims) to equal the cached token's,
// so a changed user record under an unchanged session version re-signs.
// An identity read from the same session view (Identity::view) as the one
// last compared is equal without comparing.
//
// Headers made from a token (the claim headers, whose values are the
// token's claims) can be kept with it: derived() renders them once per
// token and renderer, and hands out the kept list after that.
//
// Not thread-safe: one cache per worker thread, owned by the worker (no
// locks on the request path). Bounded: at most `capacity` tokens; when full,
// a CLOCK sweep evicts one that was not used since the last sweep.
// A hit does not allocate.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "authorize/identity.h"
#include "authorize/identity_jwt.h"
#include "authorize/output_headers.h"
#include "common/result.h"

namespace gatehouse::authorize {

class JwtCache {
 public:
  struct Options {
    size_t capacity = 10000;
    // A token with less than this left to live is not handed out again.
    std::chrono::seconds refresh_before_expiry{60};
  };

  // A token and the stamp it was signed with. The views stay valid until
  // the next call of get() or clear() on this cache.
  struct Token {
    std::string_view jwt;
    std::string_view jti;
    int64_t issued_at = 0;
    int64_t expires_at = 0;
    size_t slot = 0;  // where the cache keeps it (for derived())
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;     // signed because there was no usable token
    uint64_t evictions = 0;  // tokens dropped to make room
  };

  JwtCache() : JwtCache(Options{}) {}
  explicit JwtCache(Options options);
  JwtCache(const JwtCache&) = delete;
  JwtCache& operator=(const JwtCache&) = delete;

  // The identity JWT for `identity` on a request to `host`: the cached one
  // when it is usable, else one newly signed by `minter`, which replaces it.
  // Fails only when signing fails (nothing is cached then).
  Result<Token> get(const IdentityJwt& minter, const Identity& identity, std::string_view host,
                    IssuerFormat format, std::chrono::system_clock::time_point now);

  // The headers kept with `token` (from the last get()) for `renderer`, a
  // number that names one way of making them (an Engine's id; never 0).
  // They are made by render(list), into an empty list, the first time a
  // token is asked for with a renderer, and again when the token was signed
  // anew or the renderer differs from the last one's. Valid as the token is.
  template <class Render>
  const OutputHeaders& derived(const Token& token, uint64_t renderer, Render&& render) {
    Slot& slot = slots_[token.slot];
    if (slot.derived_by != renderer) {
      slot.derived.clear();
      render(slot.derived);
      slot.derived_by = renderer;
    }
    return slot.derived;
  }

  size_t size() const { return index_.size(); }
  const Stats& stats() const { return stats_; }
  void clear();

 private:
  struct Slot {
    std::string key;  // index_ holds views into it
    uint64_t session_version = 0;
    std::string fingerprint;
    // The view the fingerprint was last found equal for (0: none).
    uint64_t view = 0;
    std::string jwt;
    std::string jti;
    int64_t issued_at = 0;
    int64_t expires_at = 0;
    bool referenced = false;
    uint64_t derived_by = 0;  // the renderer of `derived`; 0: none
    OutputHeaders derived;
  };

  size_t takeSlot();
  Token tokenOf(size_t slot_index) const {
    const Slot& slot = slots_[slot_index];
    return {slot.jwt, slot.jti, slot.issued_at, slot.expires_at, slot_index};
  }

  Options options_;
  // A deque so that slots (and the keys index_ points into) never move.
  std::deque<Slot> slots_;
  std::unordered_map<std::string_view, size_t> index_;
  size_t clock_hand_ = 0;
  // Reused for every lookup, so that a hit does not allocate.
  std::string scratch_key_;
  std::string scratch_fingerprint_;
  Stats stats_;
};

}  // namespace gatehouse::authorize

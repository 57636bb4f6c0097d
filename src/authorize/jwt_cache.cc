#include "authorize/jwt_cache.h"

#include <utility>

namespace gatehouse::authorize {

JwtCache::JwtCache(Options options) : options_(options) {
  if (options_.capacity == 0) options_.capacity = 1;
  index_.reserve(options_.capacity);
}

void JwtCache::clear() {
  index_.clear();
  slots_.clear();
  clock_hand_ = 0;
}

size_t JwtCache::takeSlot() {
  if (slots_.size() < options_.capacity) {
    slots_.emplace_back();
    return slots_.size() - 1;
  }
  // CLOCK: give every recently used token a second chance; at most two
  // turns of the hand find one that was not used since it last passed.
  for (;;) {
    Slot& slot = slots_[clock_hand_];
    size_t victim = clock_hand_;
    clock_hand_ = (clock_hand_ + 1) % slots_.size();
    if (slot.referenced) {
      slot.referenced = false;
      continue;
    }
    index_.erase(slot.key);
    ++stats_.evictions;
    return victim;
  }
}

Result<JwtCache::Token> JwtCache::get(const IdentityJwt& minter, const Identity& identity,
                                      std::string_view host, IssuerFormat format,
                                      std::chrono::system_clock::time_point now) {
  scratch_key_.clear();
  scratch_key_ += identity.session_id;
  scratch_key_ += '\0';
  scratch_key_ += host;
  scratch_key_ += '\0';
  scratch_key_ += static_cast<char>(format);
  scratch_key_ += minter.configKey();
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  // The fingerprint is made only when it is needed: not for an identity
  // read from the view the slot's was last found equal for.
  bool fingerprinted = false;
  auto fingerprint = [&] {
    if (!fingerprinted) {
      scratch_fingerprint_.clear();
      minter.appendFingerprint(identity, scratch_fingerprint_);
      fingerprinted = true;
    }
  };
  size_t slot_index;
  if (auto it = index_.find(scratch_key_); it != index_.end()) {
    slot_index = it->second;
    Slot& slot = slots_[slot_index];
    bool same_content = identity.view != 0 && identity.view == slot.view;
    if (!same_content) {
      fingerprint();
      same_content = slot.fingerprint == scratch_fingerprint_;
      if (same_content) slot.view = identity.view;
    }
    // A clock that went back would make iat lie in the future.
    if (slot.session_version == identity.session_version && same_content &&
        now_seconds >= slot.issued_at &&
        now_seconds + options_.refresh_before_expiry.count() < slot.expires_at) {
      slot.referenced = true;
      ++stats_.hits;
      return tokenOf(slot_index);
    }
  } else {
    slot_index = slots_.size();  // none yet
  }
  fingerprint();

  ++stats_.misses;
  auto minted = minter.mint(identity, host, format, now);
  if (!minted) return minted.error();
  if (slot_index == slots_.size()) {
    slot_index = takeSlot();
    Slot& slot = slots_[slot_index];
    slot.key = scratch_key_;
    index_.emplace(slot.key, slot_index);
  }
  Slot& slot = slots_[slot_index];
  slot.session_version = identity.session_version;
  slot.fingerprint = scratch_fingerprint_;
  slot.view = identity.view;
  slot.jwt = std::move(minted->token);
  slot.jti = std::move(minted->jti);
  slot.issued_at = minted->issued_at;
  slot.expires_at = minted->expires_at;
  slot.referenced = true;
  slot.derived_by = 0;
  return tokenOf(slot_index);
}

}  // namespace gatehouse::authorize

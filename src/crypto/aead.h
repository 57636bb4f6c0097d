#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto {

enum class AeadAlgorithm {
  // XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha): 24-byte nonces, random
  // nonces are safe for any number of messages. What Pomerium uses for every
  // value it encrypts with `shared_secret` or `cookie_secret`.
  kXChaCha20Poly1305,
  // AES-256-GCM with 12-byte random nonces: at most 2^32 messages per key.
  kAes256Gcm,
};

// HChaCha20 (draft-irtf-cfrg-xchacha section 2.2): derives a ChaCha20 subkey
// from a key and the first 16 bytes of an XChaCha20 nonce. Exposed for its
// test vectors; use Aead.
std::array<uint8_t, 32> hChaCha20(const std::array<uint8_t, 32>& key,
                                  const std::array<uint8_t, 16>& nonce);

// An authenticated cipher with a 32-byte key. Immutable after create(), so
// one instance may be used from any number of threads at once.
//
// The sealed layout is Pomerium's (`pkg/cryptutil/encrypt.go`):
//   ciphertext || 16-byte tag || nonce (24 bytes for XChaCha20, 12 for GCM)
// and Pomerium's base64 text form is base64url with padding.
class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kTagSize = 16;

  static Result<Aead> create(AeadAlgorithm algorithm, std::string_view key);

  Aead(const Aead& other) = default;
  Aead& operator=(const Aead& other) = default;
  ~Aead();

  AeadAlgorithm algorithm() const { return algorithm_; }
  size_t nonceSize() const;

  // Encrypts under a fresh random nonce; `additional_data` is authenticated,
  // not encrypted, and must be given again to open(). Fails only for inputs
  // over 2 GiB.
  Result<std::string> seal(std::string_view plaintext, std::string_view additional_data = {}) const;
  // Decrypts the output of seal(). Any change to the sealed bytes or the
  // additional data, or a different key, is kUnauthenticated.
  Result<std::string> open(std::string_view sealed, std::string_view additional_data = {}) const;

  // seal() and open() in Pomerium's text form, base64url with padding (Go's
  // base64.URLEncoding). openBase64Url() also takes the text without padding.
  Result<std::string> sealBase64Url(std::string_view plaintext,
                                    std::string_view additional_data = {}) const;
  Result<std::string> openBase64Url(std::string_view text,
                                    std::string_view additional_data = {}) const;

  // The AEAD itself with a caller-chosen nonce: returns ciphertext || tag, no
  // nonce. For test vectors and protocols that carry the nonce elsewhere; a
  // nonce must never be used twice with one key.
  Result<std::string> sealWithNonce(std::string_view nonce, std::string_view plaintext,
                                    std::string_view additional_data) const;
  Result<std::string> openWithNonce(std::string_view nonce, std::string_view ciphertext_and_tag,
                                    std::string_view additional_data) const;

 private:
  Aead(AeadAlgorithm algorithm, std::string_view key);

  AeadAlgorithm algorithm_;
  std::array<uint8_t, kKeySize> key_{};
};

}  // namespace gatehouse::crypto

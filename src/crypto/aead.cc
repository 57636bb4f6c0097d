#include "crypto/aead.h"

#include <openssl/crypto.h>

#include <climits>
#include <cstring>

#include "common/base64.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace gatehouse::crypto {
namespace {

using detail::bytesOf;

constexpr size_t kXChaChaNonceSize = 24;
constexpr size_t kHChaChaNonceSize = 16;
constexpr size_t kChaChaNonceSize = 12;
constexpr size_t kGcmNonceSize = 12;

uint32_t loadLittleEndian(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

void storeLittleEndian(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

constexpr uint32_t rotateLeft(uint32_t v, int bits) { return (v << bits) | (v >> (32 - bits)); }

// The ChaCha quarter round (RFC 8439 section 2.1).
void quarterRound(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
  a += b;
  d = rotateLeft(d ^ a, 16);
  c += d;
  b = rotateLeft(b ^ c, 12);
  a += b;
  d = rotateLeft(d ^ a, 8);
  c += d;
  b = rotateLeft(b ^ c, 7);
}

// Fetched once per process; EVP_CIPHER objects are immutable and shared.
const EVP_CIPHER* cipherFor(AeadAlgorithm algorithm) {
  static const EVP_CIPHER* const kChaCha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  static const EVP_CIPHER* const kGcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return algorithm == AeadAlgorithm::kXChaCha20Poly1305 ? kChaCha : kGcm;
}

bool tooLong(std::string_view a, std::string_view b) {
  constexpr size_t kMax = INT_MAX - 64;
  return a.size() > kMax || b.size() > kMax;
}

// One AEAD seal with OpenSSL's 12-byte-nonce cipher: ciphertext || tag.
Result<std::string> evpSeal(const EVP_CIPHER* cipher, const uint8_t* key, std::string_view nonce,
                            std::string_view plaintext, std::string_view additional_data) {
  if (cipher == nullptr) return detail::opensslFailure("AEAD: cipher unavailable");
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return detail::opensslFailure("AEAD: context allocation");
  std::string out(plaintext.size() + Aead::kTagSize, '\0');
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), cipher, key, bytesOf(nonce), nullptr) != 1) {
    return detail::opensslFailure("AEAD: init");
  }
  if (!additional_data.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytesOf(additional_data),
                        static_cast<int>(additional_data.size())) != 1) {
    return detail::opensslFailure("AEAD: additional data");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), bytesOf(out), &len, bytesOf(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      return detail::opensslFailure("AEAD: encrypt");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), bytesOf(out) + written, &len) != 1) {
    return detail::opensslFailure("AEAD: final");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(Aead::kTagSize),
                          bytesOf(out) + plaintext.size()) != 1) {
    return detail::opensslFailure("AEAD: tag");
  }
  return out;
}

Result<std::string> evpOpen(const EVP_CIPHER* cipher, const uint8_t* key, std::string_view nonce,
                            std::string_view ciphertext_and_tag, std::string_view additional_data) {
  if (cipher == nullptr) return detail::opensslFailure("AEAD: cipher unavailable");
  if (ciphertext_and_tag.size() < Aead::kTagSize) {
    return detail::rejected("AEAD: sealed value shorter than its tag");
  }
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - Aead::kTagSize);
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return detail::opensslFailure("AEAD: context allocation");
  std::string out(ciphertext.size(), '\0');
  int len = 0;
  if (EVP_DecryptInit_ex2(ctx.get(), cipher, key, bytesOf(nonce), nullptr) != 1) {
    return detail::opensslFailure("AEAD: init");
  }
  if (!additional_data.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytesOf(additional_data),
                        static_cast<int>(additional_data.size())) != 1) {
    return detail::opensslFailure("AEAD: additional data");
  }
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), bytesOf(out), &len, bytesOf(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      return detail::opensslFailure("AEAD: decrypt");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                          tag.data()) != 1) {
    return detail::opensslFailure("AEAD: tag");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), bytesOf(out) + written, &len) != 1) {
    // The plaintext was computed before the tag was checked: never let it out.
    OPENSSL_cleanse(out.data(), out.size());
    return detail::rejected("AEAD: message authentication failed");
  }
  return out;
}

// base64url with padding, Go's base64.URLEncoding.
std::string base64UrlPadded(std::string_view data) {
  std::string text = base64UrlEncode(data);
  while (text.size() % 4 != 0) text += '=';
  return text;
}

}  // namespace

// HChaCha20 is not in OpenSSL 3.0 (which has only the 12-byte-nonce
// ChaCha20-Poly1305 of RFC 8439), so it is written here. It is the ChaCha20
// block function with the 16-byte nonce where the counter and nonce go, and
// without the final addition of the input state: the subkey is the first
// and last rows of the state after the 20 rounds. Key-dependent work is
// additions, rotations and xors only, so it runs in constant time.
std::array<uint8_t, 32> hChaCha20(const std::array<uint8_t, 32>& key,
                                  const std::array<uint8_t, 16>& nonce) {
  uint32_t s[16];
  s[0] = 0x61707865;  // "expand 32-byte k"
  s[1] = 0x3320646e;
  s[2] = 0x79622d32;
  s[3] = 0x6b206574;
  for (size_t i = 0; i < 8; ++i) s[4 + i] = loadLittleEndian(key.data() + 4 * i);
  for (size_t i = 0; i < 4; ++i) s[12 + i] = loadLittleEndian(nonce.data() + 4 * i);
  for (int round = 0; round < 10; ++round) {
    // Column round, then diagonal round.
    quarterRound(s[0], s[4], s[8], s[12]);
    quarterRound(s[1], s[5], s[9], s[13]);
    quarterRound(s[2], s[6], s[10], s[14]);
    quarterRound(s[3], s[7], s[11], s[15]);
    quarterRound(s[0], s[5], s[10], s[15]);
    quarterRound(s[1], s[6], s[11], s[12]);
    quarterRound(s[2], s[7], s[8], s[13]);
    quarterRound(s[3], s[4], s[9], s[14]);
  }
  std::array<uint8_t, 32> subkey{};
  for (size_t i = 0; i < 4; ++i) {
    storeLittleEndian(s[i], subkey.data() + 4 * i);
    storeLittleEndian(s[12 + i], subkey.data() + 16 + 4 * i);
  }
  OPENSSL_cleanse(s, sizeof(s));
  return subkey;
}

Aead::Aead(AeadAlgorithm algorithm, std::string_view key) : algorithm_(algorithm) {
  std::memcpy(key_.data(), key.data(), kKeySize);
}

Aead::~Aead() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<Aead> Aead::create(AeadAlgorithm algorithm, std::string_view key) {
  if (key.size() != kKeySize) {
    return Error::invalid("AEAD key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return Aead(algorithm, key);
}

size_t Aead::nonceSize() const {
  return algorithm_ == AeadAlgorithm::kXChaCha20Poly1305 ? kXChaChaNonceSize : kGcmNonceSize;
}

Result<std::string> Aead::sealWithNonce(std::string_view nonce, std::string_view plaintext,
                                        std::string_view additional_data) const {
  if (nonce.size() != nonceSize()) {
    return Error::invalid("AEAD nonce must be " + std::to_string(nonceSize()) + " bytes");
  }
  if (tooLong(plaintext, additional_data)) return Error::invalid("AEAD input too long");
  if (algorithm_ == AeadAlgorithm::kAes256Gcm) {
    return evpSeal(cipherFor(algorithm_), key_.data(), nonce, plaintext, additional_data);
  }
  // XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha section 2.3): ChaCha20-Poly1305
  // under the HChaCha20 subkey, with 4 zero bytes and the last 8 nonce bytes
  // as its 12-byte nonce.
  std::array<uint8_t, kHChaChaNonceSize> prefix{};
  std::memcpy(prefix.data(), nonce.data(), prefix.size());
  std::array<uint8_t, 32> subkey = hChaCha20(key_, prefix);
  std::string chacha_nonce(kChaChaNonceSize, '\0');
  std::memcpy(chacha_nonce.data() + 4, nonce.data() + kHChaChaNonceSize, 8);
  auto sealed =
      evpSeal(cipherFor(algorithm_), subkey.data(), chacha_nonce, plaintext, additional_data);
  OPENSSL_cleanse(subkey.data(), subkey.size());
  return sealed;
}

Result<std::string> Aead::openWithNonce(std::string_view nonce, std::string_view ciphertext_and_tag,
                                        std::string_view additional_data) const {
  if (nonce.size() != nonceSize()) {
    return detail::malformed("AEAD nonce must be " + std::to_string(nonceSize()) + " bytes");
  }
  if (tooLong(ciphertext_and_tag, additional_data)) return detail::malformed("AEAD input too long");
  if (algorithm_ == AeadAlgorithm::kAes256Gcm) {
    return evpOpen(cipherFor(algorithm_), key_.data(), nonce, ciphertext_and_tag, additional_data);
  }
  std::array<uint8_t, kHChaChaNonceSize> prefix{};
  std::memcpy(prefix.data(), nonce.data(), prefix.size());
  std::array<uint8_t, 32> subkey = hChaCha20(key_, prefix);
  std::string chacha_nonce(kChaChaNonceSize, '\0');
  std::memcpy(chacha_nonce.data() + 4, nonce.data() + kHChaChaNonceSize, 8);
  auto opened = evpOpen(cipherFor(algorithm_), subkey.data(), chacha_nonce, ciphertext_and_tag,
                        additional_data);
  OPENSSL_cleanse(subkey.data(), subkey.size());
  return opened;
}

Result<std::string> Aead::seal(std::string_view plaintext, std::string_view additional_data) const {
  const std::string nonce = randomBytes(nonceSize());
  auto sealed = sealWithNonce(nonce, plaintext, additional_data);
  if (!sealed) return sealed;
  sealed->append(nonce);
  return sealed;
}

Result<std::string> Aead::open(std::string_view sealed, std::string_view additional_data) const {
  // Pomerium requires more than a nonce; the tag check below then requires
  // at least a tag as well.
  if (sealed.size() <= nonceSize()) {
    return detail::malformed("AEAD: sealed value of " + std::to_string(sealed.size()) +
                             " bytes is too short");
  }
  const size_t split = sealed.size() - nonceSize();
  return openWithNonce(sealed.substr(split), sealed.substr(0, split), additional_data);
}

Result<std::string> Aead::sealBase64Url(std::string_view plaintext,
                                        std::string_view additional_data) const {
  auto sealed = seal(plaintext, additional_data);
  if (!sealed) return sealed;
  return base64UrlPadded(*sealed);
}

Result<std::string> Aead::openBase64Url(std::string_view text,
                                        std::string_view additional_data) const {
  // Padding is optional; the alphabet is strictly base64url.
  for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i) text.remove_suffix(1);
  auto sealed = detail::base64UrlDecodeStrict(text);
  if (!sealed) return detail::malformed("AEAD: sealed value is not base64url");
  return open(*sealed, additional_data);
}

}  // namespace gatehouse::crypto

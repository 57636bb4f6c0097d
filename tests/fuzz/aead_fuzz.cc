// Fuzzes opening sealed values (Pomerium's layout, raw and base64url) with
// fixed keys. Beyond not crashing: whatever opens must be exactly what
// sealing its plaintext under its nonce gives, and every input, taken as a
// plaintext, must come back out of seal and open unchanged.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/aead.h"

namespace {

using gatehouse::crypto::Aead;
using gatehouse::crypto::AeadAlgorithm;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

const Aead& cipher(AeadAlgorithm algorithm) {
  static const Aead kXChaCha =
      *Aead::create(AeadAlgorithm::kXChaCha20Poly1305, "0123456789abcdef0123456789abcdef");
  static const Aead kGcm =
      *Aead::create(AeadAlgorithm::kAes256Gcm, "0123456789abcdef0123456789abcdef");
  return algorithm == AeadAlgorithm::kXChaCha20Poly1305 ? kXChaCha : kGcm;
}

void checkOpened(const Aead& aead, std::string_view sealed, std::string_view additional_data) {
  auto opened = aead.open(sealed, additional_data);
  if (!opened) return;
  const size_t split = sealed.size() - aead.nonceSize();
  auto again = aead.sealWithNonce(sealed.substr(split), *opened, additional_data);
  if (!again || *again != sealed.substr(0, split))
    fail("opened a value its plaintext does not seal to");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte, when there is one, splits off additional data.
  const size_t ad_size = size == 0 ? 0 : static_cast<uint8_t>(input[0]) % 8;
  const std::string_view rest = input.substr(size == 0 ? 0 : 1);
  const std::string_view additional_data = rest.substr(0, std::min(ad_size, rest.size()));
  const std::string_view sealed = rest.substr(additional_data.size());

  for (AeadAlgorithm algorithm : {AeadAlgorithm::kXChaCha20Poly1305, AeadAlgorithm::kAes256Gcm}) {
    const Aead& aead = cipher(algorithm);
    checkOpened(aead, sealed, additional_data);
    (void)aead.openBase64Url(sealed, additional_data);

    auto round_trip = aead.seal(sealed, additional_data);
    if (!round_trip) fail("sealing failed");
    auto opened = aead.open(*round_trip, additional_data);
    if (!opened || *opened != sealed) fail("seal then open changed the plaintext");
    auto text = aead.sealBase64Url(sealed, additional_data);
    if (!text) fail("sealing to text failed");
    auto from_text = aead.openBase64Url(*text, additional_data);
    if (!from_text || *from_text != sealed) fail("seal then open as text changed the plaintext");
  }
  return 0;
}

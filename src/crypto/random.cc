#include "crypto/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace gatehouse::crypto {

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

std::string randomId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = randomBytes(16);
  std::string out;
  out.reserve(32);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

}  // namespace gatehouse::crypto

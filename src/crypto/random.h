#pragma once

#include <string>

namespace gatehouse::crypto {

// `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
// Aborts if the generator fails: nothing secure can continue without it.
std::string randomBytes(size_t n);
// 128-bit random id as 32 lower-case hex characters.
std::string randomId();

}  // namespace gatehouse::crypto

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gatehouse::crypto {

// HKDF-SHA256 (RFC 5869), extract then expand: `length` bytes derived from
// the input keying material `secret`. An empty `salt` means no salt, which
// RFC 5869 defines as 32 zero bytes (the same as Go's hkdf.New with a nil
// salt). Fails only when `length` is 0 or more than 255 * 32 bytes.
Result<std::string> hkdfSha256(std::string_view secret, std::string_view salt,
                               std::string_view info, size_t length);

}  // namespace gatehouse::crypto

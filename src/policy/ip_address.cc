#include "policy/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace gatehouse::policy {

namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool isV4Mapped(const uint8_t* bytes) {
  return std::memcmp(bytes, kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text form
  // (with an embedded IPv4 part) is 45 characters.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof(buffer)) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  IpAddress address;
  if (text.find(':') == std::string_view::npos) {
    if (::inet_pton(AF_INET, buffer, address.bytes_.data()) != 1) return std::nullopt;
    address.family_ = Family::kV4;
    return address;
  }
  uint8_t v6[16];
  if (::inet_pton(AF_INET6, buffer, v6) != 1) return std::nullopt;
  if (isV4Mapped(v6)) {
    address.family_ = Family::kV4;
    std::memcpy(address.bytes_.data(), v6 + 12, 4);
  } else {
    address.family_ = Family::kV6;
    std::memcpy(address.bytes_.data(), v6, 16);
  }
  return address;
}

std::string IpAddress::toString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family_ == Family::kV4 ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof(buffer));
  return buffer;
}

std::optional<IpRange> IpRange::parse(std::string_view text) {
  IpRange range;
  size_t slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  bool mapped = address_text.find(':') != std::string_view::npos &&
                address_text.find('.') != std::string_view::npos;
  auto address = IpAddress::parse(address_text);
  if (!address) return std::nullopt;
  range.network_ = *address;
  range.prefix_length_ = address->bitLength();
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int length = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    // An IPv4-mapped range ("::ffff:10.0.0.0/104") is the IPv4 range it maps.
    if (address->family() == IpAddress::Family::kV4 && mapped) {
      if (length < 96 || length > 128) return std::nullopt;
      length -= 96;
    }
    if (length < 0 || length > address->bitLength()) return std::nullopt;
    range.prefix_length_ = length;
  }
  // Clear the host bits so that contains() compares whole bytes and one
  // masked byte.
  auto& bytes = range.network_.bytes_;
  for (int bit = range.prefix_length_; bit < range.network_.bitLength(); ++bit) {
    bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80U >> (bit % 8)));
  }
  return range;
}

bool IpRange::contains(const IpAddress& address) const {
  if (address.family() != network_.family()) return false;
  const auto& a = address.bytes();
  const auto& n = network_.bytes();
  size_t whole = static_cast<size_t>(prefix_length_ / 8);
  if (std::memcmp(a.data(), n.data(), whole) != 0) return false;
  int rest = prefix_length_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFFU << (8 - rest));
  return (a[whole] & mask) == n[whole];
}

}  // namespace gatehouse::policy

#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::policy {

// An IPv4 or IPv6 address, parsed once so that matching a CIDR on the
// request path is a byte comparison. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) is stored as the IPv4 address, as Go's net.IP.To4()
// treats it, so that it matches IPv4 ranges.
class IpAddress {
 public:
  enum class Family : uint8_t { kV4, kV6 };

  // "192.0.2.1", "2001:db8::1" (no brackets, no zone, no port).
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  // 4 meaningful bytes for IPv4, 16 for IPv6, network order.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  int bitLength() const { return family_ == Family::kV4 ? 32 : 128; }
  std::string toString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  friend class IpRange;  // clears host bits in place

  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// An address range: "10.0.0.0/8", "2001:db8::/32", or a single address (a
// /32 or /128). Host bits after the prefix are ignored, as Go's
// net.ParseCIDR ignores them ("192.168.1.1/24" is 192.168.1.0/24).
class IpRange {
 public:
  static std::optional<IpRange> parse(std::string_view text);

  bool contains(const IpAddress& address) const;
  const IpAddress& network() const { return network_; }
  int prefixLength() const { return prefix_length_; }

 private:
  IpAddress network_;
  int prefix_length_ = 0;
};

}  // namespace gatehouse::policy

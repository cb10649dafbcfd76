// Frames written out by hand for the packet stack's tests, and a reference checksum that shares
// no code with the stack's. Every checksum in the arrays below was computed outside this project
// (and agrees with scapy's); the tests also recompute them with ref_checksum.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeos/net/packet.hpp"

namespace edgeos::net::test {

// Our side: 02:00:00:00:00:01, 10.0.2.15; the peer: 02:00:00:00:00:02, 10.0.2.2.
inline constexpr MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
inline constexpr MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
inline constexpr uint32_t kOurIp = ipv4(10, 0, 2, 15);
inline constexpr uint32_t kPeerIp = ipv4(10, 0, 2, 2);

// The RFC 1071 definition, written the plain way: 16-bit big-endian words (an odd last byte
// padded with a zero), summed with the end-around carry after every addition, complemented.
inline uint16_t ref_checksum(const std::vector<uint8_t>& b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < b.size(); i += 2) {
    const uint32_t word = (uint32_t{b[i]} << 8) | (i + 1 < b.size() ? b[i + 1] : 0u);
    sum += word;
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return static_cast<uint16_t>(~sum & 0xffff);
}

// "Who has 10.0.2.15? Tell 10.0.2.2", broadcast, unpadded (42 bytes).
inline std::vector<uint8_t> arp_request() {
  return {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // destination: broadcast
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // source: the peer
      0x08, 0x06,                          // ARP
      0x00, 0x01,                          // hardware type: Ethernet
      0x08, 0x00,                          // protocol type: IPv4
      0x06, 0x04,                          // address lengths
      0x00, 0x01,                          // request
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // sender MAC
      0x0a, 0x00, 0x02, 0x02,              // sender IP 10.0.2.2
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC: unknown
      0x0a, 0x00, 0x02, 0x0f,              // target IP 10.0.2.15
  };
}

// Echo request id 0x1234 seq 1, data "abcd", to us (46 bytes).
inline std::vector<uint8_t> echo_request() {
  // clang-format off
  return {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00,
      // IPv4: IHL 5, total length 32, id 0x1c46, DF, TTL 64, ICMP, checksum 0x0687
      0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x06, 0x87,
      0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x0f,
      // ICMP: echo request, checksum 0x2104, id 0x1234, seq 1, "abcd"
      0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64,
  };
  // clang-format on
}
inline constexpr size_t kEchoIpOffset = 14;
inline constexpr size_t kEchoIcmpOffset = 34;

// UDP 10.0.2.2:40000 -> 10.0.2.15:7, "hello", checksum 0x07aa (47 bytes).
inline std::vector<uint8_t> udp_hello() {
  // clang-format off
  return {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00,
      // IPv4: IHL 5, total length 33, id 0x1c47, DF, TTL 64, UDP, checksum 0x0675
      0x45, 0x00, 0x00, 0x21, 0x1c, 0x47, 0x40, 0x00, 0x40, 0x11, 0x06, 0x75,
      0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x0f,
      // UDP: ports 40000 -> 7, length 13, checksum 0x07aa, "hello"
      0x9c, 0x40, 0x00, 0x07, 0x00, 0x0d, 0x07, 0xaa, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
  };
  // clang-format on
}
inline constexpr size_t kUdpIpOffset = 14;
inline constexpr size_t kUdpOffset = 34;

// Recomputes the IPv4 header checksum of a frame after a test edited the header (with the
// reference function), so that the test reaches the check it is aimed at.
inline void fix_ip_checksum(std::vector<uint8_t>& f, size_t ip_offset = 14) {
  const size_t hl = (f[ip_offset] & 0x0f) * 4u;
  f[ip_offset + 10] = 0;
  f[ip_offset + 11] = 0;
  const std::vector<uint8_t> header(f.begin() + static_cast<std::ptrdiff_t>(ip_offset),
                                    f.begin() + static_cast<std::ptrdiff_t>(ip_offset + hl));
  const uint16_t c = ref_checksum(header);
  f[ip_offset + 10] = static_cast<uint8_t>(c >> 8);
  f[ip_offset + 11] = static_cast<uint8_t>(c);
}

// Sets the IPv4 total length field (and fixes the header checksum).
inline void set_ip_total_length(std::vector<uint8_t>& f, uint16_t total, size_t ip_offset = 14) {
  f[ip_offset + 2] = static_cast<uint8_t>(total >> 8);
  f[ip_offset + 3] = static_cast<uint8_t>(total);
  fix_ip_checksum(f, ip_offset);
}

// Inserts IPv4 options (a multiple of 4 bytes) after the fixed header of a frame, updating IHL,
// total length and the header checksum; the payload's checksums do not cover the IP header.
inline std::vector<uint8_t> with_ip_options(std::vector<uint8_t> f, const std::vector<uint8_t>& options) {
  const size_t at = 14 + 20;
  f.insert(f.begin() + static_cast<std::ptrdiff_t>(at), options.begin(), options.end());
  f[14] = static_cast<uint8_t>(0x40 | ((20 + options.size()) / 4));
  const uint16_t total = static_cast<uint16_t>(((f[16] << 8) | f[17]) + options.size());
  set_ip_total_length(f, total);
  return f;
}

}  // namespace edgeos::net::test

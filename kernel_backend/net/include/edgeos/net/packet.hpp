// Wire formats of the packet stack the driver FWP runs: Ethernet II, ARP (RFC 826), IPv4
// (RFC 791), ICMP echo (RFC 792), UDP (RFC 768) and the Internet checksum (RFC 1071).
//
// Parsers read a frame that came off the wire and trust nothing in it: every length field is
// checked against the bytes actually present before anything behind it is read, and a parser never
// reads past the length it was given. On failure they return the DropCause the stack counts. Views
// point into the caller's frame, which must outlive them. Builders write into a caller buffer of a
// given capacity and return the number of bytes written, or 0 if it does not fit; they never write
// past the capacity. Multi-byte fields are big-endian on the wire; the views hold them in host
// byte order (IPv4 addresses included, as Peer::ipv4 does).
//
// Freestanding: no heap, no exceptions, no library calls beyond memcpy/memset/memcmp (which the
// compiler may emit), only <stddef.h> and <stdint.h>. The net freestanding gate
// (kernel_backend/net/freestanding) links this code with no C or C++ runtime.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace edgeos::net {

// --- sizes ---------------------------------------------------------------------------------------

inline constexpr size_t kEthHeaderLen = 14;
// The largest frame we accept or build, without the FCS (the NIC strips and adds it): a 1500-byte
// IPv4 MTU plus the Ethernet header. 802.1Q tagged frames are not supported (bad ethertype).
inline constexpr size_t kMaxFrameLen = kEthHeaderLen + 1500;
// The smallest frame Ethernet carries, without the FCS. Builders pad short frames to it with
// zeros; received frames may be shorter (a virtual NIC delivers what the host sent) and are parsed.
inline constexpr size_t kMinFrameLen = 60;
inline constexpr size_t kArpLen = 28;  // Ethernet/IPv4 ARP body (RFC 826)
inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr size_t kIpv4MaxHeaderLen = 60;
inline constexpr size_t kIcmpHeaderLen = 8;  // type, code, checksum, identifier, sequence
inline constexpr size_t kUdpHeaderLen = 8;
inline constexpr size_t kMaxUdpPayload = kMaxFrameLen - kEthHeaderLen - kIpv4MinHeaderLen - kUdpHeaderLen;  // 1472

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;
// TTL of the datagrams we originate (RFC 1700's recommended default).
inline constexpr uint8_t kDefaultTtl = 64;

// --- big-endian fields ---------------------------------------------------------------------------

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// An IPv4 address from its dotted quad, in host byte order: ipv4(10, 0, 0, 2).
constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d};
}

struct MacAddress {
  uint8_t bytes[6] = {};

  static constexpr MacAddress broadcast() { return MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  // The I/G bit (first bit on the wire) marks group addresses: multicast, and broadcast.
  constexpr bool is_group() const { return (bytes[0] & 1) != 0; }
  constexpr bool is_broadcast() const {
    for (uint8_t b : bytes) {
      if (b != 0xff) return false;
    }
    return true;
  }
  constexpr bool is_zero() const {
    for (uint8_t b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }
  static MacAddress load(const uint8_t* p) {
    MacAddress m;
    for (int i = 0; i < 6; ++i) m.bytes[i] = p[i];
    return m;
  }
  void store(uint8_t* p) const {
    for (int i = 0; i < 6; ++i) p[i] = bytes[i];
  }
  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
};

// --- the Internet checksum (RFC 1071) ------------------------------------------------------------

// The 16-bit one's complement of the one's complement sum of 16-bit big-endian words, summed
// incrementally: add() may be called on pieces of any length, and a piece that follows an
// odd-length one continues its pending word, as if the pieces were one buffer. finish() gives the
// value to store in a checksum field; over data that includes a correct checksum field, finish()
// is 0 (RFC 1071 §1, step 3).
class Checksum {
 public:
  void add(const uint8_t* data, size_t len);
  void add16(uint16_t word) {
    uint8_t b[2];
    store_be16(b, word);
    add(b, 2);
  }
  void add32(uint32_t v) {
    add16(static_cast<uint16_t>(v >> 16));
    add16(static_cast<uint16_t>(v));
  }
  uint16_t finish() const;

 private:
  uint64_t sum_ = 0;     // big-endian 16-bit words
  uint64_t native_ = 0;  // 32-bit native-order pieces of the 8-byte runs (see add)
  bool odd_ = false;  // an odd number of bytes so far: the next byte is a word's low byte
};

inline uint16_t internet_checksum(const uint8_t* data, size_t len) {
  Checksum c;
  c.add(data, len);
  return c.finish();
}

// --- why a frame is dropped ------------------------------------------------------------------------

// The numbers are also the `value` of a trace's pkt_drop records (docs/trace.md): append, never
// renumber. One cause per check, counted in Counters::drops. A frame is counted under the first check it
// fails; they are listed in the order the stack makes them, outer header first (except that an IP
// header shorter than IHL says is kIpTruncated, found after the version and IHL checks).
enum class DropCause : uint8_t {
  kNone = 0,
  // Ethernet
  kRunt,          // shorter than an Ethernet header
  kTooLong,       // longer than kMaxFrameLen
  kMacNotForUs,   // destination neither our MAC nor broadcast
  kBadEthSource,  // source MAC is a group address (we would answer a multicast)
  kBadEthertype,  // neither IPv4 nor ARP (802.3 lengths, VLAN tags, IPv6, ...)
  // ARP
  kArpMalformed,  // truncated, not Ethernet/IPv4, an unknown operation, or a group sender MAC
  kArpConflict,   // someone else claims our IPv4 address
  kArpNotForUs,   // target address is not ours (the cache may still have been refreshed)
  // IPv4
  kIpTruncated,        // fewer bytes than 20 or than the header length IHL gives
  kBadIpVersion,       // version is not 4
  kBadIpIhl,           // IHL below 5
  kBadIpChecksum,      // header checksum does not verify
  kBadIpTotalLength,   // total length shorter than the header or longer than the frame
  kBadIpOptions,       // malformed option list (a length running past the header)
  kIpSourceRoute,      // loose or strict source route option: dropped, see parse_ipv4
  kIpFragment,         // MF set or a nonzero fragment offset: fragments are never reassembled
  kBadIpSource,        // source we must not answer: 0.0.0.0, loopback, multicast, broadcast
  kIpNotForUs,         // destination is not our address
  kUnknownIpProtocol,  // neither ICMP nor UDP
  // ICMP
  kBadIcmpLength,    // shorter than the 8-byte echo header
  kBadIcmpChecksum,  // checksum over the ICMP message does not verify
  kUnknownIcmp,      // anything but an echo request (code 0)
  // UDP
  kBadUdpLength,    // length field below 8 or beyond the IP payload
  kBadUdpChecksum,  // nonzero checksum that does not verify
  // the caller
  kNoReplyRoom,  // the reply frame does not fit the caller's buffer
  // the network path beyond the stack (the driver FWP and the kernel; never counted by Stack)
  kNoTenant,  // a UDP datagram to a port no tenant is bound to (and not the driver's echo port)
  kRingFull,  // the bound tenant's receive ring is full: the tenant is behind, nobody else waits
  kCount
};
inline constexpr size_t kDropCauseCount = static_cast<size_t>(DropCause::kCount);

// A stable snake_case name ("bad_ip_checksum"), for traces, counters dumps and tests.
const char* drop_cause_name(DropCause cause);

// --- parsers -------------------------------------------------------------------------------------

struct EthernetView {
  MacAddress dst;
  MacAddress src;
  uint16_t ethertype = 0;
  const uint8_t* payload = nullptr;  // everything after the header, padding included
  size_t payload_len = 0;
};
// kRunt or kTooLong; any ethertype is accepted here.
DropCause parse_ethernet(const uint8_t* frame, size_t len, EthernetView& out);

struct ArpView {
  uint16_t op = 0;
  MacAddress sha;  // sender hardware address
  uint32_t spa = 0;
  MacAddress tha;
  uint32_t tpa = 0;
};
// The Ethernet/IPv4 ARP body (hardware type 1, protocol 0x0800, lengths 6 and 4, operation 1 or
// 2) with a unicast sender MAC; trailing padding is ignored. kArpMalformed otherwise.
DropCause parse_arp(const uint8_t* p, size_t len, ArpView& out);

struct Ipv4View {
  size_t header_len = 0;  // IHL * 4, options included
  uint8_t tos = 0;
  uint16_t total_len = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // in 8-byte units
  uint8_t ttl = 0;
  uint8_t protocol = 0;
  uint32_t src = 0;
  uint32_t dst = 0;
  size_t options_len = 0;            // header_len - 20
  const uint8_t* payload = nullptr;  // total_len - header_len bytes; Ethernet padding excluded
  size_t payload_len = 0;
};
// The header's structure and checksum; addresses, fragmentation and protocol are the caller's
// (the stack's) to judge. Options: a header with options (IHL > 5) is accepted and its options
// skipped, uninterpreted, as RFC 1122 §3.2.1.8 lets a host ignore options it does not implement,
// with two exceptions. The option list is walked (RFC 791: End of Option List, No Operation, and
// type-length-value for the rest), and a length that is below 2 or runs past the header is
// kBadIpOptions. Loose and strict source routes (types 131, 137) are kIpSourceRoute: RFC 1122
// §3.2.1.8(c) wants an answer along the reversed route, which this stack does not build, and
// RFC 7126 §4.3-4.4 advises discarding such datagrams anyway. Replies are always sent without
// options (so Record Route and Timestamp, which RFC 1122 §3.2.2.6 says SHOULD be echoed, are not).
DropCause parse_ipv4(const uint8_t* p, size_t len, Ipv4View& out);

struct IcmpEchoView {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t id = 0;  // meaningful for echo messages only
  uint16_t seq = 0;
  const uint8_t* data = nullptr;  // after the 8-byte header
  size_t data_len = 0;
};
// An ICMP message (RFC 792) of exactly len bytes (the IP payload): kBadIcmpLength below 8 bytes,
// kBadIcmpChecksum if the checksum over all len bytes does not verify. Any type is returned.
DropCause parse_icmp(const uint8_t* p, size_t len, IcmpEchoView& out);

struct UdpView {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;    // header and data, from the length field (checked)
  uint16_t checksum = 0;  // as on the wire; 0 means the sender computed none
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;  // length - 8; bytes of the IP payload beyond length are ignored
};
// A UDP datagram (RFC 768) carried in an IPv4 payload of len bytes between src and dst (needed
// for the pseudo-header). kBadUdpLength if the length field is below 8 or above len;
// kBadUdpChecksum if the checksum is nonzero and does not verify over the pseudo-header, header
// and data.
DropCause parse_udp(const uint8_t* p, size_t len, uint32_t src, uint32_t dst, UdpView& out);

// --- builders ------------------------------------------------------------------------------------

// Both ends of a UDP datagram we send.
struct UdpEndpoints {
  MacAddress src_mac;
  uint32_t src_ip = 0;
  uint16_t src_port = 0;
  MacAddress dst_mac;
  uint32_t dst_ip = 0;
  uint16_t dst_port = 0;
};

// The UDP checksum (RFC 768) of a datagram of udp_len bytes at udp, with the checksum field as it
// is in the buffer, over the IPv4 pseudo-header (source, destination, zero, protocol 17, UDP
// length). Stored as computed, except that a computed 0 is sent as 0xffff (0 means "none").
uint16_t udp_checksum(const uint8_t* udp, size_t udp_len, uint32_t src, uint32_t dst);

// Writes an IPv4 header without options at out (20 bytes): version 4, IHL 5, DF set (we never
// fragment; RFC 6864 §4.1 lets such an atomic datagram carry any identification), the given TTL,
// and its header checksum.
void write_ipv4_header(uint8_t* out, uint8_t tos, uint16_t total_len, uint16_t id, uint8_t ttl, uint8_t protocol,
                       uint32_t src, uint32_t dst);

// A whole Ethernet/IPv4/UDP frame carrying payload (which must not overlap out), checksummed,
// padded to kMinFrameLen. Returns its length, or 0 if payload_len exceeds kMaxUdpPayload or the
// frame does not fit cap.
size_t build_udp_frame(const UdpEndpoints& ends, uint16_t ip_id, const uint8_t* payload, size_t payload_len,
                       uint8_t* out, size_t cap);

// An ARP request (broadcast) asking who has target_ip, padded to kMinFrameLen; 0 if cap is short.
size_t build_arp_request(const MacAddress& our_mac, uint32_t our_ip, uint32_t target_ip, uint8_t* out, size_t cap);

}  // namespace edgeos::net

// Parsers and builders of the wire formats (see packet.hpp). Freestanding.
#include "edgeos/net/packet.hpp"

namespace edgeos::net {

// --- checksum (RFC 1071) -------------------------------------------------------------------------

void Checksum::add(const uint8_t* data, size_t len) {
  size_t i = 0;
  if (odd_ && len > 0) {
    sum_ += data[0];  // the low byte of the word the previous piece began
    odd_ = false;
    i = 1;
  }
  // Eight bytes at a time, loaded in the machine's byte order and summed as two 32-bit halves: the
  // one's complement sum does not depend on byte order (RFC 1071 section 2(B)), so finish() folds
  // this sum to 16 bits and swaps its bytes once. Fewer than 2^32 additions cannot overflow.
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    __builtin_memcpy(&v, data + i, 8);
    native_ += (v & 0xffff'ffffu) + (v >> 32);
  }
  for (; i + 1 < len; i += 2) sum_ += (uint32_t{data[i]} << 8) | data[i + 1];
  if (i < len) {
    sum_ += uint32_t{data[i]} << 8;
    odd_ = true;  // an odd total is summed as if padded with a zero byte (RFC 768)
  }
}

uint16_t Checksum::finish() const {
  // Deferred carries (RFC 1071 §2): a 64-bit accumulator cannot overflow on any buffer a
  // frame could be, and folding the carries back in gives the one's complement sum.
  uint64_t n = native_;
  while ((n >> 16) != 0) n = (n & 0xffff) + (n >> 16);
  // Native order is little-endian on every machine edgeos runs on (x86-64): swap to network order.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the native-order sum is swapped as little-endian");
  uint64_t s = sum_ + (((n & 0xff) << 8) | (n >> 8));
  while ((s >> 16) != 0) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s & 0xffff);
}

// --- names ---------------------------------------------------------------------------------------

const char* drop_cause_name(DropCause cause) {
  switch (cause) {
    case DropCause::kNone: return "none";
    case DropCause::kRunt: return "runt";
    case DropCause::kTooLong: return "too_long";
    case DropCause::kMacNotForUs: return "mac_not_for_us";
    case DropCause::kBadEthSource: return "bad_eth_source";
    case DropCause::kBadEthertype: return "bad_ethertype";
    case DropCause::kArpMalformed: return "arp_malformed";
    case DropCause::kArpConflict: return "arp_conflict";
    case DropCause::kArpNotForUs: return "arp_not_for_us";
    case DropCause::kIpTruncated: return "ip_truncated";
    case DropCause::kBadIpVersion: return "bad_ip_version";
    case DropCause::kBadIpIhl: return "bad_ip_ihl";
    case DropCause::kBadIpChecksum: return "bad_ip_checksum";
    case DropCause::kBadIpTotalLength: return "bad_ip_total_length";
    case DropCause::kBadIpOptions: return "bad_ip_options";
    case DropCause::kIpSourceRoute: return "ip_source_route";
    case DropCause::kIpFragment: return "ip_fragment";
    case DropCause::kBadIpSource: return "bad_ip_source";
    case DropCause::kIpNotForUs: return "ip_not_for_us";
    case DropCause::kUnknownIpProtocol: return "unknown_ip_protocol";
    case DropCause::kBadIcmpLength: return "bad_icmp_length";
    case DropCause::kBadIcmpChecksum: return "bad_icmp_checksum";
    case DropCause::kUnknownIcmp: return "unknown_icmp";
    case DropCause::kBadUdpLength: return "bad_udp_length";
    case DropCause::kBadUdpChecksum: return "bad_udp_checksum";
    case DropCause::kNoReplyRoom: return "no_reply_room";
    case DropCause::kNoTenant: return "no_tenant";
    case DropCause::kRingFull: return "ring_full";
    case DropCause::kCount: break;
  }
  return "unknown";
}

// --- parsers -------------------------------------------------------------------------------------

DropCause parse_ethernet(const uint8_t* frame, size_t len, EthernetView& out) {
  if (len < kEthHeaderLen) return DropCause::kRunt;
  if (len > kMaxFrameLen) return DropCause::kTooLong;
  out.dst = MacAddress::load(frame);
  out.src = MacAddress::load(frame + 6);
  out.ethertype = load_be16(frame + 12);
  out.payload = frame + kEthHeaderLen;
  out.payload_len = len - kEthHeaderLen;
  return DropCause::kNone;
}

// RFC 826 packet: ar$hrd (2), ar$pro (2), ar$hln (1), ar$pln (1), ar$op (2), ar$sha, ar$spa,
// ar$tha, ar$tpa; for Ethernet (hardware type 1) and IPv4, 6- and 4-byte addresses.
DropCause parse_arp(const uint8_t* p, size_t len, ArpView& out) {
  if (len < kArpLen) return DropCause::kArpMalformed;
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4) {
    return DropCause::kArpMalformed;
  }
  out.op = load_be16(p + 6);
  if (out.op != kArpOpRequest && out.op != kArpOpReply) return DropCause::kArpMalformed;
  out.sha = MacAddress::load(p + 8);
  out.spa = load_be32(p + 14);
  out.tha = MacAddress::load(p + 18);
  out.tpa = load_be32(p + 24);
  // A sender we could not answer or learn: a group or all-zero hardware address.
  if (out.sha.is_group() || out.sha.is_zero()) return DropCause::kArpMalformed;
  return DropCause::kNone;
}

namespace {

// RFC 791 §3.1, "Options": type 0 (End of Option List) and 1 (No Operation) are single bytes;
// every other option has a length byte counting the type and length bytes themselves.
DropCause check_ipv4_options(const uint8_t* opt, size_t n) {
  constexpr uint8_t kEndOfList = 0;
  constexpr uint8_t kNoOperation = 1;
  constexpr uint8_t kLooseSourceRoute = 131;
  constexpr uint8_t kStrictSourceRoute = 137;
  size_t i = 0;
  while (i < n) {
    const uint8_t type = opt[i];
    if (type == kEndOfList) break;
    if (type == kNoOperation) {
      ++i;
      continue;
    }
    if (n - i < 2) return DropCause::kBadIpOptions;
    const uint8_t olen = opt[i + 1];
    if (olen < 2 || olen > n - i) return DropCause::kBadIpOptions;
    if (type == kLooseSourceRoute || type == kStrictSourceRoute) return DropCause::kIpSourceRoute;
    i += olen;
  }
  return DropCause::kNone;
}

}  // namespace

// RFC 791 §3.1 header: version/IHL, type of service, total length, identification, flags and
// fragment offset, time to live, protocol, header checksum, source, destination, options.
DropCause parse_ipv4(const uint8_t* p, size_t len, Ipv4View& out) {
  if (len < kIpv4MinHeaderLen) return DropCause::kIpTruncated;
  if ((p[0] >> 4) != 4) return DropCause::kBadIpVersion;
  const size_t ihl = p[0] & 0x0f;
  if (ihl < 5) return DropCause::kBadIpIhl;
  const size_t header_len = ihl * 4;
  if (len < header_len) return DropCause::kIpTruncated;
  if (internet_checksum(p, header_len) != 0) return DropCause::kBadIpChecksum;
  const uint16_t total_len = load_be16(p + 2);
  // Shorter than the frame is fine (Ethernet pads short frames); longer is a lie.
  if (total_len < header_len || total_len > len) return DropCause::kBadIpTotalLength;
  const DropCause options = check_ipv4_options(p + kIpv4MinHeaderLen, header_len - kIpv4MinHeaderLen);
  if (options != DropCause::kNone) return options;

  const uint16_t flags_fragment = load_be16(p + 6);
  out.header_len = header_len;
  out.tos = p[1];
  out.total_len = total_len;
  out.id = load_be16(p + 4);
  out.dont_fragment = (flags_fragment & 0x4000) != 0;
  out.more_fragments = (flags_fragment & 0x2000) != 0;
  out.fragment_offset = flags_fragment & 0x1fff;
  out.ttl = p[8];
  out.protocol = p[9];
  out.src = load_be32(p + 12);
  out.dst = load_be32(p + 16);
  out.options_len = header_len - kIpv4MinHeaderLen;
  out.payload = p + header_len;
  out.payload_len = total_len - header_len;
  return DropCause::kNone;
}

// RFC 792: type, code, checksum over the whole ICMP message; echo messages then carry an
// identifier, a sequence number and data.
DropCause parse_icmp(const uint8_t* p, size_t len, IcmpEchoView& out) {
  if (len < kIcmpHeaderLen) return DropCause::kBadIcmpLength;
  if (internet_checksum(p, len) != 0) return DropCause::kBadIcmpChecksum;
  out.type = p[0];
  out.code = p[1];
  out.id = load_be16(p + 4);
  out.seq = load_be16(p + 6);
  out.data = p + kIcmpHeaderLen;
  out.data_len = len - kIcmpHeaderLen;
  return DropCause::kNone;
}

namespace {

// The one's complement sum of the RFC 768 pseudo-header and the datagram, complemented.
uint16_t udp_sum(const uint8_t* udp, size_t udp_len, uint32_t src, uint32_t dst) {
  Checksum c;
  c.add32(src);
  c.add32(dst);
  c.add16(kIpProtoUdp);  // a zero byte, then the protocol
  c.add16(static_cast<uint16_t>(udp_len));
  c.add(udp, udp_len);
  return c.finish();
}

}  // namespace

// RFC 768: source port, destination port, length (header and data), checksum.
DropCause parse_udp(const uint8_t* p, size_t len, uint32_t src, uint32_t dst, UdpView& out) {
  if (len < kUdpHeaderLen) return DropCause::kBadUdpLength;
  const uint16_t length = load_be16(p + 4);
  if (length < kUdpHeaderLen || length > len) return DropCause::kBadUdpLength;
  const uint16_t checksum = load_be16(p + 6);
  // Zero: "the transmitter generated no checksum". Otherwise the sum over everything, the
  // checksum field included, must verify (a computed 0 travels as 0xffff, which also verifies).
  if (checksum != 0 && udp_sum(p, length, src, dst) != 0) return DropCause::kBadUdpChecksum;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.length = length;
  out.checksum = checksum;
  out.payload = p + kUdpHeaderLen;
  out.payload_len = length - kUdpHeaderLen;
  return DropCause::kNone;
}

// --- builders ------------------------------------------------------------------------------------

uint16_t udp_checksum(const uint8_t* udp, size_t udp_len, uint32_t src, uint32_t dst) {
  const uint16_t sum = udp_sum(udp, udp_len, src, dst);
  return sum == 0 ? 0xffff : sum;  // RFC 768: all zeros computed is transmitted as all ones
}

void write_ipv4_header(uint8_t* out, uint8_t tos, uint16_t total_len, uint16_t id, uint8_t ttl, uint8_t protocol,
                       uint32_t src, uint32_t dst) {
  out[0] = 0x45;  // version 4, IHL 5
  out[1] = tos;
  store_be16(out + 2, total_len);
  store_be16(out + 4, id);
  store_be16(out + 6, 0x4000);  // DF, offset 0
  out[8] = ttl;
  out[9] = protocol;
  store_be16(out + 10, 0);
  store_be32(out + 12, src);
  store_be32(out + 16, dst);
  store_be16(out + 10, internet_checksum(out, kIpv4MinHeaderLen));
}

namespace {

void write_ethernet_header(uint8_t* out, const MacAddress& dst, const MacAddress& src, uint16_t ethertype) {
  dst.store(out);
  src.store(out + 6);
  store_be16(out + 12, ethertype);
}

size_t padded(size_t len) { return len < kMinFrameLen ? kMinFrameLen : len; }

}  // namespace

size_t build_udp_frame(const UdpEndpoints& ends, uint16_t ip_id, const uint8_t* payload, size_t payload_len,
                       uint8_t* out, size_t cap) {
  if (payload_len > kMaxUdpPayload) return 0;
  const size_t udp_len = kUdpHeaderLen + payload_len;
  const size_t len = kEthHeaderLen + kIpv4MinHeaderLen + udp_len;
  const size_t frame_len = padded(len);
  if (out == nullptr || frame_len > cap) return 0;

  write_ethernet_header(out, ends.dst_mac, ends.src_mac, kEtherTypeIpv4);
  write_ipv4_header(out + kEthHeaderLen, 0, static_cast<uint16_t>(kIpv4MinHeaderLen + udp_len), ip_id, kDefaultTtl,
                    kIpProtoUdp, ends.src_ip, ends.dst_ip);
  uint8_t* udp = out + kEthHeaderLen + kIpv4MinHeaderLen;
  store_be16(udp, ends.src_port);
  store_be16(udp + 2, ends.dst_port);
  store_be16(udp + 4, static_cast<uint16_t>(udp_len));
  store_be16(udp + 6, 0);
  if (payload_len > 0) __builtin_memcpy(udp + kUdpHeaderLen, payload, payload_len);
  store_be16(udp + 6, udp_checksum(udp, udp_len, ends.src_ip, ends.dst_ip));
  if (frame_len > len) __builtin_memset(out + len, 0, frame_len - len);
  return frame_len;
}

size_t build_arp_request(const MacAddress& our_mac, uint32_t our_ip, uint32_t target_ip, uint8_t* out, size_t cap) {
  const size_t len = kEthHeaderLen + kArpLen;
  const size_t frame_len = padded(len);
  if (out == nullptr || frame_len > cap) return 0;
  write_ethernet_header(out, MacAddress::broadcast(), our_mac, kEtherTypeArp);
  uint8_t* a = out + kEthHeaderLen;
  store_be16(a, 1);
  store_be16(a + 2, kEtherTypeIpv4);
  a[4] = 6;
  a[5] = 4;
  store_be16(a + 6, kArpOpRequest);
  our_mac.store(a + 8);
  store_be32(a + 14, our_ip);
  MacAddress{}.store(a + 18);  // RFC 826: the target hardware address is what we ask for
  store_be32(a + 24, target_ip);
  __builtin_memset(out + len, 0, frame_len - len);
  return frame_len;
}

}  // namespace edgeos::net

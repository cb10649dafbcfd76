// libFuzzer entry point: each input is one received frame for a Stack (our address 10.0.2.15,
// MAC 02:00:00:00:00:01), fed twice: as it is, and "repaired" (its IPv4 header, ICMP and UDP
// checksums made right, where its lengths let them be computed), so that mutations reach the
// checks behind the checksums instead of stopping at them. When the first byte (the destination
// MAC's) has its top bit set, as a broadcast's does, its low 7 bits are the reply buffer's size,
// so the "no room" paths are reached. Beyond the sanitizers' checks, it traps on a verdict that
// breaks the stack's promises: a delivered payload outside the frame, a reply longer than its
// buffer, a reply the stack's own parsers reject (bad checksum, wrong type), or a tenant's UDP
// reply that does not parse back.
//
// Built by the EDGEOS_FUZZ option (see kernel_backend/net/CMakeLists.txt) with clang and
// -fsanitize=fuzzer,address,undefined.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeos/net/stack.hpp"

using namespace edgeos::net;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_reply(const uint8_t* r, size_t len) {
  EthernetView eth;
  check(parse_ethernet(r, len, eth) == DropCause::kNone);
  if (eth.ethertype == kEtherTypeArp) {
    ArpView a;
    check(parse_arp(eth.payload, eth.payload_len, a) == DropCause::kNone && a.op == kArpOpReply);
    return;
  }
  check(eth.ethertype == kEtherTypeIpv4);
  Ipv4View ip;
  IcmpEchoView m;
  check(parse_ipv4(eth.payload, eth.payload_len, ip) == DropCause::kNone);
  check(parse_icmp(ip.payload, ip.payload_len, m) == DropCause::kNone && m.type == kIcmpEchoReply);
}

// Recomputes the checksums of an Ethernet/IPv4 frame in place, trusting its lengths only as far
// as the buffer goes.
void repair(uint8_t* f, size_t size) {
  if (size < kEthHeaderLen + kIpv4MinHeaderLen || load_be16(f + 12) != kEtherTypeIpv4) return;
  uint8_t* ip = f + kEthHeaderLen;
  const size_t avail = size - kEthHeaderLen;
  const size_t hl = (ip[0] & 0x0f) * 4u;
  if (hl < kIpv4MinHeaderLen || hl > avail) return;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, internet_checksum(ip, hl));
  const size_t total = load_be16(ip + 2);
  if (total < hl || total > avail) return;
  uint8_t* l4 = ip + hl;
  const size_t l4_len = total - hl;
  if (ip[9] == kIpProtoIcmp && l4_len >= kIcmpHeaderLen) {
    store_be16(l4 + 2, 0);
    store_be16(l4 + 2, internet_checksum(l4, l4_len));
  } else if (ip[9] == kIpProtoUdp && l4_len >= kUdpHeaderLen) {
    const size_t udp_len = load_be16(l4 + 4);
    if (udp_len < kUdpHeaderLen || udp_len > l4_len || load_be16(l4 + 6) == 0) return;
    store_be16(l4 + 6, 0);
    store_be16(l4 + 6, udp_checksum(l4, udp_len, load_be32(ip + 12), load_be32(ip + 16)));
  }
}

void run_one(const uint8_t* data, size_t size, bool repaired) {
  // A fresh stack per input keeps runs reproducible; the ARP cache is exercised within one frame.
  Stack stack(StackConfig{MacAddress{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}}, ipv4(10, 0, 2, 15)});
  // An exactly-sized copy, so that AddressSanitizer sees any read past the frame.
  uint8_t* frame = static_cast<uint8_t*>(malloc(size == 0 ? 1 : size));
  if (size > 0) memcpy(frame, data, size);
  if (repaired) repair(frame, size);
  const size_t cap = size > 0 && (data[0] & 0x80) != 0 ? (data[0] & 0x7f) : kMaxFrameLen;
  uint8_t* reply = static_cast<uint8_t*>(malloc(cap == 0 ? 1 : cap));

  const Verdict v = stack.receive(frame, size, reply, cap);
  switch (v.kind) {
    case Verdict::Kind::kDeliver: {
      check(v.udp.payload >= frame && v.udp.payload + v.udp.payload_len <= frame + size);
      // A tenant's echo of it must build, and parse back.
      uint8_t out[kMaxFrameLen];
      const size_t n = stack.build_udp_reply(v.udp, v.udp.payload, v.udp.payload_len, out, sizeof out);
      check(n >= kMinFrameLen && n <= kMaxFrameLen);
      Ipv4View ip;
      UdpView u;
      check(parse_ipv4(out + kEthHeaderLen, n - kEthHeaderLen, ip) == DropCause::kNone);
      check(parse_udp(ip.payload, ip.payload_len, ip.src, ip.dst, u) == DropCause::kNone);
      check(u.payload_len == v.udp.payload_len && memcmp(u.payload, v.udp.payload, u.payload_len) == 0);
      break;
    }
    case Verdict::Kind::kReply:
      check(v.reply_len <= cap && v.reply_len >= kMinFrameLen);
      check_reply(reply, v.reply_len);
      break;
    case Verdict::Kind::kConsumed: break;
    case Verdict::Kind::kDrop: check(v.cause != DropCause::kNone && stack.counters().dropped(v.cause) == 1); break;
  }
  free(reply);
  free(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_one(data, size, false);
  run_one(data, size, true);
  return 0;
}

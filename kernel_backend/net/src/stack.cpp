// One interface's receive path and replies (see stack.hpp). Freestanding.
#include "edgeos/net/stack.hpp"

namespace edgeos::net {

// --- ARP cache -----------------------------------------------------------------------------------

bool ArpCache::lookup(uint32_t ip, MacAddress& mac) const {
  for (const Entry& e : entries_) {
    if (e.stamp != 0 && e.ip == ip) {
      mac = e.mac;
      return true;
    }
  }
  return false;
}

bool ArpCache::refresh(uint32_t ip, const MacAddress& mac) {
  for (Entry& e : entries_) {
    if (e.stamp != 0 && e.ip == ip) {
      e.mac = mac;
      e.stamp = ++updates_;
      return true;
    }
  }
  return false;
}

void ArpCache::insert(uint32_t ip, const MacAddress& mac) {
  if (refresh(ip, mac)) return;
  // A free entry (stamp 0) is the oldest of all.
  Entry* victim = &entries_[0];
  for (Entry& e : entries_) {
    if (e.stamp < victim->stamp) victim = &e;
  }
  victim->ip = ip;
  victim->mac = mac;
  victim->stamp = ++updates_;
}

size_t ArpCache::size() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.stamp != 0 ? 1 : 0;
  return n;
}

void ArpCache::clear() {
  for (Entry& e : entries_) e = Entry{};
}

// --- the stack -----------------------------------------------------------------------------------

const char* verdict_kind_name(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::kDeliver: return "deliver";
    case Verdict::Kind::kReply: return "reply";
    case Verdict::Kind::kConsumed: return "consumed";
    case Verdict::Kind::kDrop: return "drop";
  }
  return "unknown";
}

namespace {

Verdict drop(DropCause cause) {
  Verdict v;
  v.kind = Verdict::Kind::kDrop;
  v.cause = cause;
  return v;
}

Verdict reply_of(size_t len) {
  Verdict v;
  v.kind = Verdict::Kind::kReply;
  v.reply_len = len;
  return v;
}

// Sources RFC 1122 §3.2.1.3 says a host must discard datagrams from, since no reply could go
// back to them: "this network" (0/8, which includes 0.0.0.0), loopback (127/8), multicast
// (224/4) and the limited broadcast.
bool is_bad_source(uint32_t ip) {
  const uint32_t top = ip >> 24;
  return top == 0 || top == 127 || (top & 0xf0) == 224 || ip == 0xffffffff;
}

void write_ethernet(uint8_t* out, const MacAddress& dst, const MacAddress& src, uint16_t ethertype) {
  dst.store(out);
  src.store(out + 6);
  store_be16(out + 12, ethertype);
}

size_t pad(uint8_t* frame, size_t len) {
  if (len >= kMinFrameLen) return len;
  __builtin_memset(frame + len, 0, kMinFrameLen - len);
  return kMinFrameLen;
}

}  // namespace

Verdict Stack::receive(const uint8_t* frame, size_t len, uint8_t* reply, size_t reply_cap) {
  ++counters_.rx_frames;
  Verdict v = classify(frame, len, reply, reply_cap);
  if (v.kind == Verdict::Kind::kDrop) ++counters_.drops[static_cast<size_t>(v.cause)];
  return v;
}

Verdict Stack::classify(const uint8_t* frame, size_t len, uint8_t* reply, size_t reply_cap) {
  EthernetView eth;
  if (const DropCause c = parse_ethernet(frame, len, eth); c != DropCause::kNone) return drop(c);
  if (eth.dst != config_.mac && !eth.dst.is_broadcast()) return drop(DropCause::kMacNotForUs);
  if (eth.src.is_group()) return drop(DropCause::kBadEthSource);
  switch (eth.ethertype) {
    case kEtherTypeArp: return on_arp(eth, reply, reply_cap);
    case kEtherTypeIpv4: return on_ipv4(eth, reply, reply_cap);
    default: return drop(DropCause::kBadEthertype);
  }
}

// RFC 826, "Packet Reception": merge the sender into the table if it is there; if we are the
// target, add it if it was not, and answer a request.
Verdict Stack::on_arp(const EthernetView& eth, uint8_t* reply, size_t reply_cap) {
  ArpView a;
  if (const DropCause c = parse_arp(eth.payload, eth.payload_len, a); c != DropCause::kNone) return drop(c);
  // Our own ARP, looped back, is not for us; our address from another MAC is a misconfigured or
  // spoofing peer, never learnt, and counted apart.
  if (a.sha == config_.mac) return drop(DropCause::kArpNotForUs);
  if (a.spa == config_.ipv4) return drop(DropCause::kArpConflict);
  const bool learnable = !is_bad_source(a.spa);
  const bool merged = learnable && arp_.refresh(a.spa, a.sha);
  if (merged) ++counters_.arp_learned;
  if (a.tpa != config_.ipv4) return drop(DropCause::kArpNotForUs);
  if (learnable && !merged) {
    arp_.insert(a.spa, a.sha);
    ++counters_.arp_learned;
  }
  if (a.op == kArpOpReply) {
    Verdict v;
    v.kind = Verdict::Kind::kConsumed;
    return v;
  }

  // The reply swaps the sender into the target fields and puts ours in the sender fields. An
  // address probe (RFC 5227, sender 0.0.0.0) for our address is answered the same way, which
  // defends it.
  const size_t len = kEthHeaderLen + kArpLen;
  if (reply == nullptr || reply_cap < (len < kMinFrameLen ? kMinFrameLen : len)) return drop(DropCause::kNoReplyRoom);
  write_ethernet(reply, a.sha, config_.mac, kEtherTypeArp);
  uint8_t* r = reply + kEthHeaderLen;
  store_be16(r, 1);
  store_be16(r + 2, kEtherTypeIpv4);
  r[4] = 6;
  r[5] = 4;
  store_be16(r + 6, kArpOpReply);
  config_.mac.store(r + 8);
  store_be32(r + 14, config_.ipv4);
  a.sha.store(r + 18);
  store_be32(r + 24, a.spa);
  ++counters_.arp_replies;
  return reply_of(pad(reply, len));
}

Verdict Stack::on_ipv4(const EthernetView& eth, uint8_t* reply, size_t reply_cap) {
  Ipv4View ip;
  if (const DropCause c = parse_ipv4(eth.payload, eth.payload_len, ip); c != DropCause::kNone) return drop(c);
  // No reassembly: a fragment, first or not, is dropped (the driver FWP has no memory to hold
  // partial datagrams, and none of the tenants' protocols needs datagrams above the MTU).
  if (ip.more_fragments || ip.fragment_offset != 0) return drop(DropCause::kIpFragment);
  if (is_bad_source(ip.src)) return drop(DropCause::kBadIpSource);
  // Only our unicast address: no broadcast or multicast reception yet.
  if (ip.dst != config_.ipv4) return drop(DropCause::kIpNotForUs);
  if (ip.options_len > 0) ++counters_.ip_options_skipped;
  switch (ip.protocol) {
    case kIpProtoIcmp: return on_icmp(eth, ip, reply, reply_cap);
    case kIpProtoUdp: return on_udp(eth, ip);
    default: return drop(DropCause::kUnknownIpProtocol);
  }
}

// RFC 792, "Echo or Echo Reply Message": the reply is the request with the addresses swapped,
// type 0, and a new checksum; identifier, sequence number and data are returned unchanged.
Verdict Stack::on_icmp(const EthernetView& eth, const Ipv4View& ip, uint8_t* reply, size_t reply_cap) {
  IcmpEchoView m;
  if (const DropCause c = parse_icmp(ip.payload, ip.payload_len, m); c != DropCause::kNone) return drop(c);
  if (m.type != kIcmpEchoRequest || m.code != 0) return drop(DropCause::kUnknownIcmp);

  // ip.payload_len is at most kMaxFrameLen - kEthHeaderLen - kIpv4MinHeaderLen (parse_ethernet
  // bounds the frame, parse_ipv4 the total length), so the reply, whose IP header has no
  // options, is never longer than the request and always fits kMaxFrameLen.
  const size_t icmp_len = ip.payload_len;
  const size_t len = kEthHeaderLen + kIpv4MinHeaderLen + icmp_len;
  if (reply == nullptr || reply_cap < (len < kMinFrameLen ? kMinFrameLen : len)) return drop(DropCause::kNoReplyRoom);
  write_ethernet(reply, eth.src, config_.mac, kEtherTypeIpv4);
  write_ipv4_header(reply + kEthHeaderLen, ip.tos, static_cast<uint16_t>(kIpv4MinHeaderLen + icmp_len), next_ip_id_++,
                    kDefaultTtl, kIpProtoIcmp, config_.ipv4, ip.src);
  uint8_t* icmp = reply + kEthHeaderLen + kIpv4MinHeaderLen;
  __builtin_memcpy(icmp, ip.payload, icmp_len);
  icmp[0] = kIcmpEchoReply;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, internet_checksum(icmp, icmp_len));
  ++counters_.icmp_echo_replies;
  return reply_of(pad(reply, len));
}

Verdict Stack::on_udp(const EthernetView& eth, const Ipv4View& ip) {
  UdpView u;
  if (const DropCause c = parse_udp(ip.payload, ip.payload_len, ip.src, ip.dst, u); c != DropCause::kNone) {
    return drop(c);
  }
  if (u.checksum == 0) ++counters_.udp_no_checksum;
  ++counters_.udp_delivered;
  Verdict v;
  v.kind = Verdict::Kind::kDeliver;
  v.udp.dst_port = u.dst_port;
  v.udp.src_ip = ip.src;
  v.udp.src_port = u.src_port;
  v.udp.src_mac = eth.src;
  v.udp.payload = u.payload;
  v.udp.payload_len = u.payload_len;
  return v;
}

size_t Stack::build_udp(const MacAddress& dst_mac, uint32_t dst_ip, uint16_t dst_port, uint16_t src_port,
                        const uint8_t* payload, size_t payload_len, uint8_t* out, size_t cap) {
  UdpEndpoints ends;
  ends.src_mac = config_.mac;
  ends.src_ip = config_.ipv4;
  ends.src_port = src_port;
  ends.dst_mac = dst_mac;
  ends.dst_ip = dst_ip;
  ends.dst_port = dst_port;
  const size_t n = build_udp_frame(ends, next_ip_id_, payload, payload_len, out, cap);
  if (n != 0) ++next_ip_id_;
  return n;
}

size_t Stack::build_udp_reply(const UdpDelivery& to, const uint8_t* payload, size_t payload_len, uint8_t* out,
                              size_t cap) {
  return build_udp(to.src_mac, to.src_ip, to.src_port, to.dst_port, payload, payload_len, out, cap);
}

}  // namespace edgeos::net

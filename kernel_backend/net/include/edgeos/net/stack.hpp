// The packet stack of one interface, as the driver FWP runs it: one received frame in, one verdict
// out. UDP datagrams for us are handed back for the driver to demultiplex by port and copy into
// the owning tenant's RX ring; ARP requests for our address and ICMP echo requests are answered
// with a frame the stack writes into a buffer the caller gives (for the driver's TX queue);
// everything else is dropped and counted by cause.
//
// State is fixed-size (the counters, a small ARP cache, the IP identification of the next
// datagram we send), with no heap and no clock: the driver owns time. Freestanding, as packet.hpp.
//
//   Stack stack({.mac = our_mac, .ipv4 = ipv4(10, 0, 2, 15)});
//   uint8_t reply[kMaxFrameLen];
//   Verdict v = stack.receive(rx_frame, rx_len, reply, sizeof reply);
//   switch (v.kind) {
//     case Verdict::Kind::kDeliver: /* v.udp.dst_port selects the tenant; copy v.udp.payload */ break;
//     case Verdict::Kind::kReply: /* transmit reply[0 .. v.reply_len) */ break;
//     default: break;  // kConsumed, kDrop (v.cause; already counted)
//   }
//   // A tenant's answer to a delivered datagram, back to its sender:
//   size_t n = stack.build_udp_reply(v.udp, tenant_data, tenant_len, tx_frame, sizeof tx_frame);
#pragma once
#include "edgeos/net/packet.hpp"

namespace edgeos::net {

struct StackConfig {
  MacAddress mac;
  uint32_t ipv4 = 0;  // host byte order
};

// What the stack saw. drops is indexed by DropCause (kNone is never counted).
struct Counters {
  uint64_t rx_frames = 0;           // every frame given to receive()
  uint64_t udp_delivered = 0;       // kDeliver verdicts
  uint64_t udp_no_checksum = 0;     // of those, sent with checksum 0 (not verified, RFC 768)
  uint64_t ip_options_skipped = 0;  // datagrams accepted with options we ignored
  uint64_t arp_replies = 0;         // ARP replies written
  uint64_t arp_learned = 0;         // cache entries added or refreshed from ARP traffic
  uint64_t icmp_echo_replies = 0;   // echo replies written
  uint64_t drops[kDropCauseCount] = {};

  uint64_t dropped(DropCause c) const { return drops[static_cast<size_t>(c)]; }
  uint64_t total_drops() const {
    uint64_t n = 0;
    for (uint64_t d : drops) n += d;
    return n;
  }
};

// IPv4 -> MAC translations learned from ARP (RFC 826), in a fixed table. Entries do not expire
// (the stack has no clock); when the table is full the least recently updated entry is replaced.
// FIXME: no aging, so a peer that changes its MAC without ARPing is unreachable until it ARPs; the
// driver may clear() the cache on its own timer.
class ArpCache {
 public:
  static constexpr size_t kEntries = 16;

  // True and the MAC if ip is known.
  bool lookup(uint32_t ip, MacAddress& mac) const;
  // Adds ip -> mac, or updates ip's entry.
  void insert(uint32_t ip, const MacAddress& mac);
  // Updates ip's entry if there is one (RFC 826's merge step); false if ip is unknown.
  bool refresh(uint32_t ip, const MacAddress& mac);
  size_t size() const;
  void clear();

 private:
  struct Entry {
    uint32_t ip = 0;
    MacAddress mac;
    uint64_t stamp = 0;  // 0: free; else when it was last written, in updates_ ticks
  };
  Entry entries_[kEntries];
  uint64_t updates_ = 0;
};

// Where a delivered UDP datagram came from and what it carries. payload points into the frame
// given to receive(), so it is valid only as long as that frame is.
struct UdpDelivery {
  uint16_t dst_port = 0;  // ours: selects the tenant
  uint32_t src_ip = 0;
  uint16_t src_port = 0;
  MacAddress src_mac;  // the frame's Ethernet source: where a reply goes, no ARP needed
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
};

struct Verdict {
  enum class Kind : uint8_t {
    kDeliver,   // a UDP datagram for us: udp
    kReply,     // reply_len bytes to transmit were written to the caller's buffer
    kConsumed,  // for us and handled, nothing to send (an ARP reply that filled the cache)
    kDrop,      // cause says why; counted
  };
  Kind kind = Kind::kDrop;
  DropCause cause = DropCause::kNone;
  UdpDelivery udp;
  size_t reply_len = 0;
};

class Stack {
 public:
  explicit Stack(const StackConfig& config) : config_(config) {}

  // Handles one received frame of len bytes (without FCS). A reply (ARP reply, ICMP echo reply) is
  // written to reply, which has room for reply_cap bytes (kMaxFrameLen is always enough) and must
  // not overlap frame; if it does not fit, the frame is dropped as kNoReplyRoom. Never reads
  // frame beyond len, whatever its length fields say.
  Verdict receive(const uint8_t* frame, size_t len, uint8_t* reply, size_t reply_cap);

  // A UDP frame from us (source port to.dst_port) back to the sender of a delivered datagram.
  // Returns the frame's length, or 0 if payload_len exceeds kMaxUdpPayload or cap is short.
  size_t build_udp_reply(const UdpDelivery& to, const uint8_t* payload, size_t payload_len, uint8_t* out, size_t cap);
  // A UDP frame from our src_port to any peer whose MAC the caller knows (see arp_cache()).
  size_t build_udp(const MacAddress& dst_mac, uint32_t dst_ip, uint16_t dst_port, uint16_t src_port,
                   const uint8_t* payload, size_t payload_len, uint8_t* out, size_t cap);

  const StackConfig& config() const { return config_; }
  const Counters& counters() const { return counters_; }
  ArpCache& arp_cache() { return arp_; }
  const ArpCache& arp_cache() const { return arp_; }

 private:
  Verdict classify(const uint8_t* frame, size_t len, uint8_t* reply, size_t reply_cap);
  Verdict on_arp(const EthernetView& eth, uint8_t* reply, size_t reply_cap);
  Verdict on_ipv4(const EthernetView& eth, uint8_t* reply, size_t reply_cap);
  Verdict on_icmp(const EthernetView& eth, const Ipv4View& ip, uint8_t* reply, size_t reply_cap);
  Verdict on_udp(const EthernetView& eth, const Ipv4View& ip);

  StackConfig config_;
  Counters counters_;
  ArpCache arp_;
  uint16_t next_ip_id_ = 0;  // identification of the next datagram we originate
};

// The name of a verdict kind ("deliver", "reply", "consumed", "drop").
const char* verdict_kind_name(Verdict::Kind kind);

}  // namespace edgeos::net

// The stack's verdicts, replies, counters and ARP cache, on hand-written frames.
#include "edgeos/net/stack.hpp"

#include <gtest/gtest.h>

#include "frames.hpp"

namespace edgeos::net {
namespace {

using namespace test;

class StackTest : public ::testing::Test {
 protected:
  Verdict feed(const std::vector<uint8_t>& f, size_t cap = kMaxFrameLen) {
    reply_.assign(cap, 0xee);
    return stack_.receive(f.data(), f.size(), reply_.data(), cap);
  }
  Verdict feed_expect_drop(const std::vector<uint8_t>& f, DropCause cause) {
    const uint64_t before = stack_.counters().dropped(cause);
    const Verdict v = feed(f);
    EXPECT_EQ(v.kind, Verdict::Kind::kDrop);
    EXPECT_EQ(v.cause, cause) << drop_cause_name(v.cause) << " instead of " << drop_cause_name(cause);
    EXPECT_EQ(stack_.counters().dropped(cause), before + 1);
    return v;
  }
  std::vector<uint8_t> reply_bytes(const Verdict& v) const { return {reply_.begin(), reply_.begin() + v.reply_len}; }

  Stack stack_{StackConfig{kOurMac, kOurIp}};
  std::vector<uint8_t> reply_;
};

TEST_F(StackTest, AnswersArpRequestForUs) {
  const Verdict v = feed(arp_request());
  ASSERT_EQ(v.kind, Verdict::Kind::kReply);
  // The reply, written out by hand, then padded with zeros to 60 bytes.
  std::vector<uint8_t> want = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,  // to the peer
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,                                      // reply
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x02, 0x0f,                          // sender: us
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x02, 0x02,                          // target: the peer
  };
  want.resize(kMinFrameLen, 0);
  EXPECT_EQ(reply_bytes(v), want);
  EXPECT_EQ(stack_.counters().arp_replies, 1u);
  MacAddress mac;
  ASSERT_TRUE(stack_.arp_cache().lookup(kPeerIp, mac));  // RFC 826: the requester is learnt
  EXPECT_EQ(mac, kPeerMac);
}

TEST_F(StackTest, ArpForSomeoneElseIsDroppedButRefreshesKnownSender) {
  auto other = arp_request();
  other[41] = 0x63;  // target 10.0.2.99
  feed_expect_drop(other, DropCause::kArpNotForUs);
  EXPECT_EQ(stack_.arp_cache().size(), 0u);  // not learnt: we were not the target

  ASSERT_EQ(feed(arp_request()).kind, Verdict::Kind::kReply);
  auto moved = other;
  moved[11] = moved[27] = 0x22;  // the peer now has 02:00:00:00:00:22
  feed_expect_drop(moved, DropCause::kArpNotForUs);
  MacAddress mac;
  ASSERT_TRUE(stack_.arp_cache().lookup(kPeerIp, mac));
  EXPECT_EQ(mac.bytes[5], 0x22);  // but merged (RFC 826)
}

TEST_F(StackTest, ArpReplyToUsFillsCache) {
  auto r = arp_request();
  r[0] = 0x02, r[1] = 0, r[2] = 0, r[3] = 0, r[4] = 0, r[5] = 0x01;  // unicast to us
  r[21] = 2;                                                         // reply
  for (int i = 0; i < 6; ++i) r[32 + i] = kOurMac.bytes[i];
  const Verdict v = feed(r);
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  MacAddress mac;
  EXPECT_TRUE(stack_.arp_cache().lookup(kPeerIp, mac));
  EXPECT_EQ(stack_.counters().arp_learned, 1u);
  EXPECT_EQ(stack_.counters().total_drops(), 0u);
}

TEST_F(StackTest, ArpConflictsProbesAndLoops) {
  auto conflict = arp_request();  // a gratuitous ARP claiming our address
  conflict[31] = 0x0f;
  feed_expect_drop(conflict, DropCause::kArpConflict);
  MacAddress mac;
  EXPECT_FALSE(stack_.arp_cache().lookup(kOurIp, mac));

  auto probe = arp_request();  // RFC 5227 probe for our address: answered, sender not learnt
  probe[28] = probe[29] = probe[30] = probe[31] = 0;
  const Verdict v = feed(probe);
  ASSERT_EQ(v.kind, Verdict::Kind::kReply);
  EXPECT_EQ(load_be32(reply_.data() + 38), 0u);  // target protocol address 0.0.0.0
  EXPECT_EQ(stack_.arp_cache().size(), 0u);

  auto ours = arp_request();  // our own request, looped back
  for (int i = 0; i < 6; ++i) ours[6 + i] = ours[22 + i] = kOurMac.bytes[i];
  feed_expect_drop(ours, DropCause::kArpNotForUs);
}

TEST_F(StackTest, ArpMalformedAndTruncated) {
  auto f = arp_request();
  f.resize(41);
  feed_expect_drop(f, DropCause::kArpMalformed);
}

TEST_F(StackTest, AnswersEchoRequest) {
  const auto req = echo_request();
  const Verdict v = feed(req);
  ASSERT_EQ(v.kind, Verdict::Kind::kReply);
  // Ethernet and IP swapped, a fresh header (our identification 0, DF, TTL 64), type 0, the same
  // id, sequence and data. Checksums from the reference function.
  // clang-format off
  std::vector<uint8_t> want = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
      0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
      0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02,
      0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64,
  };
  // clang-format on
  const uint16_t ip_sum = ref_checksum({want.begin() + 14, want.begin() + 34});
  want[24] = static_cast<uint8_t>(ip_sum >> 8);
  want[25] = static_cast<uint8_t>(ip_sum);
  const uint16_t icmp_sum = ref_checksum({want.begin() + 34, want.end()});
  want[36] = static_cast<uint8_t>(icmp_sum >> 8);
  want[37] = static_cast<uint8_t>(icmp_sum);
  want.resize(kMinFrameLen, 0);
  EXPECT_EQ(reply_bytes(v), want);
  EXPECT_EQ(stack_.counters().icmp_echo_replies, 1u);

  // The next datagram we originate has the next identification.
  const Verdict again = feed(req);
  ASSERT_EQ(again.kind, Verdict::Kind::kReply);
  EXPECT_EQ(load_be16(reply_.data() + 18), 1);
}

TEST_F(StackTest, EchoReplyOfFullSizeRequestWithOptionsFits) {
  // 1480 bytes of ICMP behind a header with 8 bytes of options: a 1522-byte frame is too long,
  // so take 1472 bytes of ICMP, a 1514-byte frame; the reply drops the options: 1506 bytes.
  std::vector<uint8_t> f = echo_request();
  f.resize(14 + 20 + 1472);
  for (size_t i = 46; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i);
  f[36] = f[37] = 0;
  const uint16_t icmp_sum = ref_checksum({f.begin() + 34, f.end()});
  f[36] = static_cast<uint8_t>(icmp_sum >> 8);
  f[37] = static_cast<uint8_t>(icmp_sum);
  set_ip_total_length(f, static_cast<uint16_t>(f.size() - 14));
  f = with_ip_options(f, {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00});
  ASSERT_EQ(f.size(), kMaxFrameLen);
  const Verdict v = feed(f);
  ASSERT_EQ(v.kind, Verdict::Kind::kReply) << drop_cause_name(v.cause);
  EXPECT_EQ(v.reply_len, kMaxFrameLen - 8);
  EXPECT_EQ(stack_.counters().ip_options_skipped, 1u);
  EXPECT_EQ(internet_checksum(reply_.data() + 34, v.reply_len - 34), 0);
  EXPECT_EQ(std::vector<uint8_t>(reply_.begin() + 42, reply_.begin() + static_cast<std::ptrdiff_t>(v.reply_len)),
            std::vector<uint8_t>(f.begin() + 50, f.end()));

  // Exactly room, and one byte less.
  EXPECT_EQ(feed(f, kMaxFrameLen - 8).kind, Verdict::Kind::kReply);
  reply_.assign(kMaxFrameLen - 9, 0);
  const Verdict short_of_room = stack_.receive(f.data(), f.size(), reply_.data(), reply_.size());
  EXPECT_EQ(short_of_room.cause, DropCause::kNoReplyRoom);
  EXPECT_EQ(stack_.receive(f.data(), f.size(), nullptr, 0).cause, DropCause::kNoReplyRoom);
}

TEST_F(StackTest, IcmpDrops) {
  auto reply_type = echo_request();  // an echo reply: we never asked
  reply_type[34] = 0;
  reply_type[36] += 8;  // keep the checksum right: the type byte lost 8 in the high half
  feed_expect_drop(reply_type, DropCause::kUnknownIcmp);
  auto code1 = echo_request();
  code1[35] = 1;
  code1[37] -= 1;
  feed_expect_drop(code1, DropCause::kUnknownIcmp);
  auto bad_sum = echo_request();
  bad_sum[45] ^= 1;
  feed_expect_drop(bad_sum, DropCause::kBadIcmpChecksum);
  auto short_icmp = echo_request();
  set_ip_total_length(short_icmp, 27);
  feed_expect_drop(short_icmp, DropCause::kBadIcmpLength);
}

TEST_F(StackTest, DeliversUdp) {
  const auto f = udp_hello();
  const Verdict v = feed(f);
  ASSERT_EQ(v.kind, Verdict::Kind::kDeliver);
  EXPECT_EQ(v.udp.dst_port, 7);
  EXPECT_EQ(v.udp.src_ip, kPeerIp);
  EXPECT_EQ(v.udp.src_port, 40000);
  EXPECT_EQ(v.udp.src_mac, kPeerMac);
  EXPECT_EQ(v.udp.payload, f.data() + 42);
  EXPECT_EQ(v.udp.payload_len, 5u);
  EXPECT_EQ(stack_.counters().udp_delivered, 1u);
  EXPECT_EQ(stack_.counters().udp_no_checksum, 0u);

  // The tenant's answer goes back where the datagram came from.
  uint8_t out[kMaxFrameLen];
  const uint8_t answer[] = {'w', 'o', 'r', 'l', 'd', '!'};
  const size_t n = stack_.build_udp_reply(v.udp, answer, sizeof answer, out, sizeof out);
  ASSERT_EQ(n, kMinFrameLen);
  EXPECT_EQ(MacAddress::load(out), kPeerMac);
  EXPECT_EQ(MacAddress::load(out + 6), kOurMac);
  std::vector<uint8_t> ip_header(out + 14, out + 34);
  EXPECT_EQ(ref_checksum(ip_header), 0);
  EXPECT_EQ(load_be32(out + 26), kOurIp);
  EXPECT_EQ(load_be32(out + 30), kPeerIp);
  EXPECT_EQ(load_be16(out + 34), 7);
  EXPECT_EQ(load_be16(out + 36), 40000);
  EXPECT_EQ(load_be16(out + 38), 14);
  std::vector<uint8_t> pseudo = {10, 0, 2, 15, 10, 0, 2, 2, 0, 17, 0, 14};
  pseudo.insert(pseudo.end(), out + 34, out + 48);
  EXPECT_EQ(ref_checksum(pseudo), 0);
  EXPECT_EQ(std::vector<uint8_t>(out + 42, out + 48), std::vector<uint8_t>(answer, answer + 6));
  EXPECT_EQ(stack_.build_udp_reply(v.udp, answer, sizeof answer, out, 59), 0u);
}

TEST_F(StackTest, UdpWithoutChecksumAndWithOptions) {
  auto f = udp_hello();
  f[40] = f[41] = 0;
  ASSERT_EQ(feed(f).kind, Verdict::Kind::kDeliver);
  EXPECT_EQ(stack_.counters().udp_no_checksum, 1u);
  const auto opts = with_ip_options(udp_hello(), {0x94, 0x04, 0x00, 0x00});
  const Verdict v = feed(opts);
  ASSERT_EQ(v.kind, Verdict::Kind::kDeliver);
  EXPECT_EQ(v.udp.payload, opts.data() + 46);
  EXPECT_EQ(stack_.counters().ip_options_skipped, 1u);
}

TEST_F(StackTest, UdpDrops) {
  auto bad_sum = udp_hello();
  bad_sum[46] ^= 0x40;
  feed_expect_drop(bad_sum, DropCause::kBadUdpChecksum);
  auto bad_len = udp_hello();
  bad_len[39] = 14;
  feed_expect_drop(bad_len, DropCause::kBadUdpLength);
  auto short_ip = udp_hello();  // the IP datagram ends inside the UDP header
  set_ip_total_length(short_ip, 27);
  feed_expect_drop(short_ip, DropCause::kBadUdpLength);
}

TEST_F(StackTest, EthernetDrops) {
  feed_expect_drop({}, DropCause::kRunt);
  feed_expect_drop(std::vector<uint8_t>(13, 0xff), DropCause::kRunt);
  auto big = udp_hello();
  big.resize(kMaxFrameLen + 1);
  feed_expect_drop(big, DropCause::kTooLong);
  auto other_mac = udp_hello();
  other_mac[5] = 0x09;
  feed_expect_drop(other_mac, DropCause::kMacNotForUs);
  auto multicast = udp_hello();  // 01:00:5e:00:00:01
  multicast[0] = 0x01, multicast[1] = 0x00, multicast[2] = 0x5e, multicast[3] = 0, multicast[4] = 0, multicast[5] = 1;
  feed_expect_drop(multicast, DropCause::kMacNotForUs);
  auto group_src = udp_hello();
  group_src[6] = 0x03;
  feed_expect_drop(group_src, DropCause::kBadEthSource);
  for (uint16_t type : {0x86dd, 0x8100, 0x88cc, 0x0040}) {  // IPv6, 802.1Q, LLDP, an 802.3 length
    auto f = udp_hello();
    f[12] = static_cast<uint8_t>(type >> 8);
    f[13] = static_cast<uint8_t>(type);
    feed_expect_drop(f, DropCause::kBadEthertype);
  }
  // Broadcast to our IP is fine.
  auto bcast = udp_hello();
  for (int i = 0; i < 6; ++i) bcast[i] = 0xff;
  EXPECT_EQ(feed(bcast).kind, Verdict::Kind::kDeliver);
}

TEST_F(StackTest, Ipv4Drops) {
  auto frag = udp_hello();
  frag[20] = 0x20;  // first fragment
  fix_ip_checksum(frag);
  feed_expect_drop(frag, DropCause::kIpFragment);
  auto last = udp_hello();
  last[20] = 0x00, last[21] = 0xb9;  // last fragment, offset 185 * 8
  fix_ip_checksum(last);
  feed_expect_drop(last, DropCause::kIpFragment);

  for (uint32_t src : {ipv4(0, 0, 0, 0), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 1), ipv4(255, 255, 255, 255)}) {
    auto f = udp_hello();
    store_be32(f.data() + 26, src);
    fix_ip_checksum(f);
    feed_expect_drop(f, DropCause::kBadIpSource);
  }
  for (uint32_t dst : {ipv4(10, 0, 2, 16), ipv4(255, 255, 255, 255), ipv4(10, 0, 2, 255)}) {
    auto f = udp_hello();
    store_be32(f.data() + 30, dst);
    fix_ip_checksum(f);
    feed_expect_drop(f, DropCause::kIpNotForUs);
  }
  auto tcp = udp_hello();
  tcp[23] = 6;
  fix_ip_checksum(tcp);
  feed_expect_drop(tcp, DropCause::kUnknownIpProtocol);
  auto bad = udp_hello();
  bad[24] ^= 0xff;
  feed_expect_drop(bad, DropCause::kBadIpChecksum);
  feed_expect_drop(with_ip_options(udp_hello(), {0x83, 0x03, 0x04, 0x00}), DropCause::kIpSourceRoute);
  feed_expect_drop(with_ip_options(udp_hello(), {0x07, 0x09, 0x04, 0x00}), DropCause::kBadIpOptions);
  auto trunc = udp_hello();
  trunc.resize(14 + 19);
  feed_expect_drop(trunc, DropCause::kIpTruncated);
}

TEST_F(StackTest, CountersAddUp) {
  feed(arp_request());
  feed(echo_request());
  feed(udp_hello());
  feed({});
  const Counters& c = stack_.counters();
  EXPECT_EQ(c.rx_frames, 4u);
  EXPECT_EQ(c.arp_replies + c.icmp_echo_replies + c.udp_delivered + c.total_drops(), 4u);
  EXPECT_EQ(c.dropped(DropCause::kNone), 0u);
}

TEST(ArpCache, EvictsLeastRecentlyUpdated) {
  ArpCache cache;
  MacAddress mac;
  for (uint32_t i = 0; i < ArpCache::kEntries; ++i)
    cache.insert(ipv4(10, 0, 0, static_cast<uint8_t>(i)), MacAddress{{2, 0, 0, 0, 0, static_cast<uint8_t>(i)}});
  EXPECT_EQ(cache.size(), ArpCache::kEntries);
  EXPECT_TRUE(cache.refresh(ipv4(10, 0, 0, 0), MacAddress{{2, 0, 0, 0, 0, 0x80}}));  // 10.0.0.0 is now the newest
  cache.insert(ipv4(10, 0, 1, 0), MacAddress{{2, 0, 0, 0, 1, 0}});                   // evicts 10.0.0.1
  EXPECT_EQ(cache.size(), ArpCache::kEntries);
  EXPECT_FALSE(cache.lookup(ipv4(10, 0, 0, 1), mac));
  ASSERT_TRUE(cache.lookup(ipv4(10, 0, 0, 0), mac));
  EXPECT_EQ(mac.bytes[5], 0x80);
  EXPECT_TRUE(cache.lookup(ipv4(10, 0, 1, 0), mac));
  EXPECT_FALSE(cache.refresh(ipv4(10, 9, 9, 9), mac));
  cache.insert(ipv4(10, 0, 1, 0), MacAddress{{2, 0, 0, 0, 1, 1}});  // an update, no eviction
  EXPECT_TRUE(cache.lookup(ipv4(10, 0, 0, 2), mac));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.lookup(ipv4(10, 0, 1, 0), mac));
}

}  // namespace
}  // namespace edgeos::net

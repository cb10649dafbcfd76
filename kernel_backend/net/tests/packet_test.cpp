// Parsers and builders on hand-written frames: every field, every length check.
#include <gtest/gtest.h>

#include "frames.hpp"

namespace edgeos::net {
namespace {

using namespace test;

TEST(Ethernet, ParsesHeaderAndBoundsLength) {
  const auto f = arp_request();
  EthernetView eth;
  ASSERT_EQ(parse_ethernet(f.data(), f.size(), eth), DropCause::kNone);
  EXPECT_TRUE(eth.dst.is_broadcast());
  EXPECT_EQ(eth.src, kPeerMac);
  EXPECT_EQ(eth.ethertype, kEtherTypeArp);
  EXPECT_EQ(eth.payload, f.data() + 14);
  EXPECT_EQ(eth.payload_len, 28u);

  EXPECT_EQ(parse_ethernet(f.data(), 13, eth), DropCause::kRunt);
  EXPECT_EQ(parse_ethernet(f.data(), 0, eth), DropCause::kRunt);
  EXPECT_EQ(parse_ethernet(f.data(), 14, eth), DropCause::kNone);
  EXPECT_EQ(eth.payload_len, 0u);
  std::vector<uint8_t> big(kMaxFrameLen + 1);
  EXPECT_EQ(parse_ethernet(big.data(), big.size(), eth), DropCause::kTooLong);
  EXPECT_EQ(parse_ethernet(big.data(), kMaxFrameLen, eth), DropCause::kNone);
}

TEST(Arp, ParsesRequest) {
  const auto f = arp_request();
  ArpView a;
  ASSERT_EQ(parse_arp(f.data() + 14, 28, a), DropCause::kNone);
  EXPECT_EQ(a.op, kArpOpRequest);
  EXPECT_EQ(a.sha, kPeerMac);
  EXPECT_EQ(a.spa, kPeerIp);
  EXPECT_TRUE(a.tha.is_zero());
  EXPECT_EQ(a.tpa, kOurIp);
}

TEST(Arp, RejectsWhatIsNotEthernetIpv4) {
  const auto good = arp_request();
  ArpView a;
  EXPECT_EQ(parse_arp(good.data() + 14, 27, a), DropCause::kArpMalformed);
  const struct {
    size_t offset;
    uint8_t value;
  } bad[] = {
      {14 + 1, 6},     // hardware type 6 (IEEE 802)
      {14 + 2, 0x86},  // protocol 0x86dd
      {14 + 4, 8},     // hardware length
      {14 + 5, 16},    // protocol length
      {14 + 7, 3},     // RARP request operation
      {14 + 7, 0},     // operation 0
      {14 + 8, 0x01},  // multicast sender MAC
  };
  for (const auto& b : bad) {
    auto f = good;
    f[b.offset] = b.value;
    EXPECT_EQ(parse_arp(f.data() + 14, 28, a), DropCause::kArpMalformed) << "offset " << b.offset;
  }
  auto zero_sender = good;
  for (size_t i = 22; i < 28; ++i) zero_sender[i] = 0;
  EXPECT_EQ(parse_arp(zero_sender.data() + 14, 28, a), DropCause::kArpMalformed);
}

TEST(Ipv4, ParsesHeader) {
  const auto f = udp_hello();
  Ipv4View ip;
  ASSERT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kNone);
  EXPECT_EQ(ip.header_len, 20u);
  EXPECT_EQ(ip.total_len, 33);
  EXPECT_EQ(ip.id, 0x1c47);
  EXPECT_TRUE(ip.dont_fragment);
  EXPECT_FALSE(ip.more_fragments);
  EXPECT_EQ(ip.fragment_offset, 0);
  EXPECT_EQ(ip.ttl, 64);
  EXPECT_EQ(ip.protocol, kIpProtoUdp);
  EXPECT_EQ(ip.src, kPeerIp);
  EXPECT_EQ(ip.dst, kOurIp);
  EXPECT_EQ(ip.payload, f.data() + 34);
  EXPECT_EQ(ip.payload_len, 13u);
}

TEST(Ipv4, EthernetPaddingIsNotPayload) {
  auto f = udp_hello();
  f.resize(60, 0);  // padded to the minimum frame
  Ipv4View ip;
  ASSERT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kNone);
  EXPECT_EQ(ip.payload_len, 13u);
}

TEST(Ipv4, HeaderChecks) {
  const auto good = udp_hello();
  Ipv4View ip;
  EXPECT_EQ(parse_ipv4(good.data() + 14, 19, ip), DropCause::kIpTruncated);

  auto v6 = good;
  v6[14] = 0x65;
  fix_ip_checksum(v6);
  EXPECT_EQ(parse_ipv4(v6.data() + 14, v6.size() - 14, ip), DropCause::kBadIpVersion);

  auto ihl4 = good;
  ihl4[14] = 0x44;
  EXPECT_EQ(parse_ipv4(ihl4.data() + 14, ihl4.size() - 14, ip), DropCause::kBadIpIhl);

  auto ihl15 = good;  // a 60-byte header in a 33-byte datagram
  ihl15[14] = 0x4f;
  EXPECT_EQ(parse_ipv4(ihl15.data() + 14, ihl15.size() - 14, ip), DropCause::kIpTruncated);

  auto bad_sum = good;
  bad_sum[24] ^= 0x01;
  EXPECT_EQ(parse_ipv4(bad_sum.data() + 14, bad_sum.size() - 14, ip), DropCause::kBadIpChecksum);

  auto ttl = good;  // any header change without the checksum's
  ttl[22] = 63;
  EXPECT_EQ(parse_ipv4(ttl.data() + 14, ttl.size() - 14, ip), DropCause::kBadIpChecksum);

  auto too_long = good;
  set_ip_total_length(too_long, 34);  // one byte more than the frame has
  EXPECT_EQ(parse_ipv4(too_long.data() + 14, too_long.size() - 14, ip), DropCause::kBadIpTotalLength);
  auto too_short = good;
  set_ip_total_length(too_short, 19);
  EXPECT_EQ(parse_ipv4(too_short.data() + 14, too_short.size() - 14, ip), DropCause::kBadIpTotalLength);
  auto header_only = good;
  set_ip_total_length(header_only, 20);
  ASSERT_EQ(parse_ipv4(header_only.data() + 14, header_only.size() - 14, ip), DropCause::kNone);
  EXPECT_EQ(ip.payload_len, 0u);
}

TEST(Ipv4, FragmentFieldsAreReported) {
  auto f = udp_hello();
  f[20] = 0x20;  // MF, offset 0
  f[21] = 0x00;
  fix_ip_checksum(f);
  Ipv4View ip;
  ASSERT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kNone);
  EXPECT_TRUE(ip.more_fragments);
  EXPECT_FALSE(ip.dont_fragment);
  f[20] = 0x01;  // offset 0x123 units
  f[21] = 0x23;
  fix_ip_checksum(f);
  ASSERT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kNone);
  EXPECT_FALSE(ip.more_fragments);
  EXPECT_EQ(ip.fragment_offset, 0x123);
}

TEST(Ipv4, OptionsAreSkipped) {
  // Record Route with room for one address (type 7, length 7, pointer 4), then End of List.
  const auto f = with_ip_options(udp_hello(), {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00});
  Ipv4View ip;
  ASSERT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kNone);
  EXPECT_EQ(ip.header_len, 28u);
  EXPECT_EQ(ip.options_len, 8u);
  EXPECT_EQ(ip.payload, f.data() + 42);
  EXPECT_EQ(ip.payload_len, 13u);
  // NOPs and a Router Alert (RFC 2113: type 148, length 4).
  const auto ra = with_ip_options(udp_hello(), {0x01, 0x01, 0x01, 0x01, 0x94, 0x04, 0x00, 0x00});
  EXPECT_EQ(parse_ipv4(ra.data() + 14, ra.size() - 14, ip), DropCause::kNone);
  // After End of List, anything.
  const auto eol = with_ip_options(udp_hello(), {0x00, 0x83, 0xff, 0x00});
  EXPECT_EQ(parse_ipv4(eol.data() + 14, eol.size() - 14, ip), DropCause::kNone);
}

TEST(Ipv4, MalformedOptionsAndSourceRoutesAreDropped) {
  Ipv4View ip;
  const std::vector<std::vector<uint8_t>> malformed = {
      {0x07, 0x00, 0x00, 0x00},  // length 0
      {0x07, 0x01, 0x00, 0x00},  // length 1
      {0x07, 0x05, 0x04, 0x00},  // length runs past the header
      {0x01, 0x01, 0x01, 0x07},  // a type with no room for its length byte
  };
  for (const auto& o : malformed) {
    const auto f = with_ip_options(udp_hello(), o);
    EXPECT_EQ(parse_ipv4(f.data() + 14, f.size() - 14, ip), DropCause::kBadIpOptions);
  }
  const auto lsrr = with_ip_options(udp_hello(), {0x83, 0x07, 0x04, 10, 0, 2, 1, 0x00});
  EXPECT_EQ(parse_ipv4(lsrr.data() + 14, lsrr.size() - 14, ip), DropCause::kIpSourceRoute);
  const auto ssrr = with_ip_options(udp_hello(), {0x01, 0x89, 0x07, 0x04, 10, 0, 2, 1});
  EXPECT_EQ(parse_ipv4(ssrr.data() + 14, ssrr.size() - 14, ip), DropCause::kIpSourceRoute);
}

TEST(Icmp, ParsesEchoRequest) {
  const auto f = echo_request();
  IcmpEchoView m;
  ASSERT_EQ(parse_icmp(f.data() + 34, 12, m), DropCause::kNone);
  EXPECT_EQ(m.type, kIcmpEchoRequest);
  EXPECT_EQ(m.code, 0);
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_EQ(m.seq, 1);
  EXPECT_EQ(m.data_len, 4u);
  EXPECT_EQ(m.data, f.data() + 42);
  EXPECT_EQ(parse_icmp(f.data() + 34, 7, m), DropCause::kBadIcmpLength);
  // The checksum covers the data: one byte fewer does not verify.
  EXPECT_EQ(parse_icmp(f.data() + 34, 11, m), DropCause::kBadIcmpChecksum);
  auto bad = f;
  bad[45] ^= 0x20;
  EXPECT_EQ(parse_icmp(bad.data() + 34, 12, m), DropCause::kBadIcmpChecksum);
}

TEST(Udp, ParsesDatagram) {
  const auto f = udp_hello();
  UdpView u;
  ASSERT_EQ(parse_udp(f.data() + 34, 13, kPeerIp, kOurIp, u), DropCause::kNone);
  EXPECT_EQ(u.src_port, 40000);
  EXPECT_EQ(u.dst_port, 7);
  EXPECT_EQ(u.length, 13);
  EXPECT_EQ(u.checksum, 0x07aa);
  EXPECT_EQ(u.payload, f.data() + 42);
  EXPECT_EQ(u.payload_len, 5u);
  // The pseudo-header counts: another source address does not verify.
  EXPECT_EQ(parse_udp(f.data() + 34, 13, kPeerIp + 1, kOurIp, u), DropCause::kBadUdpChecksum);
}

TEST(Udp, LengthChecks) {
  auto f = udp_hello();
  UdpView u;
  EXPECT_EQ(parse_udp(f.data() + 34, 7, kPeerIp, kOurIp, u), DropCause::kBadUdpLength);
  EXPECT_EQ(parse_udp(f.data() + 34, 12, kPeerIp, kOurIp, u), DropCause::kBadUdpLength);  // length 13 > 12
  f[39] = 7;                                                                              // length 7
  EXPECT_EQ(parse_udp(f.data() + 34, 13, kPeerIp, kOurIp, u), DropCause::kBadUdpLength);
  // Shorter than the IP payload: the rest is ignored (checksum off, since the sum changes).
  f[39] = 10;
  f[40] = f[41] = 0;
  ASSERT_EQ(parse_udp(f.data() + 34, 13, kPeerIp, kOurIp, u), DropCause::kNone);
  EXPECT_EQ(u.payload_len, 2u);
}

TEST(Udp, ZeroChecksumIsNotVerified) {
  auto f = udp_hello();
  f[40] = f[41] = 0;
  f[42] = 'j';  // the data changed, but nothing checks it
  UdpView u;
  ASSERT_EQ(parse_udp(f.data() + 34, 13, kPeerIp, kOurIp, u), DropCause::kNone);
  EXPECT_EQ(u.checksum, 0);
  auto bad = udp_hello();
  bad[42] = 'j';
  EXPECT_EQ(parse_udp(bad.data() + 34, 13, kPeerIp, kOurIp, u), DropCause::kBadUdpChecksum);
}

TEST(Builders, UdpFrameMatchesHandWritten) {
  // The hand-written datagram, rebuilt: identical but for the padding to 60 bytes.
  const UdpEndpoints ends{kPeerMac, kPeerIp, 40000, kOurMac, kOurIp, 7};
  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  uint8_t out[kMaxFrameLen];
  const size_t n = build_udp_frame(ends, 0x1c47, hello, sizeof hello, out, sizeof out);
  ASSERT_EQ(n, kMinFrameLen);
  const auto want = udp_hello();
  EXPECT_EQ(std::vector<uint8_t>(out, out + want.size()), want);
  for (size_t i = want.size(); i < n; ++i) EXPECT_EQ(out[i], 0) << i;
}

TEST(Builders, UdpFrameLimits) {
  const UdpEndpoints ends{kOurMac, kOurIp, 7, kPeerMac, kPeerIp, 40000};
  std::vector<uint8_t> payload(kMaxUdpPayload + 1, 0xab);
  std::vector<uint8_t> out(kMaxFrameLen + 10);
  EXPECT_EQ(build_udp_frame(ends, 0, payload.data(), payload.size(), out.data(), out.size()), 0u);
  ASSERT_EQ(build_udp_frame(ends, 0, payload.data(), kMaxUdpPayload, out.data(), out.size()), kMaxFrameLen);
  EXPECT_EQ(build_udp_frame(ends, 0, payload.data(), kMaxUdpPayload, out.data(), kMaxFrameLen - 1), 0u);
  EXPECT_EQ(build_udp_frame(ends, 0, payload.data(), 0, out.data(), kMinFrameLen - 1), 0u);
  EXPECT_EQ(build_udp_frame(ends, 0, payload.data(), 0, out.data(), kMinFrameLen), kMinFrameLen);
  // A full-size frame verifies.
  ASSERT_EQ(build_udp_frame(ends, 9, payload.data(), kMaxUdpPayload, out.data(), out.size()), kMaxFrameLen);
  Ipv4View ip;
  UdpView u;
  ASSERT_EQ(parse_ipv4(out.data() + 14, kMaxFrameLen - 14, ip), DropCause::kNone);
  EXPECT_EQ(ip.total_len, 1500);
  ASSERT_EQ(parse_udp(ip.payload, ip.payload_len, ip.src, ip.dst, u), DropCause::kNone);
  EXPECT_EQ(u.payload_len, kMaxUdpPayload);
}

TEST(Builders, ComputedZeroUdpChecksumIsSentAsOnes) {
  // Make the last data word cancel the rest of the sum: the computed checksum is then 0, which
  // RFC 768 sends as 0xffff.
  const UdpEndpoints ends{kOurMac, kOurIp, 7, kPeerMac, kPeerIp, 40000};
  uint8_t payload[6] = {1, 2, 3, 4, 0, 0};
  uint8_t out[kMaxFrameLen];
  ASSERT_NE(build_udp_frame(ends, 0, payload, sizeof payload, out, sizeof out), 0u);
  const uint16_t first = load_be16(out + 40);
  store_be16(payload + 4, first);
  ASSERT_NE(build_udp_frame(ends, 0, payload, sizeof payload, out, sizeof out), 0u);
  EXPECT_EQ(load_be16(out + 40), 0xffff);
  UdpView u;
  EXPECT_EQ(parse_udp(out + 34, 14, kOurIp, kPeerIp, u), DropCause::kNone);
  std::vector<uint8_t> pseudo = {10, 0, 2, 15, 10, 0, 2, 2, 0, 17, 0, 14};
  pseudo.insert(pseudo.end(), out + 34, out + 48);
  EXPECT_EQ(ref_checksum(pseudo), 0);
}

TEST(Builders, Ipv4HeaderAndArpRequest) {
  uint8_t h[20];
  write_ipv4_header(h, 0, 33, 0x1c47, 64, kIpProtoUdp, kPeerIp, kOurIp);
  const auto f = udp_hello();
  EXPECT_EQ(std::vector<uint8_t>(h, h + 20), std::vector<uint8_t>(f.begin() + 14, f.begin() + 34));

  uint8_t out[kMaxFrameLen];
  EXPECT_EQ(build_arp_request(kPeerMac, kPeerIp, kOurIp, out, 59), 0u);
  ASSERT_EQ(build_arp_request(kPeerMac, kPeerIp, kOurIp, out, sizeof out), kMinFrameLen);
  const auto want = arp_request();
  EXPECT_EQ(std::vector<uint8_t>(out, out + want.size()), want);
}

TEST(Names, EveryCauseHasOne) {
  for (size_t i = 0; i < kDropCauseCount; ++i) {
    const std::string name = drop_cause_name(static_cast<DropCause>(i));
    EXPECT_NE(name, "unknown") << i;
    for (size_t j = 0; j < i; ++j) EXPECT_NE(name, drop_cause_name(static_cast<DropCause>(j)));
  }
}

}  // namespace
}  // namespace edgeos::net

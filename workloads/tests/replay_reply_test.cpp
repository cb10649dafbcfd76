// edgeos replay's reply recognition and latency histogram, without DPDK: replies written here by
// hand (byte layouts from memcached's protocol.txt and RFC 7252), and quantiles against the exact
// nearest-rank quantiles of the sorted values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "edgeos/workloads/replay.hpp"

namespace edgeos::replay {
namespace {

Plan two_endpoints() {
  Plan p;
  Endpoint mc{"cache", 11211, {0x52, 0x54, 0, 0x12, 0x34, 0x56}, 0x0a00020f};
  Endpoint coap{"sensors", 5683, {0x52, 0x54, 0, 0x12, 0x34, 0x56}, 0x0a00020f};
  p.endpoints = {mc, coap};
  p.requests = {Request{Instant::epoch(), 0, 0, Protocol::kMemcached}, Request{Instant::epoch(), 1, 1, Protocol::kCoap}};
  return p;
}

// An Ethernet/IPv4/UDP frame from (ip, port) to the replayer, carrying `body`.
std::vector<uint8_t> reply_frame(uint32_t from_ip, uint16_t from_port, const std::vector<uint8_t>& body,
                                 uint16_t frag = 0x4000, uint16_t to_port = kSourcePort) {
  std::vector<uint8_t> f(14 + 20 + 8 + body.size());
  std::memcpy(f.data(), kSourceMac, 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  const size_t total = 20 + 8 + body.size();
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[6] = static_cast<uint8_t>(frag >> 8);
  ip[7] = static_cast<uint8_t>(frag);
  ip[8] = 64;
  ip[9] = 17;
  for (int i = 0; i < 4; ++i) ip[12 + i] = static_cast<uint8_t>(from_ip >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) ip[16 + i] = static_cast<uint8_t>(kSourceIpv4 >> (24 - 8 * i));
  uint8_t* udp = ip + 20;
  udp[0] = static_cast<uint8_t>(from_port >> 8);
  udp[1] = static_cast<uint8_t>(from_port);
  udp[2] = static_cast<uint8_t>(to_port >> 8);
  udp[3] = static_cast<uint8_t>(to_port);
  udp[4] = static_cast<uint8_t>((8 + body.size()) >> 8);
  udp[5] = static_cast<uint8_t>(8 + body.size());
  std::memcpy(udp + 8, body.data(), body.size());
  return f;
}

std::vector<uint8_t> bytes(std::initializer_list<int> head, const char* text = "") {
  std::vector<uint8_t> v;
  for (int b : head) v.push_back(static_cast<uint8_t>(b));
  v.insert(v.end(), text, text + std::strlen(text));
  return v;
}

TEST(ReplayReply, MemcachedMissMatchesItsRequestIdOn16Bits) {
  const Plan p = two_endpoints();
  const auto f = reply_frame(0x0a00020f, 11211, bytes({0x12, 0x34, 0, 0, 0, 1, 0, 0}, "END\r\n"));
  const auto r = parse_reply(p, f);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->endpoint, 0);
  EXPECT_EQ(r->id, 0x1234u);
  EXPECT_EQ(r->id_bits, 16);
  EXPECT_TRUE(r->valid);
  // Two datagrams of a multi-datagram answer are not an answer this replayer asked for.
  const auto multi = reply_frame(0x0a00020f, 11211, bytes({0x12, 0x34, 0, 0, 0, 2, 0, 0}, "VALUE k 0 1\r\n"));
  EXPECT_FALSE(parse_reply(p, multi)->valid);
}

TEST(ReplayReply, CoapAckCarriesTheTokenAsId) {
  const Plan p = two_endpoints();
  // ACK (T = 2), TKL 4, 2.05 Content, message id, token 0x00010203, payload marker, "22.50".
  const auto f = reply_frame(0x0a00020f, 5683, bytes({0x64, 0x45, 0xbe, 0xef, 0, 1, 2, 3, 0xff}, "22.50"));
  const auto r = parse_reply(p, f);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->endpoint, 1);
  EXPECT_EQ(r->id, 0x00010203u);
  EXPECT_EQ(r->id_bits, 32);
  EXPECT_TRUE(r->valid);
  // 4.04 is an answer too; a RST (T = 3) is not.
  EXPECT_TRUE(parse_reply(p, reply_frame(0x0a00020f, 5683, bytes({0x64, 0x84, 0, 1, 0, 0, 0, 9})))->valid);
  EXPECT_FALSE(parse_reply(p, reply_frame(0x0a00020f, 5683, bytes({0x74, 0x00, 0, 1, 0, 0, 0, 9})))->valid);
}

TEST(ReplayReply, OthersTrafficIsNotAReply) {
  const Plan p = two_endpoints();
  const auto body = bytes({0, 1, 0, 0, 0, 1, 0, 0}, "END\r\n");
  EXPECT_FALSE(parse_reply(p, reply_frame(0x0a000210, 11211, body)));           // another address
  EXPECT_FALSE(parse_reply(p, reply_frame(0x0a00020f, 11212, body)));           // another port
  EXPECT_FALSE(parse_reply(p, reply_frame(0x0a00020f, 11211, body, 0x2000)));   // a fragment (MF)
  EXPECT_FALSE(parse_reply(p, reply_frame(0x0a00020f, 11211, body, 0x4000, 9)));  // not to our port
  auto f = reply_frame(0x0a00020f, 11211, body);
  f[0] ^= 1;  // not our MAC
  EXPECT_FALSE(parse_reply(p, f));
  // Every truncation of a good reply is refused or parsed without reading past its end.
  const auto good = reply_frame(0x0a00020f, 11211, body);
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_FALSE(parse_reply(p, cut)) << n;
  }
  // Our own request, seen again on the wire, is not a reply.
  uint8_t req[kMaxFrame];
  const size_t len = frame(p.requests[0], p.endpoints[0], req);
  EXPECT_FALSE(parse_reply(p, {req, len}));
}

TEST(LatencyHistogram, QuantilesWithinOneSixtyFourthOfTheExactOnes) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // ~60 us median, long tail
  LatencyHistogram h, a, b;
  std::vector<uint64_t> v;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t x = 1 + static_cast<uint64_t>(dist(rng));
    v.push_back(x);
    h.add(x);
    (i % 2 ? a : b).add(x);
  }
  std::sort(v.begin(), v.end());
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    const uint64_t exact = v[static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1];
    const uint64_t got = h.quantile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 64)) << q;
  }
  EXPECT_EQ(h.max(), v.back());
  EXPECT_EQ(h.min(), v.front());
  a.merge(b);
  EXPECT_EQ(a.buckets(), h.buckets());
  EXPECT_EQ(a.quantile(0.99), h.quantile(0.99));
  // Small values are exact.
  LatencyHistogram s;
  for (uint64_t x : {3, 7, 63}) s.add(x);
  EXPECT_EQ(s.quantile(0.5), 7u);
  EXPECT_EQ(s.quantile(1.0), 63u);
}

}  // namespace
}  // namespace edgeos::replay

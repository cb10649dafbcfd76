// Robustness: every prefix of every valid frame, and thousands of random byte flips, go through the
// stack without reading outside the frame (each input sits in a buffer of exactly its size, so
// the sanitizer build catches any over-read) and with a consistent verdict.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "edgeos/net/stack.hpp"
#include "frames.hpp"

namespace edgeos::net {
namespace {

using namespace test;

std::vector<std::vector<uint8_t>> valid_frames() {
  std::vector<std::vector<uint8_t>> frames = {arp_request(), echo_request(), udp_hello()};
  frames.push_back(with_ip_options(udp_hello(), {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00}));
  frames.push_back(with_ip_options(echo_request(), {0x94, 0x04, 0x00, 0x00}));
  auto reply = arp_request();  // an ARP reply to us
  for (int i = 0; i < 6; ++i) reply[i] = reply[32 + i] = kOurMac.bytes[i];
  reply[21] = 2;
  frames.push_back(reply);
  // Full-size UDP from the builder.
  std::vector<uint8_t> payload(kMaxUdpPayload);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> big(kMaxFrameLen);
  const UdpEndpoints ends{kPeerMac, kPeerIp, 5683, kOurMac, kOurIp, 5683};
  big.resize(build_udp_frame(ends, 3, payload.data(), payload.size(), big.data(), big.size()));
  frames.push_back(big);
  return frames;
}

// Feeds f through the stack from an exactly-sized heap copy, and checks the verdict's invariants.
void check_one(Stack& stack, const uint8_t* data, size_t len, size_t reply_cap) {
  auto copy = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
  if (len > 0) std::copy(data, data + len, copy.get());
  const uint8_t* frame = len == 0 ? nullptr : copy.get();
  auto reply = std::make_unique<uint8_t[]>(reply_cap == 0 ? 1 : reply_cap);
  const Counters before = stack.counters();
  const Verdict v = stack.receive(frame, len, reply_cap == 0 ? nullptr : reply.get(), reply_cap);
  const Counters& after = stack.counters();
  ASSERT_EQ(after.rx_frames, before.rx_frames + 1);
  switch (v.kind) {
    case Verdict::Kind::kDeliver:
      ASSERT_EQ(v.cause, DropCause::kNone);
      ASSERT_GE(v.udp.payload, frame + 42);
      ASSERT_LE(v.udp.payload + v.udp.payload_len, frame + len);
      ASSERT_EQ(after.udp_delivered, before.udp_delivered + 1);
      break;
    case Verdict::Kind::kReply: {
      ASSERT_EQ(v.cause, DropCause::kNone);
      ASSERT_GE(v.reply_len, kMinFrameLen);
      ASSERT_LE(v.reply_len, reply_cap);
      ASSERT_LE(v.reply_len, kMaxFrameLen);
      // Every reply is a frame the stack would accept from the wire (from its peer's side).
      EthernetView eth;
      ASSERT_EQ(parse_ethernet(reply.get(), v.reply_len, eth), DropCause::kNone);
      if (eth.ethertype == kEtherTypeIpv4) {
        Ipv4View ip;
        IcmpEchoView m;
        ASSERT_EQ(parse_ipv4(eth.payload, eth.payload_len, ip), DropCause::kNone);
        ASSERT_EQ(parse_icmp(ip.payload, ip.payload_len, m), DropCause::kNone);
        ASSERT_EQ(m.type, kIcmpEchoReply);
      } else {
        ArpView a;
        ASSERT_EQ(eth.ethertype, kEtherTypeArp);
        ASSERT_EQ(parse_arp(eth.payload, eth.payload_len, a), DropCause::kNone);
        ASSERT_EQ(a.op, kArpOpReply);
      }
      break;
    }
    case Verdict::Kind::kConsumed: ASSERT_EQ(v.cause, DropCause::kNone); break;
    case Verdict::Kind::kDrop:
      ASSERT_NE(v.cause, DropCause::kNone);
      ASSERT_LT(static_cast<size_t>(v.cause), kDropCauseCount);
      ASSERT_EQ(after.dropped(v.cause), before.dropped(v.cause) + 1);
      ASSERT_EQ(after.total_drops(), before.total_drops() + 1);
      break;
  }
}

TEST(Robustness, EveryPrefixOfEveryValidFrame) {
  Stack stack(StackConfig{kOurMac, kOurIp});
  for (const auto& f : valid_frames()) {
    for (size_t len = 0; len <= f.size(); ++len) {
      ASSERT_NO_FATAL_FAILURE(check_one(stack, f.data(), len, kMaxFrameLen)) << "prefix " << len << " of " << f.size();
    }
  }
}

TEST(Robustness, ValidFramesStillPassWhole) {
  Stack stack(StackConfig{kOurMac, kOurIp});
  for (const auto& f : valid_frames()) {
    uint8_t reply[kMaxFrameLen];
    const Verdict v = stack.receive(f.data(), f.size(), reply, sizeof reply);
    EXPECT_NE(v.kind, Verdict::Kind::kDrop) << drop_cause_name(v.cause);
  }
}

TEST(Robustness, RandomByteFlips) {
  Stack stack(StackConfig{kOurMac, kOurIp});
  std::mt19937 rng(20260);
  const auto frames = valid_frames();
  for (int round = 0; round < 5000; ++round) {
    auto f = frames[rng() % frames.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) f[rng() % f.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    // Sometimes cut it, sometimes give little room for a reply.
    size_t len = f.size();
    if (rng() % 4 == 0) len = rng() % (f.size() + 1);
    const size_t caps[] = {0, 41, kMinFrameLen, kMaxFrameLen};
    ASSERT_NO_FATAL_FAILURE(check_one(stack, f.data(), len, caps[rng() % 4])) << "round " << round;
  }
}

TEST(Robustness, RandomBytes) {
  // Random frames whose headers are mostly right (so the inner parsers are reached), the rest noise.
  Stack stack(StackConfig{kOurMac, kOurIp});
  std::mt19937 rng(768);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> f(rng() % (kMaxFrameLen + 2));
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    if (f.size() >= 34 && rng() % 2 == 0) {
      kOurMac.store(f.data());
      f[6] &= 0xfe;
      f[12] = 0x08;
      f[13] = rng() % 2 ? 0x00 : 0x06;
      if (f[13] == 0x00) {
        f[14] = static_cast<uint8_t>(0x40 | (5 + rng() % 11));
        store_be32(f.data() + 30, kOurIp);
        f[26] = 10;
        f[23] = rng() % 2 ? kIpProtoUdp : kIpProtoIcmp;
        f[20] &= 0x40;
        f[21] = 0;
        if ((f[14] & 0x0f) == 5) fix_ip_checksum(f);
      }
    }
    ASSERT_NO_FATAL_FAILURE(check_one(stack, f.data(), f.size(), kMaxFrameLen)) << "round " << round;
  }
}

}  // namespace
}  // namespace edgeos::net

// The Internet checksum against RFC 1071's worked example, a well-known IPv4 header, and the
// reference function on random data cut into random pieces.
#include <gtest/gtest.h>

#include <random>

#include "frames.hpp"

namespace edgeos::net {
namespace {

using test::ref_checksum;

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2; the checksum is its
  // complement.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(data, sizeof data), 0x220d);
  EXPECT_EQ(ref_checksum({data, data + sizeof data}), 0x220d);
  // With the checksum appended, the sum verifies (RFC 1071 §1, step 3).
  const uint8_t with[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
  EXPECT_EQ(internet_checksum(with, sizeof with), 0);
}

TEST(Checksum, KnownIpv4Header) {
  // 192.168.0.1 -> 192.168.0.199, UDP, total length 115: header checksum 0xb861.
  uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(h, sizeof h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_EQ(internet_checksum(h, sizeof h), 0);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const uint8_t odd[] = {0x12, 0x34, 0x56};
  const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd, 3), internet_checksum(even, 4));
  EXPECT_EQ(internet_checksum(odd, 3), static_cast<uint16_t>(~(0x1234 + 0x5600) & 0xffff));
  EXPECT_EQ(internet_checksum(nullptr, 0), 0xffff);
}

TEST(Checksum, HandWrittenFramesVerify) {
  for (const auto& f : {test::echo_request(), test::udp_hello()}) {
    EXPECT_EQ(internet_checksum(f.data() + 14, 20), 0);
    EXPECT_EQ(ref_checksum({f.begin() + 14, f.begin() + 34}), 0);
  }
  const auto e = test::echo_request();
  EXPECT_EQ(ref_checksum({e.begin() + 34, e.end()}), 0);
}

TEST(Checksum, PiecesMatchReferenceOnRandomData) {
  std::mt19937 rng(1071);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> data(rng() % 200);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    // Cut into pieces of random (often odd) lengths.
    Checksum c;
    size_t at = 0;
    while (at < data.size()) {
      const size_t n = std::min<size_t>(data.size() - at, rng() % 7);
      c.add(data.data() + at, n);
      at += n;
    }
    ASSERT_EQ(c.finish(), ref_checksum(data)) << "round " << round;
    ASSERT_EQ(internet_checksum(data.data(), data.size()), ref_checksum(data));
  }
}

TEST(Checksum, LargeSumsFoldCorrectly) {
  // 1500 bytes of 0xff: every word is -0; the sum stays all ones, the checksum 0.
  std::vector<uint8_t> ones(1500, 0xff);
  EXPECT_EQ(internet_checksum(ones.data(), ones.size()), 0);
  EXPECT_EQ(ref_checksum(ones), 0);
}

}  // namespace
}  // namespace edgeos::net

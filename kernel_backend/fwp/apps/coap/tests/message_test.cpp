// The CoAP message parser and builder (RFC 7252 section 3): the encodings by hand, round trips of
// random messages, and random and truncated datagrams that must never be read out of bounds.
#include "edgeos/apps/coap/message.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace edgeos::apps::coap {
namespace {

using Bytes = std::vector<uint8_t>;

ParseResult parse_bytes(const Bytes& b, Message& m) { return parse(b.data(), b.size(), m); }

std::vector<Option> options_of(const Message& m) {
  std::vector<Option> out;
  OptionIterator it(m);
  Option o;
  while (it.next(o)) out.push_back(o);
  return out;
}

std::string text(const uint8_t* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

TEST(CoapParse, GetWithTokenAndPath) {
  // CON GET, TKL 2, MID 0x1234, token "ab", Uri-Path "temp" (delta 11, length 4).
  const Bytes b = {0x42, 0x01, 0x12, 0x34, 'a', 'b', 0xB4, 't', 'e', 'm', 'p'};
  Message m;
  ASSERT_EQ(parse_bytes(b, m), ParseResult::kOk);
  EXPECT_EQ(m.type, Type::kCon);
  EXPECT_EQ(m.code, code::kGet);
  EXPECT_EQ(m.message_id, 0x1234);
  ASSERT_EQ(m.token_length, 2);
  EXPECT_EQ(text(m.token, 2), "ab");
  EXPECT_EQ(m.payload, nullptr);
  EXPECT_EQ(m.payload_length, 0u);
  const auto opts = options_of(m);
  ASSERT_EQ(opts.size(), 1u);
  EXPECT_EQ(opts[0].number, option::kUriPath);
  EXPECT_EQ(text(opts[0].value, opts[0].length), "temp");
}

TEST(CoapParse, ExtendedDeltaAndLength) {
  // Option 11 then option 11+13+7=31 (delta nibble 13, one extra byte 7) with a 13+2=15-byte value
  // (length nibble 13, extra byte 2), then option 31+269+1000=1300 (delta nibble 14, two bytes)
  // with a 269+1-byte value (length nibble 14, two bytes 0x0001), then a payload.
  Bytes b = {0x50, 0x02, 0x00, 0x07, 0xB1, 'x', 0xDD, 7, 2};
  for (int i = 0; i < 15; ++i) b.push_back(static_cast<uint8_t>('a' + i));
  b.push_back(0xEE);
  b.push_back(1000 >> 8);
  b.push_back(1000 & 0xFF);
  b.push_back(0);
  b.push_back(1);
  for (int i = 0; i < 270; ++i) b.push_back(static_cast<uint8_t>(i));
  b.push_back(0xFF);
  b.push_back('P');
  Message m;
  ASSERT_EQ(parse_bytes(b, m), ParseResult::kOk);
  EXPECT_EQ(m.type, Type::kNon);
  const auto opts = options_of(m);
  ASSERT_EQ(opts.size(), 3u);
  EXPECT_EQ(opts[0].number, 11);
  EXPECT_EQ(opts[1].number, 31);
  EXPECT_EQ(opts[1].length, 15u);
  EXPECT_EQ(opts[2].number, 1300);
  EXPECT_EQ(opts[2].length, 270u);
  EXPECT_EQ(opts[2].value[269], 269 & 0xFF);
  ASSERT_EQ(m.payload_length, 1u);
  EXPECT_EQ(m.payload[0], 'P');
}

TEST(CoapParse, FormatErrors) {
  Message m;
  // Section 3: token lengths 9-15.
  for (uint8_t tkl = 9; tkl <= 15; ++tkl) {
    Bytes b = {static_cast<uint8_t>(0x40 | tkl), 0x01, 0, 1};
    b.resize(4 + tkl, 'x');
    EXPECT_EQ(parse_bytes(b, m), ParseResult::kFormatError) << int(tkl);
    EXPECT_EQ(m.message_id, 1);  // the header is still read, for the Reset
  }
  // Token longer than the datagram.
  EXPECT_EQ(parse_bytes({0x44, 0x01, 0, 1, 'a'}, m), ParseResult::kFormatError);
  // Section 3.1: delta nibble 15 without the whole byte being 0xFF; length nibble 15.
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xF0}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0x1F, 'x'}, m), ParseResult::kFormatError);
  // Extended fields or value running past the end.
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xD0}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xE0, 0x00}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0x1D}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0x13, 'a', 'b'}, m), ParseResult::kFormatError);
  // Section 3: a payload marker followed by nothing.
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xFF}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xB1, 'a', 0xFF}, m), ParseResult::kFormatError);
  // Option numbers past 65535: 65000 + 65000.
  const uint16_t d = 65000 - 269;
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0, 1, 0xE0, uint8_t(d >> 8), uint8_t(d), 0xE0, uint8_t(d >> 8), uint8_t(d)}, m),
            ParseResult::kFormatError);
  // Section 4.1: an Empty message with a token, options or payload.
  EXPECT_EQ(parse_bytes({0x41, 0x00, 0, 1, 'a'}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x00, 0, 1, 0xB1, 'a'}, m), ParseResult::kFormatError);
  EXPECT_EQ(parse_bytes({0x40, 0x00, 0, 1}, m), ParseResult::kOk);
}

TEST(CoapParse, VersionAndLength) {
  Message m;
  for (uint8_t v : {0, 2, 3}) {
    EXPECT_EQ(parse_bytes({static_cast<uint8_t>(v << 6), 0x01, 0, 1}, m), ParseResult::kBadVersion);
  }
  EXPECT_EQ(parse(nullptr, 0, m), ParseResult::kTooShort);
  EXPECT_EQ(parse_bytes({0x40, 0x01, 0}, m), ParseResult::kTooShort);
  // The largest legal option number, reached in one step.
  const uint16_t d = 65535 - 269;
  const Bytes b = {0x40, 0x01, 0, 1, 0xE0, uint8_t(d >> 8), uint8_t(d)};
  EXPECT_EQ(parse_bytes(b, m), ParseResult::kOk);
  EXPECT_EQ(options_of(m).at(0).number, 65535);
}

TEST(CoapBuild, UintOptionsAreMinimal) {
  struct Case {
    uint32_t value;
    size_t length;
  };
  for (const Case c : {Case{0, 0}, Case{1, 1}, Case{255, 1}, Case{256, 2}, Case{65535, 2}, Case{65536, 3},
                       Case{0x01000000, 4}, Case{0xFFFFFFFF, 4}}) {
    uint8_t buf[32];
    Builder b(buf, sizeof buf);
    b.header(Type::kAck, code::kContent, 7, nullptr, 0);
    b.add_uint_option(option::kSize1, c.value);
    ASSERT_TRUE(b.ok());
    Message m;
    ASSERT_EQ(parse(b.data(), b.size(), m), ParseResult::kOk);
    const auto opts = options_of(m);
    ASSERT_EQ(opts.size(), 1u);
    EXPECT_EQ(opts[0].number, option::kSize1);
    EXPECT_EQ(opts[0].length, c.length) << c.value;
    EXPECT_EQ(decode_uint(opts[0].value, opts[0].length), c.value);
  }
  const uint8_t five[5] = {1, 2, 3, 4, 5};
  EXPECT_EQ(decode_uint(five, 5, 99), 99u);
}

TEST(CoapBuild, EmptyPayloadLeavesNoMarker) {
  uint8_t buf[16];
  Builder b(buf, sizeof buf);
  b.header(Type::kNon, code::kContent, 1, nullptr, 0);
  b.begin_payload();
  b.end_payload();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.size(), 4u);
  Message m;
  EXPECT_EQ(parse(b.data(), b.size(), m), ParseResult::kOk);
}

TEST(CoapBuild, FailuresAreSticky) {
  uint8_t buf[8];
  Builder b(buf, sizeof buf);
  b.header(Type::kAck, code::kContent, 1, reinterpret_cast<const uint8_t*>("tok"), 3);
  EXPECT_TRUE(b.ok());
  b.add_option(option::kUriPath, reinterpret_cast<const uint8_t*>("x"), 1);
  EXPECT_FALSE(b.ok());  // 7 + 2 > 8
  b.add_option(option::kUriQuery, nullptr, 0);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.size(), 7u);
  b.clear_body();  // back to the header and token
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(b.size(), 7u);

  uint8_t big[64];
  Builder c(big, sizeof big);
  c.header(Type::kAck, code::kContent, 1, nullptr, 0);
  c.add_option(option::kUriQuery, nullptr, 0);
  c.add_option(option::kUriPath, nullptr, 0);  // decreasing number
  EXPECT_FALSE(c.ok());

  Builder d(big, 3);  // not even a header
  d.header(Type::kAck, code::kContent, 1, nullptr, 0);
  EXPECT_FALSE(d.ok());
  d.clear_body();
  EXPECT_FALSE(d.ok());
}

// Random well-formed messages survive a build and a parse unchanged.
TEST(CoapBuild, RoundTripRandomMessages) {
  std::mt19937 rng(1234);
  std::vector<uint8_t> buf(8192);
  for (int iter = 0; iter < 5000; ++iter) {
    const auto type = static_cast<Type>(rng() % 4);
    const uint8_t c = static_cast<uint8_t>(1 + rng() % 255);
    const uint16_t mid = static_cast<uint16_t>(rng());
    const uint8_t tkl = static_cast<uint8_t>(rng() % 9);
    uint8_t token[8];
    for (auto& t : token) t = static_cast<uint8_t>(rng());
    std::vector<std::pair<uint16_t, Bytes>> opts;
    uint16_t number = 0;
    const int count = static_cast<int>(rng() % 8);
    for (int i = 0; i < count; ++i) {
      // Deltas of each encoding: < 13, 13..268, 269 and above.
      const uint32_t kind = rng() % 3;
      const uint32_t delta = kind == 0 ? rng() % 13 : kind == 1 ? 13 + rng() % 256 : 269 + rng() % 2000;
      if (number + delta > 65535) break;
      number = static_cast<uint16_t>(number + delta);
      const uint32_t lkind = rng() % 3;
      const size_t len = lkind == 0 ? rng() % 13 : lkind == 1 ? 13 + rng() % 256 : 269 + rng() % 300;
      Bytes v(len);
      for (auto& x : v) x = static_cast<uint8_t>(rng());
      opts.emplace_back(number, v);
    }
    Bytes payload(rng() % 4 == 0 ? 0 : rng() % 100);
    for (auto& x : payload) x = static_cast<uint8_t>(rng());

    Builder b(buf.data(), buf.size());
    b.header(type, c, mid, token, tkl);
    for (const auto& [n, v] : opts) b.add_option(n, v.data(), v.size());
    b.begin_payload();
    b.append(payload.data(), payload.size());
    b.end_payload();
    ASSERT_TRUE(b.ok()) << iter;

    Message m;
    ASSERT_EQ(parse(b.data(), b.size(), m), ParseResult::kOk) << iter;
    EXPECT_EQ(m.type, type);
    EXPECT_EQ(m.code, c);
    EXPECT_EQ(m.message_id, mid);
    ASSERT_EQ(m.token_length, tkl);
    EXPECT_TRUE(std::equal(token, token + tkl, m.token));
    const auto got = options_of(m);
    ASSERT_EQ(got.size(), opts.size()) << iter;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].number, opts[i].first);
      ASSERT_EQ(got[i].length, opts[i].second.size());
      EXPECT_TRUE(std::equal(opts[i].second.begin(), opts[i].second.end(), got[i].value));
    }
    ASSERT_EQ(m.payload_length, payload.size());
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), m.payload));

    // Every proper prefix either fails to parse or parses to views inside the prefix (checked by
    // running it from a buffer of exactly that size, where ASan sees any overread).
    for (size_t cut = 0; cut < b.size(); cut += 1 + rng() % 7) {
      Bytes prefix(b.data(), b.data() + cut);
      Message pm;
      if (parse(prefix.data(), prefix.size(), pm) != ParseResult::kOk) continue;
      for (const Option& o : options_of(pm)) {
        EXPECT_GE(o.value, prefix.data());
        EXPECT_LE(o.value + o.length, prefix.data() + prefix.size());
      }
      if (pm.payload != nullptr) {
        EXPECT_EQ(pm.payload + pm.payload_length, prefix.data() + prefix.size());
      }
    }
  }
}

// Random bytes: never a crash or an out-of-bounds view; whatever parses walks to its end.
TEST(CoapParse, RandomDatagrams) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 50000; ++iter) {
    Bytes b(rng() % 48);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (b.size() >= 1 && rng() % 2 == 0) b[0] = static_cast<uint8_t>(0x40 | (b[0] & 0x3F));  // version 1
    if (b.size() >= 1 && rng() % 2 == 0) b[0] = static_cast<uint8_t>(b[0] & 0xF7);            // TKL <= 8 mostly
    Message m;
    const ParseResult r = parse(b.data(), b.size(), m);
    if (r != ParseResult::kOk) continue;
    EXPECT_LE(m.token_length, 8);
    size_t total = kHeaderSize + m.token_length;
    uint32_t last = 0;
    OptionIterator it(m);
    Option o;
    while (it.next(o)) {
      EXPECT_GE(o.number, last);
      last = o.number;
      EXPECT_GE(o.value, b.data());
      EXPECT_LE(o.value + o.length, b.data() + b.size());
    }
    total += m.options_length + (m.payload != nullptr ? 1 + m.payload_length : 0);
    EXPECT_EQ(total, b.size());
  }
}

}  // namespace
}  // namespace edgeos::apps::coap

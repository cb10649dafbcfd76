// The CoAP server (RFC 7252, RFC 6690 discovery) driven through its UdpApp interface: responses,
// deduplication, rejection, options, registration, counters, and thousands of hostile datagrams.
#include "edgeos/apps/coap/server.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "edgeos/apps/coap/sensors.hpp"

namespace edgeos::apps::coap {
namespace {

using Bytes = std::vector<uint8_t>;

class Sink final : public net::ReplySink {
 public:
  bool send(const uint8_t* data, size_t len) override {
    if (refuse) return false;
    sent.emplace_back(data, data + len);
    return true;
  }
  Bytes take() {
    EXPECT_EQ(sent.size(), 1u);
    Bytes b = sent.empty() ? Bytes{} : sent.back();
    sent.clear();
    return b;
  }
  std::vector<Bytes> sent;
  bool refuse = false;
};

// A request, encoded by hand (independently of Builder) from a list of (number, value) options.
struct Req {
  Type type = Type::kCon;
  uint8_t code = code::kGet;
  uint16_t mid = 1;
  std::string token = {};
  std::vector<std::pair<uint16_t, std::string>> options = {};  // ascending
  std::string payload = {};

  Req& path(const std::string& p) {
    size_t i = 1;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      options.emplace_back(option::kUriPath, p.substr(i, j - i));
      i = j + 1;
    }
    return *this;
  }
  Req& opt(uint16_t n, std::string v) {
    options.emplace_back(n, std::move(v));
    return *this;
  }
  Bytes bytes() const {
    Bytes b = {static_cast<uint8_t>(0x40 | static_cast<uint8_t>(type) << 4 | token.size()), code,
               static_cast<uint8_t>(mid >> 8), static_cast<uint8_t>(mid)};
    b.insert(b.end(), token.begin(), token.end());
    uint16_t last = 0;
    auto ext = [&](uint32_t v, uint8_t& nib, Bytes& e) {
      if (v < 13) {
        nib = static_cast<uint8_t>(v);
      } else if (v < 269) {
        nib = 13;
        e.push_back(static_cast<uint8_t>(v - 13));
      } else {
        nib = 14;
        e.push_back(static_cast<uint8_t>((v - 269) >> 8));
        e.push_back(static_cast<uint8_t>(v - 269));
      }
    };
    for (const auto& [n, v] : options) {
      uint8_t dn = 0, ln = 0;
      Bytes de, le;
      ext(n - last, dn, de);
      ext(static_cast<uint32_t>(v.size()), ln, le);
      b.push_back(static_cast<uint8_t>(dn << 4 | ln));
      b.insert(b.end(), de.begin(), de.end());
      b.insert(b.end(), le.begin(), le.end());
      b.insert(b.end(), v.begin(), v.end());
      last = n;
    }
    if (!payload.empty()) {
      b.push_back(0xFF);
      b.insert(b.end(), payload.begin(), payload.end());
    }
    return b;
  }
};

struct Reply {
  Message m;
  Bytes raw;
  std::vector<Option> options;
  std::string payload() const { return std::string(reinterpret_cast<const char*>(m.payload), m.payload_length); }
  bool has(uint16_t n) const {
    for (const Option& o : options) {
      if (o.number == n) return true;
    }
    return false;
  }
  uint32_t uint(uint16_t n) const {
    for (const Option& o : options) {
      if (o.number == n) return decode_uint(o.value, o.length);
    }
    return 0xFFFFFFFF;
  }
};

class CoapServer : public ::testing::Test {
 protected:
  void SetUp() override { setup(ServerConfig{}); }

  void setup(const ServerConfig& config) {
    memory_.assign(Server::memory_needed(config) / 8 + 1, 0);
    server_ = std::make_unique<Server>();
    ASSERT_EQ(server_->init(config, memory_.data(), memory_.size() * 8), Status::kOk);
    ASSERT_EQ(add_sensor_resources(*server_, board_), Status::kOk);
  }

  // Sends a datagram; returns the replies.
  std::vector<Bytes> send(const Bytes& b, net::Peer from = {0x7F000001, 40000}) {
    sink_.sent.clear();
    server_->handle(from, b.data(), b.size(), sink_);
    return sink_.sent;
  }
  // Sends a request that must get exactly one reply, and parses it (the reply is kept alive in
  // the Reply).
  Reply exchange(const Req& r, net::Peer from = {0x7F000001, 40000}) {
    const auto replies = send(r.bytes(), from);
    Reply out;
    EXPECT_EQ(replies.size(), 1u);
    if (replies.size() != 1) return out;
    out.raw = replies[0];
    EXPECT_EQ(parse(out.raw.data(), out.raw.size(), out.m), ParseResult::kOk);
    OptionIterator it(out.m);
    Option o;
    while (it.next(o)) out.options.push_back(o);
    return out;
  }

  // Every datagram is counted once by cause; every processed request once by outcome.
  void expect_counters_consistent() const {
    const Counters& c = server_->counters();
    EXPECT_EQ(c.datagrams, c.requests + c.duplicates_con + c.duplicates_non + c.format_errors + c.too_short +
                               c.bad_version + c.pings + c.rejected + c.acks_resets + c.not_ready);
    EXPECT_EQ(c.requests, c.content + c.changed + c.bad_option + c.not_found + c.method_not_allowed +
                              c.not_acceptable + c.precondition_failed + c.too_large + c.unsupported_format +
                              c.internal_error + c.unavailable + c.proxying_not_supported + c.rejected_options);
  }

  std::vector<uint64_t> memory_;
  std::unique_ptr<Server> server_;
  SensorBoard board_;
  Sink sink_;
};

TEST_F(CoapServer, ConGetIsAnsweredWithPiggybackedAck) {
  Req r;
  r.mid = 0xBEEF;
  r.token = "tok12345";
  const Reply a = exchange(r.path("/temp"));
  EXPECT_EQ(a.m.type, Type::kAck);
  EXPECT_EQ(a.m.message_id, 0xBEEF);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.m.token), a.m.token_length), "tok12345");
  EXPECT_EQ(a.m.code, code::kContent);
  EXPECT_EQ(a.uint(option::kContentFormat), format::kTextPlain);
  EXPECT_EQ(a.payload(), "22.50");

  Req h;
  h.mid = 2;
  EXPECT_EQ(exchange(h.path("/humidity")).payload(), "41.00");
  board_.temp_centi_c = -1205;
  Req t;
  t.mid = 3;
  EXPECT_EQ(exchange(t.path("/temp")).payload(), "-12.05");
  EXPECT_EQ(server_->counters().content, 3u);
  expect_counters_consistent();
}

TEST_F(CoapServer, NonGetGetsNonResponseWithItsOwnMessageIds) {
  Req r;
  r.type = Type::kNon;
  r.mid = 100;
  r.token = "\x01\x02";
  r.path("/temp");
  const Reply a = exchange(r);
  r.mid = 101;
  const Reply b = exchange(r);
  EXPECT_EQ(a.m.type, Type::kNon);
  EXPECT_EQ(b.m.type, Type::kNon);
  EXPECT_EQ(a.m.code, code::kContent);
  EXPECT_EQ(a.m.token_length, 2);
  EXPECT_NE(a.m.message_id, b.m.message_id);
  EXPECT_EQ(a.payload(), "22.50");
}

TEST_F(CoapServer, WellKnownCoreListsResourcesInLinkFormat) {
  Req r;
  const Reply a = exchange(r.path("/.well-known/core"));
  EXPECT_EQ(a.m.code, code::kContent);
  EXPECT_EQ(a.uint(option::kContentFormat), format::kLinkFormat);
  EXPECT_EQ(a.payload(),
            "</temp>;rt=\"temperature-c\";if=\"sensor\";ct=0,"
            "</humidity>;rt=\"humidity-rh\";if=\"sensor\";ct=0,"
            "</config>;rt=\"config\";ct=0");
}

TEST_F(CoapServer, WellKnownCoreFilters) {
  auto query = [&](const std::string& q) {
    Req r;
    r.mid = static_cast<uint16_t>(r.mid + q.size() * 7 + q[0]);
    r.path("/.well-known/core").opt(option::kUriQuery, q);
    const Reply a = exchange(r);
    EXPECT_EQ(a.m.code, code::kContent);
    return a.payload();
  };
  EXPECT_EQ(query("rt=temperature-c"), "</temp>;rt=\"temperature-c\";if=\"sensor\";ct=0");
  EXPECT_EQ(query("rt=humid*"), "</humidity>;rt=\"humidity-rh\";if=\"sensor\";ct=0");
  EXPECT_EQ(query("href=/config"), "</config>;rt=\"config\";ct=0");
  EXPECT_EQ(query("href=/c*"), "</config>;rt=\"config\";ct=0");
  EXPECT_EQ(query("if=sensor"),
            "</temp>;rt=\"temperature-c\";if=\"sensor\";ct=0,</humidity>;rt=\"humidity-rh\";if=\"sensor\";ct=0");
  EXPECT_EQ(query("ct=0").size(), 116u);  // all three
  EXPECT_EQ(query("rt=nothing"), "");
  EXPECT_EQ(query("title=x"), "");
}

TEST_F(CoapServer, PutStoresAndGetReturnsIt) {
  Req put;
  put.code = code::kPut;
  put.mid = 10;
  put.payload = "interval=5";
  const Reply a = exchange(put.path("/config"));
  EXPECT_EQ(a.m.code, code::kChanged);
  EXPECT_EQ(a.m.payload_length, 0u);
  Req get;
  get.mid = 11;
  EXPECT_EQ(exchange(get.path("/config")).payload(), "interval=5");
  const uint8_t* value = nullptr;
  size_t length = 0;
  ASSERT_TRUE(server_->stored_value("/config", &value, &length));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(value), length), "interval=5");
  EXPECT_FALSE(server_->stored_value("/temp", &value, &length));

  // An empty PUT empties it (no payload marker: section 3).
  Req clear;
  clear.code = code::kPut;
  clear.mid = 12;
  EXPECT_EQ(exchange(clear.path("/config")).m.code, code::kChanged);
  Req get2;
  get2.mid = 13;
  const Reply b = exchange(get2.path("/config"));
  EXPECT_EQ(b.m.payload, nullptr);
}

TEST_F(CoapServer, DuplicateConGetsTheSameAckAndIsProcessedOnce) {
  Req put1;
  put1.code = code::kPut;
  put1.mid = 500;
  put1.token = "A";
  put1.payload = "first";
  put1.path("/config");
  const auto first = send(put1.bytes());
  ASSERT_EQ(first.size(), 1u);

  Req put2 = put1;
  put2.mid = 501;
  put2.payload = "second";
  ASSERT_EQ(send(put2.bytes()).size(), 1u);

  // The retransmission of the first PUT: the same ACK, byte for byte, and no second write.
  const auto again = send(put1.bytes());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], first[0]);
  const uint8_t* value = nullptr;
  size_t length = 0;
  ASSERT_TRUE(server_->stored_value("/config", &value, &length));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(value), length), "second");
  EXPECT_EQ(server_->counters().duplicates_con, 1u);
  EXPECT_EQ(server_->counters().changed, 2u);

  // The same Message ID from another port is another exchange; and one whose bytes differ is a
  // new message reusing the ID (see server.hpp).
  Req get;
  get.mid = 500;
  get.path("/temp");
  EXPECT_EQ(exchange(get, {0x7F000001, 40001}).m.code, code::kContent);
  EXPECT_EQ(exchange(get).m.code, code::kContent);
  EXPECT_EQ(server_->counters().duplicates_con, 1u);
  expect_counters_consistent();
}

TEST_F(CoapServer, DuplicateNonIsIgnored) {
  Req r;
  r.type = Type::kNon;
  r.mid = 9;
  r.path("/temp");
  EXPECT_EQ(send(r.bytes()).size(), 1u);
  EXPECT_EQ(send(r.bytes()).size(), 0u);
  EXPECT_EQ(server_->counters().duplicates_non, 1u);
}

TEST_F(CoapServer, FailedSendIsCountedAndTheRetransmissionAnswered) {
  Req r;
  r.mid = 77;
  r.path("/temp");
  sink_.refuse = true;
  EXPECT_EQ(send(r.bytes()).size(), 0u);
  EXPECT_EQ(server_->counters().send_failures, 1u);
  sink_.refuse = false;
  EXPECT_EQ(exchange(r).payload(), "22.50");
  EXPECT_EQ(server_->counters().duplicates_con, 1u);
}

TEST(CoapServerDedup, TheRingForgetsTheOldestAndTheClockExpires) {
  struct Clock {
    uint64_t ms = 1000;
    static uint64_t now(void* c) { return static_cast<Clock*>(c)->ms; }
  } clock;
  ServerConfig config;
  config.dedup_entries = 4;
  config.now_ms = &Clock::now;
  config.clock_context = &clock;
  alignas(8) static uint8_t memory[Server::memory_needed(ServerConfig{.dedup_entries = 4})];
  Server server;
  ASSERT_EQ(server.init(config, memory, sizeof memory), Status::kOk);
  SensorBoard board;
  ASSERT_EQ(add_sensor_resources(server, board), Status::kOk);
  Sink sink;
  auto get = [&](uint16_t mid) {
    Req r;
    r.mid = mid;
    const Bytes b = r.path("/temp").bytes();
    server.handle({1, 2}, b.data(), b.size(), sink);
  };
  get(1);
  get(1);
  EXPECT_EQ(server.counters().duplicates_con, 1u);
  // Within EXCHANGE_LIFETIME it is still a duplicate; after it, a new message.
  clock.ms += Server::kExchangeLifetimeMs;
  get(1);
  EXPECT_EQ(server.counters().duplicates_con, 2u);
  clock.ms += 1;
  get(1);
  EXPECT_EQ(server.counters().duplicates_con, 2u);
  EXPECT_EQ(server.counters().requests, 2u);
  // Four other exchanges push it out of the ring (the documented bound).
  for (uint16_t mid = 2; mid <= 5; ++mid) get(mid);
  get(1);
  EXPECT_EQ(server.counters().duplicates_con, 2u);
  EXPECT_EQ(server.counters().requests, 7u);
  get(5);
  EXPECT_EQ(server.counters().duplicates_con, 3u);
}

TEST_F(CoapServer, FormatErrorsResetConAndIgnoreNon) {
  // TKL 9 in a CON: Reset with its Message ID.
  auto r = send({0x49, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Bytes{0x70, 0x00, 0x12, 0x34}));
  // Payload marker with an empty payload.
  r = send({0x40, 0x01, 0x00, 0x05, 0xB4, 't', 'e', 'm', 'p', 0xFF});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Bytes{0x70, 0x00, 0x00, 0x05}));
  // The same in NON, ACK and RST messages: silence.
  EXPECT_TRUE(send({0x59, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9}).empty());
  EXPECT_TRUE(send({0x50, 0x01, 0x00, 0x05, 0xB4, 't', 'e', 'm', 'p', 0xFF}).empty());
  EXPECT_TRUE(send({0x60, 0x45, 0x00, 0x05, 0xFF}).empty());
  EXPECT_TRUE(send({0x70, 0x00, 0x00, 0x05, 0x01}).empty());
  EXPECT_EQ(server_->counters().format_errors, 6u);
  // Bad versions and runts: silence.
  EXPECT_TRUE(send({0x80, 0x01, 0x00, 0x05}).empty());
  EXPECT_TRUE(send({0x00, 0x01, 0x00, 0x05}).empty());
  EXPECT_TRUE(send({0x40, 0x01, 0x00}).empty());
  EXPECT_TRUE(send({}).empty());
  EXPECT_EQ(server_->counters().bad_version, 2u);
  EXPECT_EQ(server_->counters().too_short, 2u);
  expect_counters_consistent();
}

TEST_F(CoapServer, PingsResponsesAndEmptyMessages) {
  // Empty CON: "CoAP ping", answered with a Reset (4.3).
  auto r = send({0x40, 0x00, 0xAB, 0xCD});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Bytes{0x70, 0x00, 0xAB, 0xCD}));
  // A response in a CON: rejected with a Reset; in a NON: ignored. Reserved classes likewise.
  r = send({0x40, 0x45, 0x00, 0x01});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (Bytes{0x70, 0x00, 0x00, 0x01}));
  EXPECT_EQ(send({0x40, 0x21, 0x00, 0x02}).size(), 1u);  // 1.01
  EXPECT_EQ(send({0x40, 0xE1, 0x00, 0x03}).size(), 1u);  // 7.01
  EXPECT_TRUE(send({0x50, 0x45, 0x00, 0x04}).empty());
  EXPECT_TRUE(send({0x50, 0x00, 0x00, 0x05}).empty());  // Empty NON
  // ACKs and RSTs: this server waits for none.
  EXPECT_TRUE(send({0x60, 0x00, 0x00, 0x06}).empty());
  EXPECT_TRUE(send({0x70, 0x00, 0x00, 0x07}).empty());
  EXPECT_TRUE(send({0x60, 0x01, 0x00, 0x08, 0xB4, 't', 'e', 'm', 'p'}).empty());  // ACK carrying a request
  const Counters& c = server_->counters();
  EXPECT_EQ(c.pings, 1u);
  EXPECT_EQ(c.rejected, 5u);
  EXPECT_EQ(c.acks_resets, 3u);
  EXPECT_EQ(c.requests, 0u);
  expect_counters_consistent();
}

TEST_F(CoapServer, UnrecognisedCriticalOptions) {
  Req r;
  r.mid = 1;
  r.path("/temp").opt(19, "x");  // 19: critical, unassigned in RFC 7252
  Reply a = exchange(r);
  EXPECT_EQ(a.m.type, Type::kAck);
  EXPECT_EQ(a.m.code, code::kBadOption);
  EXPECT_EQ(a.payload(), "bad option 19");
  // Block2 (RFC 7959) is not implemented: critical, so 4.02 too.
  Req blk;
  blk.mid = 2;
  a = exchange(blk.path("/temp").opt(23, "\x02"));
  EXPECT_EQ(a.m.code, code::kBadOption);
  // A supernumerary Accept (critical, not repeatable; 5.4.5) and one of the wrong length (5.4.3).
  Req acc;
  acc.mid = 3;
  a = exchange(acc.path("/temp").opt(option::kAccept, "").opt(option::kAccept, ""));
  EXPECT_EQ(a.m.code, code::kBadOption);
  Req acc3;
  acc3.mid = 4;
  a = exchange(acc3.path("/temp").opt(option::kAccept, "abc"));
  EXPECT_EQ(a.m.code, code::kBadOption);
  // In a NON request: rejected, i.e. ignored.
  Req non;
  non.type = Type::kNon;
  non.mid = 5;
  EXPECT_TRUE(send(non.path("/temp").opt(19, "x").bytes()).empty());
  EXPECT_EQ(server_->counters().bad_option, 4u);
  EXPECT_EQ(server_->counters().rejected_options, 1u);
  expect_counters_consistent();
}

TEST_F(CoapServer, UnrecognisedElectiveOptionsAreIgnored) {
  Req r;
  r.mid = 1;
  // Option 2000 (elective, two-byte extended delta) and a repeated Content-Format (elective).
  r.path("/temp").opt(option::kContentFormat, "").opt(option::kContentFormat, "").opt(2000, "zz");
  EXPECT_EQ(exchange(r).payload(), "22.50");
  // Recognised options this server has no use for: Uri-Host, Uri-Port, ETag, Max-Age, Size1.
  Req s;
  s.mid = 2;
  s.opt(option::kUriHost, "sensor.local").opt(option::kETag, "e").opt(option::kUriPort, "\x16\x33");
  s.path("/temp").opt(option::kMaxAge, "\x3c").opt(option::kSize1, "");
  EXPECT_EQ(exchange(s).m.code, code::kContent);
}

TEST_F(CoapServer, ProxyRequestsAreRefused) {
  Req r;
  r.mid = 1;
  r.opt(option::kProxyUri, "coap://elsewhere/temp");
  EXPECT_EQ(exchange(r).m.code, code::kProxyingNotSupported);
  Req s;
  s.mid = 2;
  s.path("/temp").opt(option::kProxyScheme, "http");
  EXPECT_EQ(exchange(s).m.code, code::kProxyingNotSupported);
}

TEST_F(CoapServer, NotFoundAndMethodNotAllowed) {
  uint16_t mid = 1;
  auto code_of = [&](uint8_t method, const std::string& path, std::string payload = "") {
    Req r;
    r.mid = mid++;
    r.code = method;
    r.payload = std::move(payload);
    if (!path.empty()) r.path(path);
    return exchange(r).m.code;
  };
  EXPECT_EQ(code_of(code::kGet, "/nothing"), code::kNotFound);
  EXPECT_EQ(code_of(code::kGet, ""), code::kNotFound);  // the root
  EXPECT_EQ(code_of(code::kGet, "/temp/"), code::kNotFound);
  EXPECT_EQ(code_of(code::kGet, "/temp/x"), code::kNotFound);
  EXPECT_EQ(code_of(code::kGet, "/.well-known"), code::kNotFound);
  EXPECT_EQ(code_of(code::kPut, "/temp", "1"), code::kMethodNotAllowed);
  EXPECT_EQ(code_of(code::kPost, "/config", "1"), code::kMethodNotAllowed);
  EXPECT_EQ(code_of(code::kDelete, "/config"), code::kMethodNotAllowed);
  EXPECT_EQ(code_of(make_code(0, 5), "/temp"), code::kMethodNotAllowed);   // FETCH
  EXPECT_EQ(code_of(make_code(0, 31), "/temp"), code::kMethodNotAllowed);  // unassigned
  EXPECT_EQ(code_of(code::kPut, "/.well-known/core", "x"), code::kMethodNotAllowed);
  // A segment holding a slash is not two segments.
  Req r;
  r.mid = mid++;
  r.opt(option::kUriPath, ".well-known/core");
  EXPECT_EQ(exchange(r).m.code, code::kNotFound);
  EXPECT_EQ(server_->counters().not_found, 6u);
  EXPECT_EQ(server_->counters().method_not_allowed, 6u);
}

TEST_F(CoapServer, AcceptAndContentFormat) {
  uint16_t mid = 1;
  auto get = [&](const std::string& path, const std::string& accept) {
    Req r;
    r.mid = mid++;
    r.path(path).opt(option::kAccept, accept);
    return exchange(r).m.code;
  };
  EXPECT_EQ(get("/temp", ""), code::kContent);        // Accept: text/plain (0)
  EXPECT_EQ(get("/temp", "\x28"), code::kNotAcceptable);  // Accept: link-format (40)
  EXPECT_EQ(get("/.well-known/core", "\x28"), code::kContent);
  EXPECT_EQ(get("/.well-known/core", ""), code::kNotAcceptable);

  Req put;
  put.code = code::kPut;
  put.mid = mid++;
  put.payload = "{}";
  put.path("/config").opt(option::kContentFormat, "\x32");  // application/json
  EXPECT_EQ(exchange(put).m.code, code::kUnsupportedContentFormat);
  Req plain;
  plain.code = code::kPut;
  plain.mid = mid++;
  plain.payload = "x";
  plain.path("/config").opt(option::kContentFormat, "");
  EXPECT_EQ(exchange(plain).m.code, code::kChanged);
}

TEST_F(CoapServer, PutLimitsAndPreconditions) {
  uint16_t mid = 1;
  Req big;
  big.code = code::kPut;
  big.mid = mid++;
  big.payload = std::string(kDefaultConfigCapacity + 1, 'x');
  const Reply a = exchange(big.path("/config"));
  EXPECT_EQ(a.m.code, code::kRequestEntityTooLarge);
  EXPECT_EQ(a.uint(option::kSize1), kDefaultConfigCapacity);

  Req full = big;
  full.mid = mid++;
  full.payload.pop_back();
  EXPECT_EQ(exchange(full).m.code, code::kChanged);

  auto conditional = [&](uint16_t number, const std::string& value) {
    Req r;
    r.code = code::kPut;
    r.mid = mid++;
    r.payload = "y";
    if (number < option::kUriPath) r.opt(number, value);
    r.path("/config");
    return exchange(r).m.code;
  };
  EXPECT_EQ(conditional(option::kIfNoneMatch, ""), code::kPreconditionFailed);
  EXPECT_EQ(conditional(option::kIfMatch, "etag"), code::kPreconditionFailed);
  EXPECT_EQ(conditional(option::kIfMatch, ""), code::kChanged);
  EXPECT_EQ(server_->counters().precondition_failed, 2u);
  EXPECT_EQ(server_->counters().too_large, 1u);
}

bool no_reading(void*, uint8_t*, size_t, size_t*) { return false; }
bool too_long_reading(void*, uint8_t*, size_t capacity, size_t* length) {
  *length = capacity + 1;  // claims more than it was given
  return true;
}

TEST_F(CoapServer, SensorsWithoutAReading) {
  board_.humidity_centi_pct = -2147483647 - 1;
  ASSERT_EQ(server_->add_reading("/broken", "", no_reading, nullptr), Status::kOk);
  ASSERT_EQ(server_->add_reading("/liar", "", too_long_reading, nullptr), Status::kOk);
  Req h;
  h.mid = 1;
  h.token = "t";
  const Reply a = exchange(h.path("/humidity"));
  EXPECT_EQ(a.m.code, code::kServiceUnavailable);
  EXPECT_TRUE(a.options.empty());
  EXPECT_EQ(a.m.token_length, 1);
  Req b;
  b.mid = 2;
  EXPECT_EQ(exchange(b.path("/broken")).m.code, code::kServiceUnavailable);
  Req l;
  l.mid = 3;
  EXPECT_EQ(exchange(l.path("/liar")).m.code, code::kInternalServerError);
  EXPECT_EQ(server_->counters().unavailable, 2u);
  EXPECT_EQ(server_->counters().internal_error, 1u);
}

bool any_reading(void*, uint8_t*, size_t, size_t* length) {
  *length = 0;
  return true;
}

TEST(CoapServerSetup, InitAndRegistrationErrors) {
  Server s;
  SensorBoard board;
  Sink sink;
  const uint8_t ping[] = {0x40, 0x00, 0x00, 0x01};
  s.handle({1, 1}, ping, sizeof ping, sink);
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(s.counters().not_ready, 1u);
  EXPECT_EQ(s.add_reading("/a", "", any_reading, nullptr), Status::kBadState);
  EXPECT_EQ(s.add_store("/a", "", 4), Status::kBadState);

  ServerConfig config;
  config.max_resources = 4;
  config.store_bytes = 100;
  alignas(8) static uint8_t memory[Server::memory_needed(ServerConfig{.max_resources = 4, .store_bytes = 100}) + 8];
  EXPECT_EQ(s.init(config, memory, Server::memory_needed(config) - 1), Status::kOutOfMemory);
  EXPECT_EQ(s.init(config, memory + 1, Server::memory_needed(config)), Status::kOutOfMemory);
  EXPECT_EQ(s.init(config, nullptr, 0), Status::kOutOfMemory);
  EXPECT_EQ(s.init(ServerConfig{.max_message = 63}, memory, sizeof memory), Status::kInvalidArgument);
  EXPECT_EQ(s.init(ServerConfig{.dedup_entries = 0}, memory, sizeof memory), Status::kInvalidArgument);
  EXPECT_EQ(s.init(ServerConfig{.max_resources = 0}, memory, sizeof memory), Status::kInvalidArgument);
  ASSERT_EQ(s.init(config, memory, sizeof memory), Status::kOk);
  EXPECT_EQ(s.init(config, memory, sizeof memory), Status::kBadState);

  for (const char* bad : {"", "/", "a", "/a/", "//a", "/a//b", "/a b", "/a<b", "/a>", "/a,b", "/a\"b", "/\x01"}) {
    EXPECT_EQ(s.add_reading(bad, "", any_reading, nullptr), Status::kInvalidArgument) << bad;
  }
  EXPECT_EQ(s.add_reading("/a", "rt=x", any_reading, nullptr), Status::kInvalidArgument);  // no ';'
  EXPECT_EQ(s.add_reading("/a", ";\n", any_reading, nullptr), Status::kInvalidArgument);
  EXPECT_EQ(s.add_reading(nullptr, "", any_reading, nullptr), Status::kInvalidArgument);
  EXPECT_EQ(s.add_reading("/a", "", nullptr, nullptr), Status::kInvalidArgument);
  EXPECT_EQ(s.add_reading("/.well-known/core", "", any_reading, nullptr), Status::kDuplicate);
  ASSERT_EQ(s.add_reading("/a", "", any_reading, nullptr), Status::kOk);
  EXPECT_EQ(s.add_reading("/a", ";x", any_reading, nullptr), Status::kDuplicate);
  EXPECT_EQ(s.add_store("/a", "", 4), Status::kDuplicate);
  // Store bytes: 100 in all; one value must also fit a message (512 - 15).
  EXPECT_EQ(s.add_store("/s", "", 101), Status::kOutOfCapacity);
  EXPECT_EQ(s.add_store("/s", "", 0), Status::kInvalidArgument);
  EXPECT_EQ(s.add_store("/s", "", 2, "abc"), Status::kInvalidArgument);
  ASSERT_EQ(s.add_store("/s", "", 60, "abc"), Status::kOk);
  EXPECT_EQ(s.add_store("/t", "", 41), Status::kOutOfCapacity);
  // /.well-known/core must fit one message: a link of 500 bytes does not.
  static const std::string long_attrs = ";title=\"" + std::string(480, 'x') + "\"";
  EXPECT_EQ(s.add_reading("/long", long_attrs.c_str(), any_reading, nullptr), Status::kOutOfCapacity);
  ASSERT_EQ(s.add_store("/t", "", 40), Status::kOk);
  ASSERT_EQ(s.add_reading("/u", "", any_reading, nullptr), Status::kOk);
  EXPECT_EQ(s.add_reading("/v", "", any_reading, nullptr), Status::kOutOfCapacity);  // 4 resources
  const uint8_t* v = nullptr;
  size_t n = 0;
  ASSERT_TRUE(s.stored_value("/s", &v, &n));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v), n), "abc");
}

TEST(CoapSensors, FormatCenti) {
  uint8_t out[16];
  auto fmt = [&](int32_t v) {
    const size_t n = format_centi(v, out, sizeof out);
    return std::string(reinterpret_cast<const char*>(out), n);
  };
  EXPECT_EQ(fmt(2250), "22.50");
  EXPECT_EQ(fmt(5), "0.05");
  EXPECT_EQ(fmt(0), "0.00");
  EXPECT_EQ(fmt(-1), "-0.01");
  EXPECT_EQ(fmt(-2147483647 - 1), "-21474836.48");
  EXPECT_EQ(fmt(2147483647), "21474836.47");
  EXPECT_EQ(format_centi(12345, out, 6), 6u);
  EXPECT_EQ(format_centi(12345, out, 5), 0u);
}

// Thousands of random, mutated and truncated datagrams from many peers: no crash, every reply is a
// well-formed message within max_message (a Reset, a piggybacked ACK echoing the request's ID and
// token, or a NON), and the counters add up.
TEST_F(CoapServer, HostileDatagrams) {
  ServerConfig config;
  config.dedup_entries = 8;
  config.max_message = 160;
  setup(config);
  std::mt19937 rng(4242);
  const std::vector<Bytes> seeds = {
      Req{.mid = 1, .token = "ab"}.path("/temp").bytes(),
      Req{.type = Type::kNon, .mid = 2}.path("/.well-known/core").opt(option::kUriQuery, "rt=*").bytes(),
      Req{.code = code::kPut, .mid = 3, .payload = "cfg"}.path("/config").bytes(),
      Req{.mid = 4}.path("/config").opt(2000, "x").opt(3000, std::string(300, 'y')).bytes(),
  };
  size_t replies = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    Bytes b;
    switch (rng() % 4) {
      case 0: {  // random bytes, mostly version 1
        b.resize(rng() % 40);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        if (!b.empty() && rng() % 4 != 0) b[0] = static_cast<uint8_t>(0x40 | (b[0] & 0x37));
        break;
      }
      case 1: {  // a valid request with bytes flipped
        b = seeds[rng() % seeds.size()];
        for (int k = 0, flips = 1 + static_cast<int>(rng() % 3); k < flips; ++k) {
          b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        }
        break;
      }
      case 2: {  // a valid request cut short
        b = seeds[rng() % seeds.size()];
        b.resize(rng() % b.size());
        break;
      }
      default:  // a valid request, sometimes a retransmission of a recent one
        b = seeds[rng() % seeds.size()];
        b[3] = static_cast<uint8_t>(rng() % 16);
        break;
    }
    const net::Peer peer{static_cast<uint32_t>(0x0A000000u + rng() % 3), static_cast<uint16_t>(5683 + rng() % 2)};
    Message request;
    const ParseResult pr = parse(b.data(), b.size(), request);
    for (const Bytes& reply : send(b, peer)) {
      ++replies;
      ASSERT_LE(reply.size(), config.max_message);
      Message m;
      ASSERT_EQ(parse(reply.data(), reply.size(), m), ParseResult::kOk);
      ASSERT_NE(pr, ParseResult::kTooShort);
      ASSERT_NE(pr, ParseResult::kBadVersion);
      if (m.type == Type::kRst) {
        EXPECT_EQ(reply.size(), 4u);
        EXPECT_EQ(m.message_id, request.message_id);
        EXPECT_EQ(request.type, Type::kCon);
        continue;
      }
      ASSERT_EQ(pr, ParseResult::kOk);
      EXPECT_EQ(code_class(m.code) >= 2 && code_class(m.code) <= 5, true);
      ASSERT_EQ(m.token_length, request.token_length);
      EXPECT_TRUE(std::equal(m.token, m.token + m.token_length, request.token));
      if (request.type == Type::kCon) {
        EXPECT_EQ(m.type, Type::kAck);
        EXPECT_EQ(m.message_id, request.message_id);
      } else {
        EXPECT_EQ(m.type, Type::kNon);
      }
    }
  }
  EXPECT_GT(replies, 5000u);
  EXPECT_GT(server_->counters().duplicates_con, 50u);
  EXPECT_GT(server_->counters().format_errors, 1000u);
  expect_counters_consistent();
}

}  // namespace
}  // namespace edgeos::apps::coap

// The engine through handle(), in process: replies and their framing, the clock, a refusing sink,
// a relocated region, and robustness against random, mutated and truncated datagrams.
#include "edgeos/apps/memcached/engine.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace edgeos::apps::memcached {
namespace {

constexpr size_t kGuard = 256;
constexpr uint8_t kCanary = 0x5a;

// Keeps every datagram; refuses from the `refuse_after`-th on.
class Sink final : public net::ReplySink {
 public:
  bool send(const uint8_t* data, size_t len) override {
    if (sent.size() >= refuse_after) return false;
    sent.emplace_back(data, data + len);
    return true;
  }
  std::vector<std::vector<uint8_t>> sent;
  size_t refuse_after = SIZE_MAX;
};

class Tenant {
 public:
  explicit Tenant(size_t bytes, const Config& config = {}) : buffer_(bytes + 2 * kGuard + 64, kCanary), bytes_(bytes) {
    const auto base = reinterpret_cast<uintptr_t>(buffer_.data()) + kGuard;
    region_ = reinterpret_cast<uint8_t*>((base + 63) & ~uintptr_t{63});
    ok = engine.init(region_, bytes, config);
  }

  std::vector<std::vector<uint8_t>> datagrams(const std::string& payload, uint16_t id = 0x4242) {
    std::string d = {static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 0, 0, 0, 1, 0, 0};
    d += payload;
    Sink sink;
    engine.handle(net::Peer{0x7f000001, 5000}, reinterpret_cast<const uint8_t*>(d.data()), d.size(), sink);
    return sink.sent;
  }
  // The reply payloads concatenated.
  std::string ask(const std::string& payload) {
    std::string out;
    for (const auto& d : datagrams(payload)) out.append(d.begin() + 8, d.end());
    return out;
  }
  bool guards_intact() const {
    for (const uint8_t* p = buffer_.data(); p < region_; ++p) {
      if (*p != kCanary) return false;
    }
    for (const uint8_t* p = region_ + bytes_; p < buffer_.data() + buffer_.size(); ++p) {
      if (*p != kCanary) return false;
    }
    return true;
  }
  uint8_t* region() { return region_; }

  Engine engine;
  bool ok = false;

 private:
  std::vector<uint8_t> buffer_;
  size_t bytes_;
  uint8_t* region_ = nullptr;
};

uint16_t be16(const std::vector<uint8_t>& d, size_t at) { return static_cast<uint16_t>(d[at] << 8 | d[at + 1]); }

// Every datagram a well-formed frame of this request's reply messages.
void expect_well_framed(const std::vector<std::vector<uint8_t>>& sent, uint16_t id) {
  for (size_t i = 0; i < sent.size();) {
    const auto& d = sent[i];
    ASSERT_GE(d.size(), 8u);
    ASSERT_LE(d.size(), Engine::kMaxDatagram);
    ASSERT_EQ(be16(d, 0), id);
    ASSERT_EQ(be16(d, 2), 0u);
    ASSERT_EQ(be16(d, 6), 0u);
    const uint16_t total = be16(d, 4);
    if (total == 0) {
      ASSERT_EQ(d.size(), 8u);
      ++i;
      continue;
    }
    for (uint16_t s = 0; s < total; ++s) {
      ASSERT_LT(i + s, sent.size());
      const auto& part = sent[i + s];
      ASSERT_EQ(be16(part, 2), s);
      ASSERT_EQ(be16(part, 4), total);
      if (s + 1 < total) {
        ASSERT_EQ(part.size(), Engine::kMaxDatagram);
      }
    }
    i += total;
  }
}

TEST(Engine, RefusesARegionTooSmallAndThenDropsEverything) {
  Tenant t(Engine::kMinRegionBytes - 1);
  EXPECT_FALSE(t.ok);
  EXPECT_TRUE(t.datagrams("get a\r\n").empty());
  EXPECT_EQ(t.engine.counters().datagrams, 0u);
  Tenant smallest(Engine::kMinRegionBytes);
  EXPECT_TRUE(smallest.ok);
  EXPECT_EQ(smallest.ask("set a 0 0 1\r\nx\r\nget a\r\n"), "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n");
}

TEST(Engine, AnswersAsMemcachedDoes) {
  Tenant t(256 * 1024);
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.ask("set a 5 0 3\r\nabc\r\n"), "STORED\r\n");
  EXPECT_EQ(t.ask("gets a\r\n"), "VALUE a 5 3 1\r\nabc\r\nEND\r\n");
  EXPECT_EQ(t.ask("set n 0 0 2\r\n10\r\ndecr n 1\r\nget n\r\n"), "STORED\r\n9\r\nVALUE n 0 2\r\n9 \r\nEND\r\n");
  EXPECT_EQ(t.ask("incr n 100\r\ngets n\r\n"), "109\r\nVALUE n 0 3 4\r\n109\r\nEND\r\n");
  EXPECT_EQ(t.ask("add a 0 0 1\r\nx\r\nreplace b 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\n"),
            "NOT_STORED\r\nNOT_STORED\r\nDELETED\r\nNOT_FOUND\r\n");
  EXPECT_EQ(t.ask("bogus\r\nset a 0 0 -1\r\nincr n x\r\n"),
            "ERROR\r\nCLIENT_ERROR bad command line format\r\nCLIENT_ERROR invalid numeric delta argument\r\n");
  // One message per hit, an empty first message when the first key misses.
  t.ask("set a 1 0 1\r\na\r\n");
  const auto d = t.datagrams("get b a b\r\n");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].size(), 8u);
  EXPECT_EQ(be16(d[0], 4), 0u);
  EXPECT_EQ(std::string(d[1].begin() + 8, d[1].end()), "VALUE a 1 1\r\na\r\n");
  EXPECT_EQ(std::string(d[2].begin() + 8, d[2].end()), "END\r\n");
  const Counters& c = t.engine.counters();
  EXPECT_EQ(c.get_hits, 4u);
  EXPECT_EQ(c.get_misses, 2u);
  EXPECT_EQ(c.errors, 3u);
}

TEST(Engine, IncrOnAValueWithoutANumber) {
  Tenant t(64 * 1024);
  for (const std::string& v : {std::string(""), std::string(" "), std::string("\t\r\n"), std::string("\n"),
                              std::string(300, ' '), std::string("-"), std::string("+"), std::string("- 1"),
                              std::string("1-"), std::string(1, '\0'), std::string("x1")}) {
    EXPECT_EQ(t.ask("set w 0 0 " + std::to_string(v.size()) + "\r\n" + v + "\r\nincr w 1\r\ndecr w 1\r\n"),
              "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
              "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")
        << v;
  }
  EXPECT_EQ(t.ask("set w 0 0 5\r\n \t7\r\n\r\nincr w 1\r\nget w\r\n"), "STORED\r\n8\r\nVALUE w 0 5\r\n8    \r\nEND\r\n");
}

TEST(Engine, SplitsRepliesInto1400ByteDatagrams) {
  Tenant t(256 * 1024);
  const std::string value(5000, 'v');
  ASSERT_EQ(t.ask("set big 0 0 5000\r\n" + value + "\r\n"), "STORED\r\n");
  const auto d = t.datagrams("get big\r\n", 0xbeef);
  expect_well_framed(d, 0xbeef);
  const std::string body = "VALUE big 0 5000\r\n" + value + "\r\nEND\r\n";
  ASSERT_EQ(d.size(), (body.size() + 1391) / 1392);
  std::string joined;
  for (const auto& x : d) joined.append(x.begin() + 8, x.end());
  EXPECT_EQ(joined, body);
}

TEST(Engine, ExpirationTimesFollowTheClock) {
  int64_t now = 1'700'000'000;
  Config config;
  config.clock = [](void* ctx) { return *static_cast<int64_t*>(ctx); };
  config.clock_context = &now;
  Tenant t(64 * 1024, config);
  ASSERT_TRUE(t.ok);
  t.ask("set rel 0 10 1\r\nr\r\nset abs 0 1700000020 1\r\na\r\nset never 0 0 1\r\nn\r\n");
  EXPECT_EQ(t.ask("get rel abs never\r\n"), "VALUE rel 0 1\r\nr\r\nVALUE abs 0 1\r\na\r\nVALUE never 0 1\r\nn\r\nEND\r\n");
  now += 10;
  EXPECT_EQ(t.ask("get rel abs never\r\n"), "VALUE abs 0 1\r\na\r\nVALUE never 0 1\r\nn\r\nEND\r\n");
  now += 10;
  EXPECT_EQ(t.ask("get never abs\r\n"), "VALUE never 0 1\r\nn\r\nEND\r\n");
  EXPECT_EQ(t.engine.counters().reclaimed, 2u);
  EXPECT_EQ(t.ask("set past 0 1699999999 1\r\np\r\nget past\r\nadd past 0 0 1\r\nq\r\n"), "STORED\r\nEND\r\nSTORED\r\n");
  // Without a clock, positive times never expire; negative ones expire at once.
  Tenant no_clock(64 * 1024);
  EXPECT_EQ(no_clock.ask("set a 0 1 1\r\na\r\nset b 0 -1 1\r\nb\r\nget a b\r\n"), "STORED\r\nSTORED\r\nVALUE a 0 1\r\na\r\nEND\r\n");
}

TEST(Engine, ARefusingSinkCutsTheReplyShort) {
  Tenant t(256 * 1024);
  t.ask("set big 0 0 5000\r\n" + std::string(5000, 'v') + "\r\n");
  std::string d = {0, 9, 0, 0, 0, 1, 0, 0};
  d += "get big\r\nset after 0 0 1\r\nx\r\n";
  Sink sink;
  sink.refuse_after = 1;
  t.engine.handle(net::Peer{}, reinterpret_cast<const uint8_t*>(d.data()), d.size(), sink);
  EXPECT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(t.engine.counters().tx_failed, 1u);
  // The commands still ran; the next request is answered whole.
  EXPECT_EQ(t.ask("get after\r\n"), "VALUE after 0 1\r\nx\r\nEND\r\n");
}

TEST(Engine, AttachAdoptsACopiedRegion) {
  Tenant a(64 * 1024), b(64 * 1024);
  a.ask("set k 3 0 5\r\nhello\r\n");
  std::memcpy(b.region(), a.region(), 64 * 1024);
  Engine copy;
  ASSERT_TRUE(copy.attach(b.region(), 64 * 1024));
  EXPECT_EQ(copy.counters().stored, 1u);
  Sink sink;
  const std::string d = std::string{0, 1, 0, 0, 0, 1, 0, 0} + "get k\r\n";
  copy.handle(net::Peer{}, reinterpret_cast<const uint8_t*>(d.data()), d.size(), sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(std::string(sink.sent[0].begin() + 8, sink.sent[0].end()), "VALUE k 3 5\r\nhello\r\nEND\r\n");
  Engine none;
  std::memset(b.region(), 0, 64 * 1024);
  EXPECT_FALSE(none.attach(b.region(), 64 * 1024));
}

// Requests to mutate: every command, data blocks, several commands in a datagram.
const char* const kCorpus[] = {
    "set a 5 0 3\r\nabc\r\n",
    "get a b c\r\n",
    "gets a a\r\n",
    "add b 0 0 5 noreply\r\nhello\r\n",
    "replace a 1 100 2\r\nxy\r\n",
    "delete a 0 noreply\r\n",
    "incr n 18446744073709551615\r\n",
    "set n 0 0 2\r\n99\r\nincr n 1\r\ndecr n 1000\r\n",
    "set big 0 0 3000\r\n",  // the data is appended below
    "get b b b b b b b b b b b b b b b b b b b b b b b b b b b b b\r\n",
    "delete zz\r\ndelete zz\r\nget a kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n",
    "set k 4294967295 -1 0\r\n\r\nget k\r\n",
};

std::vector<std::string> corpus() {
  std::vector<std::string> out(std::begin(kCorpus), std::end(kCorpus));
  out[8] += std::string(3000, 'b') + "\r\nget big big\r\n";
  return out;
}

// Feeds datagrams and checks that every reply is framed, nothing outside the region is written and
// the store stays consistent.
void fuzz(Tenant& t, std::mt19937& rng, int rounds) {
  const auto seeds = corpus();
  const char* const tokens[] = {"get ", "gets ", "set ", "add ", "replace ", "delete ", "incr ", "decr ", "noreply",
                                " ", "\r\n", "\n", "\r", "0", "1", "-1", "4294967296", "a", "b", "n", "\0", "\t"};
  for (int i = 0; i < rounds; ++i) {
    std::string d;
    const uint16_t id = static_cast<uint16_t>(rng());
    d.push_back(static_cast<char>(id >> 8));
    d.push_back(static_cast<char>(id & 0xff));
    d.append({static_cast<char>(rng() % 3 == 0 ? rng() : 0), static_cast<char>(rng() % 8 == 0 ? rng() : 0), 0,
              static_cast<char>(rng() % 16 == 0 ? rng() : 1), 0, static_cast<char>(rng() % 16 == 0 ? rng() : 0)});
    switch (rng() % 5) {
      case 0:  // random bytes
        for (size_t n = rng() % 2000; n > 0; --n) d.push_back(static_cast<char>(rng()));
        break;
      case 1: {  // a valid request, mutated
        std::string s = seeds[rng() % seeds.size()];
        for (int m = static_cast<int>(rng() % 4); m >= 0 && !s.empty(); --m) {
          const size_t at = rng() % s.size();
          switch (rng() % 3) {
            case 0: s[at] = static_cast<char>(rng()); break;
            case 1: s.erase(at, rng() % 8); break;
            default: s.insert(at, tokens[rng() % std::size(tokens)]); break;
          }
        }
        d += s;
        break;
      }
      case 2: {  // a valid request, truncated
        const std::string& s = seeds[rng() % seeds.size()];
        d += s.substr(0, rng() % (s.size() + 1));
        break;
      }
      case 3:  // tokens strung together
        for (size_t n = rng() % 30; n > 0; --n) d += tokens[rng() % std::size(tokens)];
        break;
      default:  // well-formed commands on a few keys, values of digits, signs and whitespace
        for (size_t n = 1 + rng() % 6; n > 0; --n) {
          const std::string key(1, "abn"[rng() % 3]);
          std::string value;
          for (size_t k = rng() % (rng() % 8 == 0 ? 300 : 8); k > 0; --k) value.push_back("0123456789 \t\r\n-+x"[rng() % 17]);
          switch (rng() % 5) {
            case 0: d += "set " + key + " 0 0 " + std::to_string(value.size()) + "\r\n" + value + "\r\n"; break;
            case 1: d += (rng() % 2 ? "incr " : "decr ") + key + " " + std::to_string(rng() % 1000) + "\r\n"; break;
            case 2: d += "get " + key + " a b n\r\n"; break;
            case 3: d += "delete " + key + "\r\n"; break;
            default: d += "add " + key + " 1 0 1\r\n7\r\n"; break;
          }
        }
        break;
    }
    if (rng() % 50 == 0) d.resize(rng() % 9);
    Sink sink;
    t.engine.handle(net::Peer{}, reinterpret_cast<const uint8_t*>(d.data()), d.size(), sink);
    if (d.size() >= 8) expect_well_framed(sink.sent, id);
    if (i % 1000 == 0) {
      ASSERT_TRUE(t.engine.store().check_invariants()) << "round " << i;
      ASSERT_TRUE(t.guards_intact()) << "round " << i;
    }
  }
  EXPECT_TRUE(t.engine.store().check_invariants());
  EXPECT_TRUE(t.guards_intact());
}

TEST(Engine, SurvivesRandomMutatedAndTruncatedDatagrams) {
  for (size_t bytes : {Engine::kMinRegionBytes, size_t{16 * 1024}, size_t{256 * 1024}}) {
    Tenant t(bytes);
    ASSERT_TRUE(t.ok);
    std::mt19937 rng(static_cast<uint32_t>(bytes));
    fuzz(t, rng, 20000);
    // Still serving.
    EXPECT_EQ(t.ask("set ok 0 0 2\r\nok\r\nget ok\r\n"), "STORED\r\nVALUE ok 0 2\r\nok\r\nEND\r\n");
    EXPECT_GT(t.engine.counters().commands, 1000u);
  }
}

TEST(Engine, EveryTruncationOfEveryRequest) {
  Tenant t(32 * 1024);
  for (const std::string& s : corpus()) {
    for (size_t n = 0; n <= s.size(); ++n) {
      std::string d = std::string{0, 7, 0, 0, 0, 1, 0, 0} + s.substr(0, n);
      Sink sink;
      t.engine.handle(net::Peer{}, reinterpret_cast<const uint8_t*>(d.data()), d.size(), sink);
      expect_well_framed(sink.sent, 7);
      // And the header itself cut short.
      t.engine.handle(net::Peer{}, reinterpret_cast<const uint8_t*>(d.data()), n < 8 ? n : 8, sink);
    }
  }
  EXPECT_TRUE(t.engine.store().check_invariants());
  EXPECT_TRUE(t.guards_intact());
}

}  // namespace
}  // namespace edgeos::apps::memcached

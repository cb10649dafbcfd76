// Trace readers and writers: what is written is read back exactly; malformed traces are refused
// with the file, line and field; replay streams in bounded memory.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"

namespace edgeos::arrivals {
namespace {

namespace fs = std::filesystem;

class Traces : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt_dir();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  static std::string fmt_dir() {
    return "edgeos-traces-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  fs::path dir_;
};

std::vector<Arrival> drain(Source& s) {
  std::vector<Arrival> out;
  Arrival a;
  while (s.next(a)) out.push_back(a);
  return out;
}

Instant at(int64_t ns) { return Instant::from_ns(ns); }

// Arrivals with every field set, two tenants, two kinds.
std::vector<Arrival> sample_arrivals() {
  std::vector<Arrival> v;
  Rng rng(42);
  int64_t t = 0;
  for (int i = 0; i < 500; ++i) {
    t += rng.between(0, 5000);  // ties included
    Arrival a;
    a.time = at(t);
    a.target = static_cast<uint32_t>(rng.below(2));
    a.kind = static_cast<uint16_t>(1 + rng.below(2));
    a.size = static_cast<uint32_t>(rng.below(100000));
    a.cost = Duration::nanoseconds(rng.between(1, 1'000'000));
    a.deadline = rng.below(4) == 0 ? Duration::zero() : Duration::nanoseconds(rng.between(1, 50'000'000));
    v.push_back(a);
  }
  return v;
}

void write_and_replay(const std::string& file) {
  const std::vector<Arrival> in = sample_arrivals();
  const std::string tenants[2] = {"alpha", "beta"};
  const std::string kinds[3] = {"", "get", "set"};
  TraceWriter w(file);
  for (const Arrival& a : in) w.add(a, tenants[a.target], kinds[a.kind]);
  w.commit();
  EXPECT_EQ(w.written(), in.size());

  Mapping m;
  m.by_tenant = {{"alpha", 0}, {"beta", 1}};
  auto src = trace(file, m, Instant::epoch(), Instant::never());
  const std::vector<Arrival> out = drain(*src);
  ASSERT_EQ(out.size(), in.size());
  const std::vector<std::string> names = src->kinds();
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].time, in[i].time) << i;
    EXPECT_EQ(out[i].target, in[i].target) << i;
    EXPECT_EQ(names.at(out[i].kind), kinds[in[i].kind]) << i;
    EXPECT_EQ(out[i].size, in[i].size) << i;
    EXPECT_EQ(out[i].cost, in[i].cost) << i;
    EXPECT_EQ(out[i].deadline, in[i].deadline) << i;
  }
}

TEST_F(Traces, CsvRoundTripsExactly) { write_and_replay(path("t.csv")); }
TEST_F(Traces, JsonLinesRoundTripsExactly) { write_and_replay(path("t.jsonl")); }

TEST_F(Traces, CsvUnitsColumnOrderAndShift) {
  const std::string f = write("u.csv",
                              "# comment\n"
                              "tenant,cost_us,time_ms,deadline_s\n"
                              "a,1.5,0.25,0.001\n"
                              "a,2,3,1\n");
  Mapping m;
  m.all = 7;
  // Shifted by 1s; the second record (3ms + 1s) lies beyond the stop.
  auto src = trace(f, m, at(1'000'000'000), at(1'002'000'000));
  const std::vector<Arrival> a = drain(*src);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].time, at(1'000'250'000));
  EXPECT_EQ(a[0].cost, Duration::nanoseconds(1500));
  EXPECT_EQ(a[0].deadline, Duration::milliseconds(1));
  EXPECT_EQ(a[0].target, 7u);
}

TEST_F(Traces, TheLargestNanosecondCountsAreReadExactly) {
  const int64_t max = INT64_MAX;
  for (const auto& [name, text] : {
           std::pair{"max.csv", "time_ns,tenant,cost_ns,deadline_ns\n0,a,9223372036854775807,9223372036854775807\n"},
           std::pair{"max.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n"
                                  "{\"time\":0,\"tenant\":\"a\",\"cost\":9223372036854775807,\"deadline\":9223372036854775807}\n"}}) {
    Mapping m;
    m.all = 0;
    auto src = trace(write(name, text), m, Instant::epoch(), Instant::never());
    const std::vector<Arrival> a = drain(*src);
    ASSERT_EQ(a.size(), 1u) << name;
    EXPECT_EQ(a[0].cost.ns(), max) << name;
    EXPECT_EQ(a[0].deadline.ns(), max) << name;
  }
}

// Each malformed trace and the words its error must contain (besides the file name).
struct Bad {
  const char* name;
  const char* text;
  const char* error;
};

TEST_F(Traces, MalformedTracesNameFileLineAndField) {
  const Bad cases[] = {
      {"unsorted.csv", "time_ns,tenant\n10,a\n5,a\n", ":3: unsorted trace"},
      {"unmapped.csv", "time_ns,tenant\n10,zeta\n", ":2: tenant \"zeta\" is not mapped"},
      {"badtime.csv", "time_ns,tenant\nten,a\n", ":2: field 'time_ns': invalid value 'ten'"},
      {"negative.csv", "time_ns,tenant\n-5,a\n", ":2: field 'time_ns': invalid value '-5'"},
      {"truncated.csv", "time_ns,tenant,cost_ns\n10,a,5\n20,a\n", ":3: expected 3 fields, got 2"},
      {"badunit.csv", "time_ns,tenant,cost_fortnights\n", "column 'cost_fortnights': unknown unit"},
      {"nocolumn.csv", "tenant,kind\n", "missing column time_<unit>"},
      {"unknown.csv", "time_ns,tenant,colour\n", "unknown column 'colour'"},
      {"badsize.csv", "time_ns,tenant,size_bytes\n1,a,12kb\n", ":2: field 'size_bytes'"},
      {"empty.csv", "", "empty trace"},
      {"garbage.csv", "time_ns,tenant\n\x01\x02\xff\xfe,a\n", ":2: field 'time_ns': invalid value '?" "?" "?" "?'"},
      {"noheader.jsonl", "{\"time\": 1, \"tenant\": \"a\"}\n", ":1: the first line must be the header"},
      {"badjson.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\": 1, \"tenant\": \n", ":2: not valid JSON"},
      {"version.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":2}\n", ":1: unsupported version"},
      // Header fields of the wrong type (found by tests/fuzz).
      {"formattype.jsonl", "{\"format\":0}\n", ":1: the first line must be the header"},
      {"versiontype.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":\"1\"}\n", ":1: unsupported version"},
      {"unitstype.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1,\"units\":5}\n", ":1: units: expected an object"},
      {"unittype.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1,\"units\":{\"time\":1}}\n",
       ":1: units.time: expected a unit"},
      {"field.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":1,\"tenant\":\"a\",\"colour\":3}\n",
       ":2: unknown field 'colour'"},
      {"negcost.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":1,\"tenant\":\"a\",\"cost\":-1}\n",
       ":2: field 'cost': expected a non-negative number"},
      {"unsorted.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":5,\"tenant\":\"a\"}\n{\"time\":4,\"tenant\":\"a\"}\n",
       ":3: unsorted trace"},
      {"trace.txt", "time_ns,tenant\n", "unknown trace format"},
      // Beyond signed 64-bit nanoseconds: out of range, in both formats (a JSON deadline of 1e19
      // used to wrap negative and abort the simulator; a time, to be reported as unsorted).
      {"bigtime.csv", "time_ns,tenant\n9223372036854775808,a\n", ":2: field 'time_ns': value '9223372036854775808' is out of range"},
      {"bigtime_s.csv", "time_s,tenant\n1e10,a\n", ":2: field 'time_s': value '1e10' is out of range"},
      {"bigcost.csv", "time_ns,tenant,cost_ns\n1,a,1e400\n", ":2: field 'cost_ns': value '1e400' is out of range"},
      {"bigdeadline.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":1000,\"tenant\":\"a\",\"deadline\":1e19}\n",
       ":2: field 'deadline': 1e+19 is out of range (at most 2^63 - 1 ns"},
      {"bigtime.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":1,\"tenant\":\"a\"}\n{\"time\":1e19,\"tenant\":\"a\"}\n",
       ":3: field 'time': 1e+19 is out of range"},
      {"bigint.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1}\n{\"time\":9223372036854775808,\"tenant\":\"a\"}\n",
       ":2: field 'time': 9223372036854775808 is out of range"},
      {"bigcost.jsonl", "{\"format\":\"edgeos-arrivals\",\"version\":1,\"units\":{\"cost\":\"s\"}}\n{\"time\":1,\"tenant\":\"a\",\"cost\":10000000000}\n",
       ":2: field 'cost': 10000000000 is out of range"},
  };
  for (const Bad& b : cases) {
    const std::string f = write(b.name, b.text);
    Mapping m;
    m.by_tenant = {{"a", 0}};
    try {
      auto src = trace(f, m, Instant::epoch(), Instant::never());
      drain(*src);
      ADD_FAILURE() << b.name << ": accepted";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(f), std::string::npos) << b.name << ": " << what;
      EXPECT_NE(what.find(b.error), std::string::npos) << b.name << ": " << what;
    }
  }
}

TEST_F(Traces, AzureCountsBecomeThatManyArrivalsInTheirMinute) {
  std::string head = "HashOwner,HashApp,HashFunction,Trigger";
  for (int m = 1; m <= 1440; ++m) head += "," + std::to_string(m);
  auto row = [](const std::string& f, int m0, int m1, int m2) {
    std::string r = "o,a," + f + ",http";
    for (int m = 0; m < 1440; ++m) r += "," + std::to_string(m == 0 ? m0 : m == 1 ? m1 : m == 2 ? m2 : 0);
    return r;
  };
  const std::string f = write("azure.csv", head + "\n" + row("f0", 3, 0, 5) + "\n" + row("f1", 2, 4, 0) + "\n" + row("f2", 1, 1, 1) + "\n");
  // Minutes 1..2 (0-based from 0: the second and third), functions onto targets 10, 11 round
  // robin (f0 -> 10, f1 -> 11, f2 -> 10), counts doubled.
  auto src = azure(f, {10, 11}, 1, 3, 2.0, Rng(1), Instant::epoch(), Instant::never(), nullptr);
  const std::vector<Arrival> a = drain(*src);
  std::map<std::pair<int64_t, uint32_t>, int> per_minute_target;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(a[i - 1].time, a[i].time);
    }
    ++per_minute_target[{a[i].time.ns() / 60'000'000'000, a[i].target}];
  }
  // Minute 0 of the run = trace minute 1: f0 0, f1 4, f2 1 -> target 10: 2, target 11: 8.
  // Minute 1 of the run = trace minute 2: f0 5, f1 0, f2 1 -> target 10: 12.
  EXPECT_EQ(per_minute_target, (std::map<std::pair<int64_t, uint32_t>, int>{{{0, 10}, 2}, {{0, 11}, 8}, {{1, 10}, 12}}));

  const std::string short_row = write("bad.csv", head + "\no,a,f,http,1,2\n");
  EXPECT_THROW(azure(short_row, {0}, 0, 1, 1, Rng(1), Instant::epoch(), Instant::never(), nullptr), InputError);
  const std::string not_azure = write("notazure.csv", "time_ns,tenant\n1,a\n");
  EXPECT_THROW(azure(not_azure, {0}, 0, 1, 1, Rng(1), Instant::epoch(), Instant::never(), nullptr), InputError);
}

TEST_F(Traces, AzureMinutesAreBoundedBeforeTheyAreExpanded) {
  std::string head = "HashOwner,HashApp,HashFunction,Trigger";
  for (int m = 1; m <= 1440; ++m) head += "," + std::to_string(m);
  auto row = [](const std::string& m0, const std::string& m2) {
    std::string r = "o,a,f,http";
    for (int m = 0; m < 1440; ++m) r += "," + (m == 0 ? m0 : m == 2 ? m2 : std::string("0"));
    return r;
  };
  auto error_of = [&](const std::string& name, const std::string& rows, double scale, Instant stop) {
    try {
      auto src = azure(write(name, head + "\n" + rows), {0}, 0, 1440, scale, Rng(1), Instant::epoch(), stop, nullptr);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const Instant never = Instant::never();
  // One count of 1e12 (it used to end in std::bad_alloc), or a scale that makes one too large.
  EXPECT_NE(error_of("a.csv", row("1e12", "0") + "\n", 1, never).find("a.csv:2: minute 1: with scale 1 the minute's invocations "
                                                                       "make more than 10000000 arrivals"),
            std::string::npos);
  EXPECT_NE(error_of("b.csv", row("1186", "0") + "\n", 1e6, never).find("b.csv:2: minute 1: with scale 1000000 "), std::string::npos);
  // Rows add up: the third row takes minute 3 over the limit.
  const std::string half = row("0", "4000000");
  EXPECT_NE(error_of("c.csv", half + "\n" + half + "\n" + half + "\n", 1, never).find("c.csv:4: minute 3:"), std::string::npos);
  // A minute after the run's end is never expanded, and not counted; at the limit is allowed.
  EXPECT_EQ(error_of("d.csv", row("1", "1e12") + "\n", 1, Instant::epoch() + Duration::seconds(120)), "(accepted)");
  EXPECT_NE(error_of("d.csv", row("1", "1e12") + "\n", 1, Instant::epoch() + Duration::seconds(121)).find("minute 3:"), std::string::npos);
  EXPECT_EQ(error_of("e.csv", row("5000000", "0") + "\n" + row("5000000", "0") + "\n", 1, never), "(accepted)");
}

TEST_F(Traces, PcapOneArrivalPerPacketByPort) {
  std::vector<Packet> packets;
  for (int i = 0; i < 100; ++i) {
    packets.push_back({at(5'000'000'000 + int64_t{i} * 1'234'567), static_cast<uint16_t>(i % 3 == 0 ? 53 : 11211),
                       static_cast<uint32_t>(100 + i)});
  }
  const std::string f = path("p.pcap");
  write_pcap(f, packets);
  // Port 11211 only; times relative to the first packet of the capture.
  auto src = pcap(f, {{11211, 4}}, std::nullopt, Instant::epoch(), Instant::never());
  const std::vector<Arrival> a = drain(*src);
  std::vector<Packet> expected;
  for (const Packet& p : packets) {
    if (p.dst_port == 11211) expected.push_back(p);
  }
  ASSERT_EQ(a.size(), expected.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].time.ns(), expected[i].time.ns() - packets[0].time.ns());
    EXPECT_EQ(a[i].size, 14 + 20 + 8 + expected[i].payload);  // the frame's original length
    EXPECT_EQ(a[i].target, 4u);
  }
  auto all = pcap(f, {}, 9u, Instant::epoch(), Instant::never());
  EXPECT_EQ(drain(*all).size(), packets.size());

  const std::string junk = write("junk.pcap", "this is not a capture at all, just text\n");
  EXPECT_THROW(pcap(junk, {}, 0u, Instant::epoch(), Instant::never()), InputError);
  // A capture cut mid-record: the packets before the cut replay, then the error names the file.
  std::string bytes;
  {
    std::ifstream in(f, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = write("cut.pcap", bytes.substr(0, bytes.size() - 10));
  auto truncated = pcap(cut, {}, 0u, Instant::epoch(), Instant::never());
  Arrival x;
  size_t n = 0;
  try {
    while (truncated->next(x)) ++n;
    ADD_FAILURE() << "a truncated capture replayed to its end";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
  }
  EXPECT_EQ(n, packets.size() - 1);
}

TEST_F(Traces, PcapngTimestampsBeyondInt64NanosecondsAreAnError) {
  // pcapng timestamps have 64 bits of microseconds: 2^64 - 1 us does not fit int64 nanoseconds,
  // and computing it overflowed (found by tests/fuzz).
  std::string b;
  auto u32 = [&](uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  auto block = [&](uint32_t kind, std::string body) {
    body.resize((body.size() + 3) / 4 * 4, '\0');  // blocks are padded to 32 bits
    u32(kind);
    u32(static_cast<uint32_t>(12 + body.size()));
    b += body;
    u32(static_cast<uint32_t>(12 + body.size()));
  };
  const std::string frame(42, '\0');
  auto le = [](uint64_t v, int n) { return std::string(reinterpret_cast<const char*>(&v), n); };
  block(0x0a0d0d0a, le(0x1a2b3c4d, 4) + le(1, 2) + le(0, 2) + le(~uint64_t{0}, 8));            // section header
  block(1, le(1, 2) + le(0, 2) + le(65535, 4));                                                  // Ethernet interface
  block(6, le(0, 4) + le(0xffffffff, 4) + le(0xffffffff, 4) + le(42, 4) + le(42, 4) + frame);  // enhanced packet
  const std::string f = write("huge.pcapng", b);
  auto src = pcap(f, {}, 0u, Instant::epoch(), Instant::never());
  Arrival a;
  try {
    src->next(a);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("timestamp out of range"), std::string::npos) << e.what();
  }
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(Traces, ReplayStreamsInBoundedMemory) {
  // A 64 MB trace (2.4 million records) replays with the process's peak memory growing by far
  // less than the file: the reader holds one buffer, not the trace.
  const std::string f = path("big.csv");
  {
    std::FILE* out = std::fopen(f.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::fputs("time_ns,tenant,kind,size_bytes,cost_ns\n", out);
    char line[96];
    for (int64_t i = 0; i < 2'400'000; ++i) {
      const int n = std::snprintf(line, sizeof line, "%lld,tenant-%lld,get,%lld,%lld\n", static_cast<long long>(i * 1000),
                                  static_cast<long long>(i % 2), static_cast<long long>(i % 4096), static_cast<long long>(1000 + i % 977));
      std::fwrite(line, 1, static_cast<size_t>(n), out);
    }
    std::fclose(out);
  }
  ASSERT_GT(fs::file_size(f), 60u << 20);
  const long before = max_rss_kib();
  Mapping m;
  m.by_tenant = {{"tenant-0", 0}, {"tenant-1", 1}};
  auto src = trace(f, m, Instant::epoch(), Instant::never());
  Arrival a;
  uint64_t n = 0;
  int64_t sum = 0;
  while (src->next(a)) {
    ++n;
    sum += a.size;
  }
  EXPECT_EQ(n, 2'400'000u);
  EXPECT_GT(sum, 0);
  EXPECT_LT(max_rss_kib() - before, 16 * 1024) << "peak memory grew by more than 16 MiB while replaying 64 MB";
}

}  // namespace
}  // namespace edgeos::arrivals

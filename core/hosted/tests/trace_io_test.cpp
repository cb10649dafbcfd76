#include "edgeos/hosted/trace_io.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"

namespace edgeos {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("edgeos-test-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::vector<TraceRecord> sample() {
  auto rec = [](int64_t t, uint16_t cpu, TraceEvent e, uint32_t fwp, uint32_t th, uint64_t job, int64_t v) {
    TraceRecord r;
    r.time_ns = t;
    r.cpu = cpu;
    r.event = e;
    r.fwp = fwp;
    r.thread = th;
    r.job = job;
    r.value = v;
    return r;
  };
  return {
      rec(0, kNoCpu, TraceEvent::kFwpCreate, 0, kNoIndex, 0, 0),
      rec(0, 0, TraceEvent::kRelease, 0, 0, 0, 5000),
      rec(0, 0, TraceEvent::kStart, 0, 0, 0, 0),
      rec(1500, 1, TraceEvent::kRelease, 0, 1, 0, -1),
      rec(1500, 1, TraceEvent::kStart, 0, 1, 0, 0),
      rec(2000, 0, TraceEvent::kComplete, 0, 0, 0, 2000),
      rec(2500, 1, TraceEvent::kPreempt, 0, 1, 0, 2),
      rec(2500, 1, TraceEvent::kStart, 0, 2, 0, 0),
      rec(7000, 1, TraceEvent::kDeadlineMiss, 0, 2, 0, 7000),
  };
}

TEST(TraceCsv, RoundTrips) {
  const fs::path p = temp_dir() / "t.csv";
  write_trace_csv(p.string(), sample());
  EXPECT_EQ(read_trace_csv(p.string()), sample());
  std::ifstream in(p);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header, "time_ns,cpu,event,fwp,thread,job,value");
  EXPECT_EQ(first, "0,-1,fwp_create,0,-1,0,0") << "'none' is written as -1";
}

// The line formatter writes small integers itself, the others with std::to_chars: every field
// at every digit boundary, the extremes and a random sample, against fmt's decimal text.
TEST(TraceCsv, IntegersAsFmtWritesThem) {
  std::vector<uint64_t> values = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, UINT64_MAX, UINT64_MAX - 1};
  for (uint64_t p = 10;; p *= 10) {
    for (uint64_t v : {p - 1, p, p + 1, 2 * p - 1, p + p / 2 + 7}) values.push_back(v);
    if (p > UINT64_MAX / 10) break;
  }
  values.push_back(10'000'000'000'000'000'000u);
  values.push_back(9'999'999'999'999'999'999u);
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    values.push_back(x >> (x % 64));
  }
  for (uint64_t v : values) {
    TraceRecord r;
    r.time_ns = static_cast<int64_t>(v);
    r.cpu = static_cast<uint16_t>(v % kNoCpu);
    r.event = TraceEvent::kRelease;
    r.fwp = static_cast<uint32_t>(v);
    r.thread = static_cast<uint32_t>(v >> 32);
    r.job = v;
    r.value = static_cast<int64_t>(uint64_t{0} - v);  // negative, and INT64_MIN
    auto none = [](uint64_t index, uint64_t no) { return index == no ? std::string("-1") : fmt::format("{}", index); };
    const std::string want = fmt::format("{},{},release,{},{},{},{}\n", r.time_ns, none(r.cpu, kNoCpu),
                                         none(r.fwp, kNoIndex), none(r.thread, kNoIndex), r.job, r.value);
    std::string got;
    append_csv_line(got, r);
    ASSERT_EQ(got, want) << v;
  }
}

TEST(TraceCsv, ReaderNamesFileLineAndField) {
  const fs::path p = temp_dir() / "bad.csv";
  auto expect_error = [&](const std::string& body, const std::string& needle) {
    std::ofstream(p) << body;
    try {
      read_trace_csv(p.string());
      ADD_FAILURE() << "accepted: " << body;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("time,cpu\n", ":1: expected the header");
  expect_error("time_ns,cpu,event,fwp,thread,job,value\n0,0,release,0,0,0,1\n5,0,explode,0,0,0,1\n", ":3: field 'event'");
  expect_error("time_ns,cpu,event,fwp,thread,job,value\n0,x,release,0,0,0,1\n", ":2: field 'cpu'");
  expect_error("time_ns,cpu,event,fwp,thread,job,value\n0,0,release,0,0,0\n", ":2: expected 7");
  expect_error("time_ns,cpu,event,fwp,thread,job,value\n0,0,release,0,0,0,1,9\n", ":2: expected 7");
  EXPECT_THROW(read_trace_csv((temp_dir() / "missing.csv").string()), InputError);
}

TEST(AtomicFile, NothingIsLeftWhenAWriterFails) {
  const fs::path dir = temp_dir() / "atomic";
  fs::remove_all(dir);
  {
    AtomicFile f((dir / "out.csv").string());
    f.write("partial");
    // destroyed without commit: as if the writer threw
  }
  EXPECT_FALSE(fs::exists(dir / "out.csv"));
  EXPECT_TRUE(fs::is_empty(dir)) << "no temporary file left behind";
  write_file_atomically((dir / "out.csv").string(), "whole");
  std::ifstream in(dir / "out.csv");
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "whole");
}

TEST(AtomicFile, ASignalHandlerCanRemoveTheTemporariesOfLiveWriters) {
  const fs::path dir = temp_dir() / "atomic-signal";
  fs::remove_all(dir);
  write_file_atomically((dir / "old.csv").string(), "previous run");
  AtomicFile open((dir / "new.csv").string());
  open.write("12345");
  EXPECT_EQ(open.bytes(), 5u);
  AtomicFile committed((dir / "old.csv").string());
  committed.write("this run");
  {
    AtomicFile gone((dir / "gone.csv").string());  // destroyed: no longer registered
  }
  // As a handler would before ending the process: no *.tmp.* stays, finished files are kept.
  remove_temporary_files();
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"old.csv"});
  std::ifstream in(dir / "old.csv");
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "previous run");
}

TEST(Perfetto, JsonHasOneTrackPerCpuAndNonOverlappingJobSlices) {
  TraceNames names;
  names.run = "unit \"test\"";
  names.threads = {"a", "b", "c"};
  names.fwps = {"tenant"};
  const std::string text = perfetto_json(sample(), names, Instant::from_ns(9000));
  const nlohmann::json j = nlohmann::json::parse(text);  // must be valid JSON
  ASSERT_TRUE(j.contains("traceEvents"));
  std::map<int, std::string> tracks;
  std::map<int, std::vector<std::pair<double, double>>> slices;
  int instants = 0;
  for (const auto& e : j["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") tracks[e["tid"]] = e["args"]["name"];
    if (ph == "X") slices[e["tid"]].push_back({e["ts"].get<double>(), e["dur"].get<double>()});
    if (ph == "i") ++instants;
  }
  EXPECT_EQ(tracks[0], "CPU 0");
  EXPECT_EQ(tracks[1], "CPU 1");
  EXPECT_EQ(tracks[2], "FWP life cycle");
  // CPU 0: a runs 0-2us. CPU 1: b 1.5-2.5us, then c from 2.5us to the end (9us).
  ASSERT_EQ(slices[0].size(), 1u);
  EXPECT_DOUBLE_EQ(slices[0][0].first, 0.0);
  EXPECT_DOUBLE_EQ(slices[0][0].second, 2.0);
  ASSERT_EQ(slices[1].size(), 2u);
  EXPECT_DOUBLE_EQ(slices[1][0].first, 1.5);
  EXPECT_DOUBLE_EQ(slices[1][0].second, 1.0);
  EXPECT_DOUBLE_EQ(slices[1][1].first, 2.5);
  EXPECT_DOUBLE_EQ(slices[1][1].second, 6.5);
  EXPECT_EQ(instants, 4);  // fwp_create, two releases, one deadline miss
  EXPECT_NE(text.find("tenant/c #0"), std::string::npos);
}

}  // namespace
}  // namespace edgeos

// The kernel's binary wire format (trace_wire.hpp), against its layout written out by hand.
#include "edgeos/core/trace_wire.hpp"

namespace edgeos {
namespace {

TEST(TraceWire, RecordLayoutAndRoundTrip) {
  TraceRecord r;
  r.time_ns = 0x0102030405060708;
  r.cpu = 0x0a0b;
  r.event = TraceEvent::kPktDrop;
  r.fwp = 0x11223344;
  r.thread = 0x55667788;
  r.job = 0x99aabbccddeeff00;
  r.value = -2;
  uint8_t b[trace_wire::kRecordSize];
  trace_wire::encode(r, b);
  const uint8_t want[40] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // time_ns
                            0x0b, 0x0a, 21,   0,                                // cpu, event, reserved
                            0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55,  // fwp, thread
                            0,    0,    0,    0,                                // reserved
                            0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99,  // job
                            0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // value
  EXPECT_EQ(std::vector<uint8_t>(b, b + 40), std::vector<uint8_t>(want, want + 40));
  TraceRecord back;
  ASSERT_TRUE(trace_wire::decode(b, back));
  EXPECT_EQ(back, r);
  b[10] = static_cast<uint8_t>(kNumTraceEvents);  // an event this build does not know
  EXPECT_FALSE(trace_wire::decode(b, back));

  uint8_t h[trace_wire::kHeaderSize];
  trace_wire::encode_header(1'000'000'000, h);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(h), 8), "EDGEOSTR");
  EXPECT_EQ(trace_wire::check_header(h, sizeof h), trace_wire::HeaderCheck::kOk);
  EXPECT_EQ(trace_wire::check_header(h, 31), trace_wire::HeaderCheck::kNotATrace);
  h[12] = 41;  // another record size
  EXPECT_EQ(trace_wire::check_header(h, sizeof h), trace_wire::HeaderCheck::kUnsupported);
}

}  // namespace
}  // namespace edgeos

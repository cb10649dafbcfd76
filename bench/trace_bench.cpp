// Trace loading and replay: arrivals per second from a CSV trace, against the speed of merely
// finding its lines (the I/O and memchr floor) in the same process. Trace writing: CSV bytes per
// second of CsvTraceWriter, against writing the same number of bytes through the same file class
// (the I/O floor, `cat` speed) and against memcpy of them.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::bench {
namespace {

constexpr int64_t kRecords = 2'000'000;

// A 2M-record CSV trace in the temporary directory, written once per process (about 70 MB).
const std::string& trace_file() {
  static const std::string path = [] {
    const std::string p = (std::filesystem::temp_directory_path() / ("edgeos-bench-" + std::to_string(::getpid()) + ".csv")).string();
    std::FILE* f = std::fopen(p.c_str(), "wb");
    std::fputs("time_ns,tenant,kind,size_bytes,cost_ns,deadline_ns\n", f);
    Rng rng(1);
    int64_t t = 0;
    char line[128];
    for (int64_t i = 0; i < kRecords; ++i) {
      t += 200 + static_cast<int64_t>(rng.below(400));
      const int n = std::snprintf(line, sizeof line, "%lld,tenant-%d,%s,%u,%u,0\n", static_cast<long long>(t),
                                  static_cast<int>(i % 4), i % 31 == 0 ? "set" : "get",
                                  static_cast<unsigned>(rng.below(4096)), static_cast<unsigned>(50 + rng.below(100)));
      std::fwrite(line, 1, static_cast<size_t>(n), f);
    }
    std::fclose(f);
    std::atexit([] { std::filesystem::remove(trace_file()); });
    return p;
  }();
  return path;
}

void BM_TraceScanLines(benchmark::State& state) {
  const std::string& path = trace_file();
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    int64_t lines = 0;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
      for (const char* p = buf.data(); (p = static_cast<const char*>(std::memchr(p, '\n', buf.data() + n - p))) != nullptr; ++p) ++lines;
    }
    std::fclose(f);
    benchmark::DoNotOptimize(lines);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_TraceScanLines)->Unit(benchmark::kMillisecond);

void BM_TraceLoadCsv(benchmark::State& state) {
  const std::string& path = trace_file();
  arrivals::Mapping m;
  for (int i = 0; i < 4; ++i) m.by_tenant["tenant-" + std::to_string(i)] = static_cast<uint32_t>(i);
  for (auto _ : state) {
    auto src = arrivals::trace(path, m, Instant::epoch(), Instant::never());
    arrivals::Arrival a;
    int64_t n = 0;
    while (src->next(a)) ++n;
    if (n != kRecords) state.SkipWithError("wrong record count");
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_TraceLoadCsv)->Unit(benchmark::kMillisecond);

// The same trace replayed through the simulator: four sporadic threads on four CPUs release and
// complete a job per arrival (each record carries its cost), with the trace records counted.
void BM_TraceReplaySim(benchmark::State& state) {
  std::string text = "[scenario]\nname = \"replay\"\nduration = \"10s\"\n[[server]]\ncpus = 4\n";
  std::string targets;
  for (int i = 0; i < 4; ++i) {
    text += "[[tenant]]\nname = \"t" + std::to_string(i) + "\"\n[[thread]]\nname = \"w" + std::to_string(i) + "\"\ntenant = \"t" +
            std::to_string(i) + "\"\ncpu = " + std::to_string(i) +
            "\nrelease = \"sporadic\"\nperiod = \"1ns\"\ndeadline = \"1ms\"\ncost = \"100ns\"\n";
    targets += (i ? ", " : "") + std::string("\"tenant-") + std::to_string(i) + "\" = \"w" + std::to_string(i) + "\"";
  }
  text += "[[workload]]\nname = \"trace\"\nkind = \"trace\"\nfile = \"" + trace_file() + "\"\ntargets = { " + targets + " }\n";
  const scenario::Scenario s = scenario::parse_scenario(text, "bench.toml", "");
  uint64_t records = 0;
  for (auto _ : state) {
    CountingSink sink;
    sim::ScenarioRun run(s, {}, sink);
    const sim::RunStats st = run.run();
    if (st.arrivals != static_cast<uint64_t>(kRecords)) state.SkipWithError("wrong arrival count");
    records += st.records;
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.counters["records_per_second"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TraceReplaySim)->Unit(benchmark::kMillisecond);

// --- writing -------------------------------------------------------------------------------------

// 2M records shaped like a simulator's: times rising by a few microseconds, four CPUs, the common
// events, small FWP and thread indices (some "none"), job numbers in the thousands.
const std::vector<TraceRecord>& written_records() {
  static const std::vector<TraceRecord> records = [] {
    std::vector<TraceRecord> v(kRecords);
    Rng rng(2);
    int64_t t = 0;
    constexpr TraceEvent kEvents[] = {TraceEvent::kRelease, TraceEvent::kStart, TraceEvent::kPreempt,
                                      TraceEvent::kResume, TraceEvent::kComplete, TraceEvent::kDeadlineMiss};
    for (int64_t i = 0; i < kRecords; ++i) {
      TraceRecord& r = v[static_cast<size_t>(i)];
      t += 100 + static_cast<int64_t>(rng.below(5000));
      r.time_ns = t;
      r.cpu = static_cast<uint16_t>(rng.below(4));
      r.event = kEvents[rng.below(6)];
      r.thread = static_cast<uint32_t>(rng.below(100));
      r.fwp = i % 50 == 0 ? kNoIndex : r.thread / 4;
      r.job = i / 100 + rng.below(10);
      r.value = r.event == TraceEvent::kComplete ? static_cast<int64_t>(rng.below(1'000'000)) : 0;
    }
    return v;
  }();
  return records;
}

std::string write_path() {
  return (std::filesystem::temp_directory_path() / ("edgeos-bench-write-" + std::to_string(::getpid()) + ".csv")).string();
}

// The size of the CSV of written_records().
uint64_t written_bytes() {
  static const uint64_t bytes = [] {
    std::string line;
    uint64_t n = trace_csv_header().size();
    for (const TraceRecord& r : written_records()) {
      line.clear();
      append_csv_line(line, r);
      n += line.size();
    }
    return n;
  }();
  return bytes;
}

// The writer to a file in the temporary directory, not committed (no fsync: the data reaches the
// page cache, as a run's does before its commit).
void BM_TraceWriteCsv(benchmark::State& state) {
  const std::vector<TraceRecord>& records = written_records();
  const std::string path = write_path();
  uint64_t bytes = 0;
  for (auto _ : state) {
    CsvTraceWriter w(path);
    for (const TraceRecord& r : records) w.write(r);
    bytes = w.bytes();
  }
  if (bytes != written_bytes()) state.SkipWithError("wrong size");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TraceWriteCsv)->Unit(benchmark::kMillisecond);

// The I/O floor: as many bytes, already formatted, written through AtomicFile in 1 MiB pieces.
void BM_TraceWriteCsvIoFloor(benchmark::State& state) {
  const uint64_t bytes = written_bytes();
  const std::string chunk(size_t{1} << 20, 'x');
  const std::string path = write_path();
  for (auto _ : state) {
    AtomicFile f(path);
    for (uint64_t left = bytes; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      f.write(std::string_view(chunk.data(), n));
      left -= n;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TraceWriteCsvIoFloor)->Unit(benchmark::kMillisecond);

// The memory floor: as many bytes copied by memcpy from a 1 MiB buffer into one of the CSV's size.
void BM_TraceWriteCsvMemcpy(benchmark::State& state) {
  const uint64_t bytes = written_bytes();
  const std::string chunk(size_t{1} << 20, 'x');
  std::vector<char> out(bytes);
  for (auto _ : state) {
    for (uint64_t at = 0; at < bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes - at, chunk.size()));
      std::memcpy(out.data() + at, chunk.data(), n);
      at += n;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TraceWriteCsvMemcpy)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgeos::bench

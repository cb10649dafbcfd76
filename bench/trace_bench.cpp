// Trace loading and replay: arrivals per second from a CSV trace, against the speed of merely
// finding its lines (the I/O and memchr floor) in the same process.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench.hpp"
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

}  // namespace
}  // namespace edgeos::bench

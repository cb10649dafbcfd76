// edgeos benchmarks. Prints Google Benchmark's table, then a summary of ratios against
// baselines measured in the same run (never against numbers from another machine or run).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <sys/utsname.h>

#include <fstream>
#include <thread>
#include <string>

#include "bench.hpp"

namespace edgeos::bench {

std::map<std::string, double>& results() {
  static std::map<std::string, double> r;
  return r;
}
std::map<std::string, double>& rates() {
  static std::map<std::string, double> r;
  return r;
}
std::map<std::string, double>& record_rates() {
  static std::map<std::string, double> r;
  return r;
}
std::map<std::string, double>& byte_rates() {
  static std::map<std::string, double> r;
  return r;
}

namespace {

class Collector : public benchmark::ConsoleReporter {
 public:
  // With --benchmark_repetitions the summary uses each benchmark's median (this machine is shared
  // and noisy); without, its single run.
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (!median && !single) continue;
      const std::string name = run.run_name.str();
      // Adjusted times are in the benchmark's own unit; keep everything in nanoseconds.
      results()[name] = run.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      for (const auto& [counter_name, counter] : run.counters) {
        if (counter_name == "items_per_second" || counter_name == "events_per_second") rates()[name] = counter.value;
        if (counter_name == "records_per_second") record_rates()[name] = counter.value;
        if (counter_name == "bytes_per_second") byte_rates()[name] = counter.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double get(const std::string& name) {
  const auto it = results().find(name);
  return it == results().end() ? 0.0 : it->second;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

void print_summary() {
  fmt::print("\n== edgeos benchmark summary ==\n");
  fmt::print("machine: {} ({} online CPUs); medians of repetitions where run with them\n", cpu_model(),
             std::thread::hardware_concurrency());
  for (const char* policy : {"Fp", "Edf"}) {
    const std::string base = fmt::format("BM_{}PickAndRelease/", policy);
    const double at1k = get(base + "1000");
    const double at100k = get(base + "100000");
    if (at1k == 0) continue;
    fmt::print("{:>3} pick-next + release: 10: {:.1f} ns, 1k: {:.1f} ns, 100k: {:.1f} ns; ratio 100k/1k = {:.2f} "
               "(target: <= 50 ns at 1k; O({}))\n",
               policy, get(base + "10"), at1k, at100k, at100k / at1k, policy[0] == 'F' ? "1" : "log n");
  }
  for (const char* policy : {"Fp", "Edf", "GlobalEdf"}) {
    const auto it = rates().find(fmt::format("BM_CoreSim{}_100Tasks4Cpus", policy));
    if (it == rates().end()) continue;
    fmt::print("core-only simulator, 100 tasks on 4 CPUs, {}: {:.1f} million kernel entries/s (timer, completion,\n"
               "    arrival), {:.1f} million scheduling events/s (trace records: release, start, preempt, ...);\n"
               "    target >= 20 million events/s\n",
               policy, it->second / 1e6, record_rates()[it->first] / 1e6);
  }
  for (const char* policy : {"Fp", "Edf"}) {
    const double plain = get(fmt::format("BM_KernelDecision{}/1000", policy));
    const double budgets = get(fmt::format("BM_KernelDecision{}Budgets/1000", policy));
    if (plain == 0) continue;
    fmt::print("kernel pick-next + release, 1k threads, {}: {:.1f} ns; with a sporadic server on every thread "
               "{:.1f} ns; ratio = {:.2f} (target: <= 1.3)\n",
               policy, plain, budgets, budgets / plain);
  }
  for (const char* m : {"4", "16"}) {
    const double part = get(fmt::format("BM_PartitionedEdfDecision1k/{}", m));
    const double glob = get(fmt::format("BM_GlobalEdfDecision1k/{}", m));
    if (part == 0 || glob == 0) continue;
    fmt::print("kernel pick-next + release, 1k threads on {} CPUs: partitioned EDF {:.1f} ns, global EDF {:.1f} ns; "
               "ratio global/partitioned = {:.2f}\n",
               m, part, glob, glob / part);
  }
  if (const double rt = get("BM_InvocationRoundTrip"); rt > 0) {
    fmt::print("synchronous invocation call + reply (core-only simulator): {:.1f} ns per round trip\n", rt);
  }
  if (const double rta = get("BM_Rta100Tasks"); rta > 0) {
    fmt::print("response-time analysis, 100 tasks: {:.2f} us (target: <= 10 us); QPA, 100 constrained tasks: {:.2f} us\n",
               rta / 1e3, get("BM_Qpa100ConstrainedTasks") / 1e3);
  }
  if (const double sweep = get("BM_Sweep1000SetsWithSimulation/iterations:1"); sweep > 0) {
    fmt::print("sweep of 1,000 task sets with 2 analyses and 2 simulations each: {:.2f} s (target: < 10 s)\n", sweep / 1e9);
  }
  if (const auto load = rates().find("BM_TraceLoadCsv"); load != rates().end()) {
    const double scan = rates()["BM_TraceScanLines"];
    const double replay = rates()["BM_TraceReplaySim"];
    fmt::print("CSV trace, 2M arrivals: loading {:.1f} million arrivals/s (target: >= 5), {:.0f}% of the speed of "
               "only finding its lines ({:.1f} M lines/s); replay through the simulator {:.1f} million arrivals/s\n",
               load->second / 1e6, 100 * load->second / scan, scan / 1e6, replay / 1e6);
  }
  if (const auto csv = byte_rates().find("BM_TraceWriteCsv"); csv != byte_rates().end()) {
    const double io = byte_rates()["BM_TraceWriteCsvIoFloor"];
    const double copy = byte_rates()["BM_TraceWriteCsvMemcpy"];
    fmt::print("CSV trace writing, 2M records: {:.0f} MB/s (target: >= 500), {:.2f}x the time of writing as many bytes "
               "already formatted ({:.0f} MB/s), {:.1f}x that of memcpy ({:.0f} MB/s)\n",
               csv->second / 1e6, io / csv->second, io / 1e6, copy / csv->second, copy / 1e6);
  }
  for (const char* kind : {"Normal", "LogNormal", "Exponential"}) {
    const double fixed = get(fmt::format("BM_Draw{}FixedPoint", kind));
    const double libm = get(fmt::format("BM_Draw{}Libm", kind));
    if (fixed == 0 || libm == 0) continue;
    fmt::print("cost draw, {}: {:.1f} ns in integer fixed point (workloads/job_driver.hpp, every backend), {:.1f} ns "
               "with doubles and libm; ratio = {:.2f}\n",
               kind, fixed, libm, fixed / libm);
  }
  const double fwp10 = get("BM_FwpSpawnTerminate/10");
  const double fwp10k = get("BM_FwpSpawnTerminate/10000");
  if (fwp10 > 0) {
    fmt::print("FWP spawn from pool + terminate/recycle: {:.1f} ns with 10 live FWPs, {:.1f} ns with 10k; "
               "ratio = {:.2f} (O(1) in live FWPs)\n",
               fwp10, fwp10k, fwp10k / fwp10);
  }
}

}  // namespace
}  // namespace edgeos::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  edgeos::bench::Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  edgeos::bench::print_summary();
  return 0;
}

// SimGrid backend throughput. Not Google Benchmark: SimGrid allows one engine per process, so each
// invocation runs one SimGrid simulation (make bench runs the two modes in two processes).
//
//   simgrid_bench single   1 server (4 CPUs, EDF) x 100 periodic tasks: simulated events/s of the
//                          SimGrid backend and of the core-only backend on the same scenario, and
//                          their ratio (target: >= 2M events/s for SimGrid)
//   simgrid_bench cluster  8 servers x 1,000 tenants x 1,000 IoT devices for 10 simulated
//                          seconds: wall time (target < 60 s on one core), events/s, peak memory
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <string>

#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/simulator/simgrid_run.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace {

using namespace edgeos;

// 100 periodic tasks on 4 CPUs at ~70% utilisation each, periods 1..10 ms, fixed costs.
std::string single_server() {
  std::string t = "[scenario]\nname = \"bench-single\"\nduration = \"20s\"\n\n[[server]]\nname = \"edge\"\ncpus = 4\n";
  t += "\n[[tenant]]\nname = \"tasks\"\n";
  for (int i = 0; i < 100; ++i) {
    const int period_us = 1000 + 90 * i;
    const int cost_us = period_us * 28 / 1000;  // 25 tasks per CPU at 2.8% each: 70%
    t += fmt::format("\n[[thread]]\nname = \"t{}\"\ntenant = \"tasks\"\ncpu = {}\nperiod = \"{}us\"\ncost = \"{}us\"\n", i,
                     i % 4, period_us, cost_us);
  }
  return t;
}

// 8 servers of 16 CPUs; 1,000 tenants (125 per server), each with one sporadic thread served by
// a group of 1 device... 1,000 devices in all: device k reads every 100 ms for tenant k.
std::string cluster() {
  std::string t = "[scenario]\nname = \"bench-cluster\"\nduration = \"10s\"\n";
  for (int s = 0; s < 8; ++s) t += fmt::format("\n[[server]]\nname = \"edge{}\"\ncpus = 16\nspeed = \"2.4GHz\"\n", s);
  for (int k = 0; k < 1000; ++k) {
    t += fmt::format(
        "\n[[tenant]]\nname = \"ten{0}\"\nserver = \"edge{1}\"\n"
        "[[thread]]\nname = \"h{0}\"\ntenant = \"ten{0}\"\ncpu = {2}\nrelease = \"sporadic\"\ndeadline = \"50ms\"\n"
        "cost = {{ dist = \"uniform\", min = \"200us\", max = \"600us\" }}\n"
        "[[workload]]\nname = \"w{0}\"\nkind = \"iot\"\ntarget = \"h{0}\"\nsensors = 1\nperiod = \"100ms\"\njitter = \"10ms\"\n"
        "[[device]]\nname = \"d{0}\"\nhosts = \"dev\"\nfirst = {0}\ncount = 1\nworkload = \"w{0}\"\nrequest = \"512B\"\n"
        "response = \"128B\"\nlatency = \"5ms\"\nbandwidth = \"10Mbps\"\n",
        k, k % 8, (k / 8) % 16);
  }
  return t;
}

double peak_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

template <class F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "single";
  if (mode == "single") {
    const scenario::Scenario s = scenario::parse_scenario(single_server(), "<bench-single>", "");
    sim::RunStats core;
    uint64_t core_records = 0;
    const double core_s = seconds_of([&] {
      CountingSink sink;
      sim::ScenarioRun run(s, {}, sink);
      core = run.run_until(run.end());
      core_records = core.records;
    });
    sim::SimGridResult sg;
    const double sg_s = seconds_of([&] {
      CountingSink sink;
      sim::SimGridRun run(s, {}, {}, sink);
      sg = run.run();
    });
    if (sg.stats.records != core_records) {
      fmt::print(stderr, "backends disagree: {} vs {} records\n", sg.stats.records, core_records);
      return 1;
    }
    const double core_rate = static_cast<double>(core_records) / core_s;
    const double sg_rate = static_cast<double>(sg.stats.records) / sg_s;
    fmt::print("1 server x 100 tasks, 20 s simulated: {} scheduling events (trace records), {} kernel entries\n",
               sg.stats.records, sg.stats.events);
    fmt::print("  core-only: {:.3f} s, {:.2f} M events/s\n", core_s, core_rate / 1e6);
    fmt::print("  SimGrid:   {:.3f} s, {:.2f} M events/s (target >= 2 M/s)\n", sg_s, sg_rate / 1e6);
    fmt::print("  SimGrid / core-only throughput: {:.3f}x\n", sg_rate / core_rate);
    fmt::print("  peak memory {:.1f} MiB\n", peak_mib());
    return 0;
  }
  if (mode == "cluster") {
    scenario::Scenario s;
    const double parse_s = seconds_of([&] { s = scenario::parse_scenario(cluster(), "<bench-cluster>", ""); });
    sim::SimGridResult sg;
    double setup_s = 0;
    const double sg_s = seconds_of([&] {
      CountingSink sink;
      std::unique_ptr<sim::SimGridRun> run;
      setup_s = seconds_of([&] { run = std::make_unique<sim::SimGridRun>(s, sim::ScenarioOptions{}, sim::SimGridOptions{}, sink); });
      sg = run->run();
    });
    uint64_t requests = 0, answered = 0;
    for (const sim::DeviceTraffic& d : sg.devices) {
      requests += d.requests;
      answered += d.answered;
    }
    fmt::print("8 servers x 1,000 tenants x 1,000 IoT devices, 10 s simulated:\n");
    fmt::print("  parse {:.2f} s, platform + instantiation {:.2f} s, total {:.2f} s wall (target < 60 s)\n", parse_s, setup_s,
               sg_s);
    fmt::print("  {} scheduling events (trace records), {} kernel entries: {:.2f} M events/s\n", sg.stats.records,
               sg.stats.events, static_cast<double>(sg.stats.records) / sg_s / 1e6);
    fmt::print("  {} requests, {} answered\n", requests, answered);
    fmt::print("  peak memory {:.1f} MiB\n", peak_mib());
    return 0;
  }
  fmt::print(stderr, "usage: simgrid_bench single|cluster\n");
  return 2;
}

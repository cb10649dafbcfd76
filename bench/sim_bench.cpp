// Throughput of the core-only simulator on a 100-task, 4-CPU set: kernel events (timer expiries,
// completions, arrivals) per second, trace records counted but not stored. Partitioned FP and EDF
// (each task on its CPU), and the same set under global EDF (one domain of the 4 CPUs).
#include <benchmark/benchmark.h>

#include "bench.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/simulator/task_set_run.hpp"

namespace edgeos::bench {
namespace {

TaskSet hundred_tasks() {
  TaskSet set;
  set.name = "bench";
  set.num_cpus = 4;
  Rng rng(7);
  for (int i = 0; i < 100; ++i) {
    TaskSpec t;
    t.name = "t" + std::to_string(i);
    t.tenant = "tenant" + std::to_string(i % 10);
    t.cpu = static_cast<uint32_t>(i % 4);
    t.period = Duration::microseconds(rng.between(1'000, 100'000));
    // 25 tasks per CPU at about 3.4% each: U ~ 0.85 per CPU.
    t.wcet = t.period * 34 / 1000;
    t.bcet = t.wcet / 2;
    set.tasks.push_back(t);
  }
  assign_rate_monotonic(set);
  return set;
}

void run(benchmark::State& state, sim::Policy policy, bool global = false) {
  const TaskSet set = hundred_tasks();
  uint64_t events = 0;
  uint64_t records = 0;
  for (auto _ : state) {
    sim::SimConfig cfg;
    cfg.num_cpus = set.num_cpus;
    cfg.policy = policy;
    cfg.max_threads = 128;
    cfg.max_fwps = 16;
    cfg.max_templates = 16;
    if (global) cfg.domains.assign(set.num_cpus, 0);
    CountingSink sink;
    sim::CoreSimulator s(cfg, sink);
    sim::load_task_set(s, set, 1);
    const sim::RunStats st = s.run_until(Instant::epoch() + Duration::seconds(10));
    events += st.events;
    records += sink.count();
  }
  state.counters["events_per_second"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["records_per_second"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}

void BM_CoreSimFp_100Tasks4Cpus(benchmark::State& state) { run(state, sim::Policy::kFixedPriority); }
void BM_CoreSimEdf_100Tasks4Cpus(benchmark::State& state) { run(state, sim::Policy::kEdf); }
void BM_CoreSimGlobalEdf_100Tasks4Cpus(benchmark::State& state) { run(state, sim::Policy::kEdf, true); }

BENCHMARK(BM_CoreSimFp_100Tasks4Cpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CoreSimEdf_100Tasks4Cpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CoreSimGlobalEdf_100Tasks4Cpus)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgeos::bench

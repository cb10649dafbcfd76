// Schedulability analysis cost: response-time analysis and QPA on 100 tasks, and a 1,000-set
// sweep with simulation.
#include <benchmark/benchmark.h>

#include "bench.hpp"
#include "edgeos/analysis/analysis.hpp"
#include "edgeos/simulator/sweep.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::bench {
namespace {

std::vector<analysis::Task> hundred(double u, gen::Deadlines deadlines, uint64_t seed) {
  gen::TaskSetParams p;
  p.tasks = 100;
  p.utilisation = u;
  p.deadlines = deadlines;
  p.granularity = Duration::microseconds(1);
  Rng rng(seed);
  return gen::generate(rng, p);
}

void BM_Rta100Tasks(benchmark::State& state) {
  // A schedulable set (U = 0.7), so every task's response time is computed to its fixed point.
  const std::vector<analysis::Task> tasks = hundred(0.7, gen::Deadlines::kImplicit, 1);
  if (!analysis::response_time_analysis(tasks).schedulable()) state.SkipWithError("expected a schedulable set");
  for (auto _ : state) benchmark::DoNotOptimize(analysis::response_time_analysis(tasks));
}
BENCHMARK(BM_Rta100Tasks)->Unit(benchmark::kMicrosecond);

void BM_Qpa100ConstrainedTasks(benchmark::State& state) {
  std::vector<analysis::Task> tasks;
  for (uint64_t seed = 1;; ++seed) {  // a schedulable constrained set, so QPA runs to the end
    tasks = hundred(0.8, gen::Deadlines::kConstrained, seed);
    if (analysis::edf_demand(tasks).schedulable()) break;
  }
  for (auto _ : state) benchmark::DoNotOptimize(analysis::edf_demand(tasks));
}
BENCHMARK(BM_Qpa100ConstrainedTasks)->Unit(benchmark::kMicrosecond);

void BM_Sweep1000SetsWithSimulation(benchmark::State& state) {
  sim::SweepConfig c;  // 10 tasks per set, periods 10ms..1s; 10 steps x 100 sets
  c.u_from = 0.1;
  c.u_to = 1.0;
  c.u_step = 0.1;
  c.sets = 100;
  c.tests = {"rta", "edf-qpa", "sim-fp", "sim-edf"};
  for (auto _ : state) benchmark::DoNotOptimize(sim::run_sweep(c));
}
BENCHMARK(BM_Sweep1000SetsWithSimulation)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace edgeos::bench

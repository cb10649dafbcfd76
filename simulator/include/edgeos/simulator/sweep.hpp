// Schedulability-ratio sweeps: the classic figure of real-time scheduling papers. For each
// utilisation step, generate N task sets, run every selected test on each (and, optionally,
// simulate each), and count how many each accepts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgeos/analysis/analysis.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::sim {

// Tests a sweep can run: analyses, and simulations (accepted = no deadline miss observed over
// the horizon, from the synchronous release).
//   rta  ll-bound  hyperbolic  edf-util  edf-qpa  rta-overheads  edf-overheads  sim-fp  sim-edf
// and, with all `cpus` as one global scheduling domain (no partitioning):
//   gfb  baker  bcl-edf  bcl-fp  rta-gfp  sim-gfp  sim-gedf
std::vector<std::string> sweep_test_names();

struct SweepConfig {
  gen::TaskSetParams tasks;  // `utilisation` is set per step (total = step * cpus)
  uint32_t cpus = 1;
  double u_from = 0.05, u_to = 1.0, u_step = 0.05;  // utilisation per CPU
  size_t sets = 100;                                // per step
  std::vector<std::string> tests = {"rta", "edf-qpa", "sim-fp", "sim-edf"};
  analysis::Fit fit = analysis::Fit::kFirst;  // multicore: how tasks are partitioned
  analysis::Overheads overheads;              // for rta-overheads / edf-overheads and simulations
  Duration horizon = Duration::seconds(1);    // simulations: min(hyperperiod, this) + max deadline
  uint64_t seed = 1;
};

// Throws InputError for impossible configurations (unknown test, bad range, ...).
void validate(const SweepConfig& c);

struct SweepRow {
  double utilisation = 0;  // per CPU
  std::string test;
  size_t accepted = 0;
  size_t sets = 0;
  double ratio() const { return sets == 0 ? 0.0 : static_cast<double>(accepted) / static_cast<double>(sets); }
};

using SweepProgress = std::function<void(size_t done, size_t total)>;

std::vector<SweepRow> run_sweep(const SweepConfig& c, const SweepProgress& progress = nullptr);
// The utilisations (per CPU) a sweep visits, in order.
std::vector<double> sweep_steps(const SweepConfig& c);
// Sets first .. first + count - 1 of step `step` (an index into sweep_steps), one row per test:
// a piece of run_sweep, for drivers that spread a sweep over processes or machines. Summing the
// pieces' counts gives run_sweep's rows exactly.
std::vector<SweepRow> run_sweep_sets(const SweepConfig& c, size_t step, size_t first, size_t count);
// utilisation,test,accepted,sets,ratio
std::string sweep_csv(const std::vector<SweepRow>& rows);

}  // namespace edgeos::sim

// Running a task set on the core-only simulator: one FWP per tenant, one thread per task.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/workloads/task_set.hpp"

namespace edgeos::sim {

struct LoadedTaskSet {
  TraceNames names;
  std::vector<ThreadId> threads;  // one per task, in task order
  std::vector<FwpId> tenants;     // in order of first appearance
};

// Validates the set (InputError listing every problem) and creates its tenants and threads.
// Each task's random draws (job costs, sporadic arrivals) come from its own stream of `seed`.
LoadedTaskSet load_task_set(CoreSimulator& sim, const TaskSet& set, uint64_t seed);

struct SimulationResult {
  std::vector<TraceRecord> records;
  TraceNames names;
  RunStats stats;
  Instant end;
};

// Called now and then during long runs with the simulated time reached.
using ProgressFn = std::function<void(Instant reached, Instant horizon)>;

// Simulates the task set from time 0 to `horizon` on `set.num_cpus` CPUs.
SimulationResult simulate(const TaskSet& set, SimConfig config, Duration horizon, uint64_t seed,
                          const ProgressFn& progress = nullptr);

}  // namespace edgeos::sim

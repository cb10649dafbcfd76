// Task sets: the classic real-time workload description (Liu & Layland), grouped into tenants.
//
// A task is a periodic or sporadic thread of jobs with a worst-case execution time C, a period or
// minimum inter-arrival time T, and a relative deadline D (implicit when omitted: D = T). Tasks of
// one tenant run in one FWP. This is the in-memory form the demo, the simulator, the analyses and
// the generators share; the scenario file format (docs/scenario.md) compiles to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeos/core/time.hpp"

namespace edgeos {

enum class TaskKind : uint8_t {
  kPeriodic,  // released every `period` from `phase`
  kSporadic,  // released by arrivals at least `period` apart
};

struct TaskSpec {
  std::string name;
  std::string tenant;  // tasks with the same tenant share an FWP
  uint32_t cpu = 0;    // partitioned scheduling: the CPU the task is bound to
  TaskKind kind = TaskKind::kPeriodic;

  Duration wcet;                      // C: every job runs at most this long (> 0)
  Duration bcet = Duration::zero();   // best case; 0 means every job runs exactly wcet
  Duration period;                    // T (> 0)
  Duration deadline = Duration::zero();  // D; 0 means implicit (D = T)
  Duration phase = Duration::zero();  // first release or first arrival
  // Sporadic: each inter-arrival time is period + uniform[0, max_extra].
  Duration max_extra = Duration::zero();
  Duration jitter = Duration::zero();  // release jitter, for analysis (e.g. a deferrable server's)
  uint8_t priority = 0;  // fixed priority, 0..255, larger runs first
  bool hard = true;      // hard tasks must have C <= D

  Duration effective_deadline() const { return deadline == Duration::zero() ? period : deadline; }
  // C / T as a fraction, for reporting (analysis works on integers).
  double utilisation() const { return static_cast<double>(wcet.ns()) / static_cast<double>(period.ns()); }
};

struct TaskSet {
  std::string name;
  uint32_t num_cpus = 1;
  std::vector<TaskSpec> tasks;
};

// Every problem with the task set, one message each, naming the task and field:
//   task "kv.get" (#3): field "wcet": must be > 0, got 0ns
// An empty result means the set is valid. `max_tasks` is the kernel's thread capacity.
std::vector<std::string> validation_errors(const TaskSet& set, size_t max_tasks);
// Throws InputError listing every problem.
void validate(const TaskSet& set, size_t max_tasks);

// Priority assignment helpers (per CPU): shorter period (rate monotonic) or shorter relative
// deadline (deadline monotonic) gets a larger priority; ties by task order. Priorities are dense
// from 255 downwards; throws InputError if a CPU has more than 256 tasks.
void assign_rate_monotonic(TaskSet& set);
void assign_deadline_monotonic(TaskSet& set);

}  // namespace edgeos

// A golden case as a scenario file, so that backends which run only scenarios (the booted kernel)
// replay the golden schedules too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden.hpp"

namespace edgeos::testing {

struct GoldenScenarioOptions {
  // Nanoseconds per golden time unit (default: the file's own unit).
  int64_t unit_ns = 0;
  // Taken off every job's cost, in nanoseconds: the part of a golden cost that the kernel's own
  // work on the job's behalf uses (entry, dispatch, tracing), so that the job's user-level work
  // plus that overhead fits in the cost the golden schedule assumes. 0 in simulation.
  int64_t shave_ns = 0;
  // Only the tasks of this CPU, moved to CPU 0 (a one-CPU backend runs one partition at a time).
  // -1: every task, on its own CPU.
  int cpu = -1;
};

struct GoldenScenario {
  std::string toml;                 // the scenario file
  std::vector<std::string> traces;  // trace file names the scenario refers to, relative to it
  std::vector<std::string> trace_texts;  // their contents
};

// The part of a golden case that runs on CPU `cpu`: its tasks, moved to CPU 0 of a one-CPU case,
// with their slices, misses, budget events and responses (partitioned CPUs do not interact, so
// this is the schedule a one-CPU backend must give them).
GoldenCase golden_cpu_part(const GoldenCase& g, uint32_t cpu);

// Throws InputError for what a scenario cannot express (a periodic task with varying costs).
GoldenScenario golden_scenario(const GoldenCase& g, const GoldenScenarioOptions& options);

// Writes the scenario and its traces into `dir` (created); returns the scenario file's path.
std::string write_golden_scenario(const GoldenScenario& s, const std::string& dir);

}  // namespace edgeos::testing

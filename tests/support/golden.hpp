// Golden schedules: a task set and the schedule it must produce, worked out by hand, in a small
// text format that every backend's test replays (one expected output, many backends, as SimGrid
// does with its .tesh files). See tests/golden/README.md for the format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schedule.hpp"

namespace edgeos::testing {

struct GoldenTask {
  std::string name;
  std::string tenant;
  uint32_t cpu = 0;
  bool sporadic = false;
  std::vector<int64_t> costs;     // per job (the last repeats); in units
  int64_t period = 0;             // units
  int64_t deadline = 0;           // units; 0 = implicit
  int64_t phase = 0;              // units
  uint8_t priority = 0;
  std::vector<int64_t> arrivals;  // sporadic: arrival instants in units
  std::string server;             // "", sporadic, deferrable, polling, cbs
  int64_t budget = 0;             // units
  int64_t server_period = 0;      // units
  int refills = 8;                // sporadic server refill bound
};

// A budget_exhausted (amount 0) or replenish record of a task.
struct BudgetEvent {
  std::string task;
  int64_t at = 0;
  int64_t amount = 0;

  bool operator==(const BudgetEvent&) const = default;
};

struct GoldenCase {
  std::string file;
  std::string name;
  std::string policy;  // "fp" or "edf"
  uint32_t cpus = 1;
  // Scheduling domains (SimConfig::domains): per CPU, the lowest CPU of its domain; empty =
  // partitioned. Set by tests that build cases in code (the golden file format has no key).
  std::vector<uint32_t> domains;
  int64_t unit_ns = 1'000'000;
  int64_t horizon = 0;  // units
  std::vector<GoldenTask> tasks;
  std::vector<Slice> runs;
  std::vector<Miss> misses;
  std::vector<Response> responses;  // a subset of the completed jobs
  std::vector<BudgetEvent> exhausted;  // every budget exhaustion, in time order
  std::vector<BudgetEvent> replenished;  // every replenishment, in time order
};

std::ostream& operator<<(std::ostream& os, const BudgetEvent& e);
// The budget_exhausted / replenish records of a trace, times divided by `unit_ns`.
std::vector<BudgetEvent> budget_events_of(const std::vector<TraceRecord>& records, const TraceNames& names,
                                          TraceEvent which, int64_t unit_ns);

// Parses a golden file; throws InputError naming file and line.
GoldenCase load_golden(const std::string& path);
// Every *.golden file in a directory, sorted by name.
std::vector<std::string> golden_files(const std::string& dir);

}  // namespace edgeos::testing

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
};

struct GoldenCase {
  std::string file;
  std::string name;
  std::string policy;  // "fp" or "edf"
  uint32_t cpus = 1;
  int64_t unit_ns = 1'000'000;
  int64_t horizon = 0;  // units
  std::vector<GoldenTask> tasks;
  std::vector<Slice> runs;
  std::vector<Miss> misses;
  std::vector<Response> responses;  // a subset of the completed jobs
};

// Parses a golden file; throws InputError naming file and line.
GoldenCase load_golden(const std::string& path);
// Every *.golden file in a directory, sorted by name.
std::vector<std::string> golden_files(const std::string& dir);

}  // namespace edgeos::testing

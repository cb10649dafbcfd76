// Runs golden cases and reference task sets on the core-only simulator.
#pragma once

#include <string>
#include <vector>

#include "edgeos/core/trace.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "golden.hpp"
#include "reference_sim.hpp"

namespace edgeos::testing {

struct TraceRun {
  std::vector<TraceRecord> records;
  TraceNames names;
};

// Every kernel invariant is checked after every event of these runs.
TraceRun run_on_core_sim(const GoldenCase& g);
TraceRun run_on_core_sim(const std::vector<RefTask>& tasks, bool edf, uint32_t cpus, int64_t horizon, int64_t unit_ns);
// A scenario file, as `edgeos sim` runs it.
TraceRun run_scenario_on_core_sim(const std::string& path);

}  // namespace edgeos::testing

// edgeos sim --backend simgrid, in the edgeos-simgrid executable (the only one linking SimGrid):
// `edgeos` replaces itself by edgeos-simgrid with the same command line (simgrid_exec.cpp).
#include <fmt/format.h>

#include <csignal>
#include <vector>

#include "cli.hpp"
#include "options.hpp"
#include "sim_cmd.hpp"
#include "edgeos/simulator/simgrid_run.hpp"

namespace edgeos::cli {

// SIGINT or SIGTERM during a SimGrid run: stop at the next event instant and write what was
// simulated, marked incomplete (a long SimGrid run is worth keeping in part). A second signal ends
// the process at once, removing the temporary files.
int run_simgrid(const SimOptions& o) {
  const uint64_t max_trace = parse_byte_size(o.max_trace_size, "--max-trace-size");
  StopOnSignal stop;
  const scenario::Scenario s = load(o.file);
  const sim::ScenarioOptions opt = scenario_options(o);
  Outputs out(o, max_trace, stop);
  sim::SimGridOptions sg;
  sg.platform = o.platform;
  sim::SimGridRun run(s, opt, sg, out.tee);
  install_signal_handlers();  // SimGrid installed its own for SIGINT (which exits at once)
  out.instantiated(run.scenario_run());
  sim::SimGridResult result;
  {
    ProgressLine progress(o.quiet);
    result = run.run([&](Instant reached, Instant end) { progress.time(reached, end); }, stop.flag());
  }
  out.check_bound(run.scenario_run().end());
  const Summary sum = out.summary.finish(run.scenario_run().names(), Instant::epoch(), result.end);
  out.commit(result.end, sim::simgrid_summary_json(run, sum, result));
  if (!o.quiet) {
    print_header(s, run.scenario_run().end(), run.scenario_run().seed(), " | SimGrid");
    if (!result.complete) {
      fmt::print("INTERRUPTED at {} simulated: the outputs cover [0, {}) and summary.json says \"complete\": false\n",
                 format_duration_short(result.end - Instant::epoch()), format_duration_short(result.end - Instant::epoch()));
    }
    fmt::print("{}", format_summary_table(sum));
    const std::vector<sim::WorkloadResult> workloads = run.scenario_run().workload_results();
    if (!workloads.empty()) fmt::print("\n{}", sim::format_workloads_table(workloads));
    fmt::print("\n{}", sim::format_simgrid_tables(run, sum, result));
    fmt::print("\n{} kernel events, {} trace records -> {}/{{{}}}\n", result.stats.events, result.stats.records, o.out, out.files());
  }
  if (!result.complete) return 128 + (stop.signal() != 0 ? stop.signal() : SIGINT);
  return kExitOk;
}

}  // namespace edgeos::cli

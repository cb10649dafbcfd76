// edgeos demo: the built-in multi-tenant scenario under EDF and fixed priorities.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli.hpp"
#include "demo.hpp"
#include "options.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/task_set_run.hpp"

namespace edgeos::cli {
namespace {

struct DemoOptions {
  std::string policy = "both";
  std::string duration = "10s";
  std::string seed = "1";
  std::string out = "out/demo";
  bool quiet = false;
  bool check_invariants = false;
};

int run_demo(const DemoOptions& opt) {
  const Duration horizon = parse_duration(opt.duration, "--duration");
  const uint64_t seed = parse_uint(opt.seed, "--seed");
  if (horizon <= Duration::zero()) throw InputError("--duration: must be > 0");
  std::vector<sim::Policy> policies;
  if (opt.policy == "both") {
    policies = {sim::Policy::kEdf, sim::Policy::kFixedPriority};
  } else {
    policies = {sim::parse_policy(opt.policy, "--policy")};
  }
  const TaskSet set = demo_task_set();

  for (const sim::Policy policy : policies) {
    sim::SimConfig config;
    config.policy = policy;
    config.check_invariants = opt.check_invariants;
    sim::SimulationResult result;
    {
      ProgressLine progress(opt.quiet);
      result = sim::simulate(set, config, horizon, seed,
                             [&](Instant reached, Instant end) { progress.time(reached, end); });
    }
    result.names.run = fmt::format("{} [{}]", set.name, sim::policy_name(policy));
    const Summary summary = summarize(result.records, result.names, Instant::epoch(), result.end);

    const std::string dir = fmt::format("{}/{}", opt.out, sim::policy_name(policy));
    write_trace_csv(dir + "/trace.csv", result.records);
    write_perfetto_json(dir + "/trace.perfetto.json", result.records, result.names, result.end);
    write_file_atomically(dir + "/summary.json", summary_json(summary));

    if (!opt.quiet) {
      fmt::print("== {} | policy {} | {} simulated, seed {} ==\n", set.name,
                 policy == sim::Policy::kEdf ? "EDF" : "fixed priority (deadline monotonic)",
                 format_duration_short(horizon), seed);
      fmt::print("{}", format_summary_table(summary));
      fmt::print("{} events, {} trace records -> {}/{{trace.csv, trace.perfetto.json, summary.json}}\n\n",
                 result.stats.events, result.stats.records, dir);
    }
  }
  if (!opt.quiet) {
    fmt::print("Open a trace.perfetto.json at https://ui.perfetto.dev to see the schedule of each CPU.\n");
  }
  return kExitOk;
}

}  // namespace

Action add_demo(CLI::App& app) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Run the built-in multi-tenant demo (AR, IoT, key-value, analytics tenants on 2 CPUs) under EDF\n"
      "and fixed priorities; print a summary per tenant and write trace.csv, trace.perfetto.json and\n"
      "summary.json for each policy.");
  cmd->add_option("--policy", opt->policy, "fp, edf, or both")->capture_default_str()->check(CLI::IsMember({"fp", "edf", "both"}));
  cmd->add_option("--duration", opt->duration, "simulated time, with a unit (e.g. 500ms, 10s)")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "seed of every random draw, 0..2^64-1 (same seed, same trace)")->capture_default_str();
  cmd->add_option("--out", opt->out, "output directory (one sub-directory per policy)")->capture_default_str()->check(output_dir());
  cmd->add_flag("--quiet", opt->quiet, "print nothing; only write the files");
  cmd->add_flag("--check-invariants", opt->check_invariants,
                "check every kernel invariant after every event (slow; for debugging)");
  return [cmd, opt]() { return cmd->parsed() ? run_demo(*opt) : -1; };
}

}  // namespace edgeos::cli

// edgeos sim: run a scenario; edgeos check: validate one (and compile it for the kernel).
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "cli.hpp"
#include "options.hpp"
#include "sim_cmd.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "edgeos/workloads/scenario_compile.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::cli {

scenario::Scenario load(const std::string& file) {
  if (file.empty()) return scenario::parse_scenario(kDefaultScenario, "<built-in edge-server.toml>", "");
  return scenario::load_scenario(file);
}

sim::ScenarioOptions scenario_options(const SimOptions& o) {
  sim::ScenarioOptions opt;
  if (!o.seed.empty()) opt.seed = parse_uint(o.seed, "--seed");
  if (!o.duration.empty()) {
    opt.duration = parse_duration(o.duration, "--duration");
    if (*opt.duration <= Duration::zero()) throw InputError("--duration: must be > 0");
  }
  opt.check_invariants = o.check_invariants;
  if (!o.overheads.empty()) opt.overheads = parse_sim_overheads(o.overheads, "--overheads");
  return opt;
}

void print_header(const scenario::Scenario& s, Instant end, uint64_t seed, const char* backend) {
  std::string servers;
  for (const scenario::Server& sv : s.servers) {
    servers += fmt::format("{}{} ({} CPU{}, {})", servers.empty() ? "" : ", ", sv.name, sv.cpus, sv.cpus == 1 ? "" : "s",
                           sv.policy == "edf" ? "EDF" : "FP");
  }
  fmt::print("== {} | {} | {} simulated, seed {}{} ==\n", s.name, servers, format_duration_short(end - Instant::epoch()), seed,
             backend);
}

namespace {

// SIGINT or SIGTERM during a core-only run: stop at the next event instant, remove the temporary
// files and write nothing (the files of an earlier run in --out stay as they were); exit 130 or 143.
int run_sim(const SimOptions& o) {
  if (o.backend == "simgrid") return run_simgrid(o);
  if (o.backend != "core") {
    throw InputError(fmt::format("--backend {}: unknown backend (\"core\", the core-only simulator, or \"simgrid\")", o.backend));
  }
  if (!o.platform.empty()) throw InputError("--platform: only with --backend simgrid");
  const uint64_t max_trace = parse_byte_size(o.max_trace_size, "--max-trace-size");
  StopOnSignal stop;
  const scenario::Scenario s = load(o.file);
  const sim::ScenarioOptions opt = scenario_options(o);

  Outputs out(o, max_trace, stop);
  sim::ScenarioRun run(s, opt, out.tee);
  out.instantiated(run);

  sim::RunStats stats;
  {
    ProgressLine progress(o.quiet);
    stats = run.run([&](Instant reached, Instant end) { progress.time(reached, end); }, stop.flag());
  }
  if (stop.signal() != 0) {
    std::fprintf(stderr, "edgeos: interrupted (%s) at %s of %s simulated: nothing written; the files already in %s are as they were\n",
                 signal_name(stop.signal()), format_duration_short(stats.end - Instant::epoch()).c_str(),
                 format_duration_short(run.end() - Instant::epoch()).c_str(), o.out.c_str());
    return 128 + stop.signal();
  }
  out.check_bound(run.end());
  const Summary sum = out.summary.finish(run.names(), Instant::epoch(), run.end());
  const std::vector<sim::WorkloadResult> workloads = run.workload_results();
  out.commit(run.end(), sim::scenario_summary_json(run, sum, stats));

  if (!o.quiet) {
    print_header(s, run.end(), run.seed(), "");
    fmt::print("{}", format_summary_table(sum));
    if (!workloads.empty()) fmt::print("\n{}", sim::format_workloads_table(workloads));
    fmt::print("\n{} kernel events, {} trace records -> {}/{{{}}}\n", stats.events, stats.records, o.out, out.files());
    if (out.perfetto) {
      fmt::print("Open {} at https://ui.perfetto.dev to see each CPU's schedule.\n", perfetto_file_name(o.perfetto_format));
    }
  }
  return kExitOk;
}

struct CheckOptions {
  std::string file;
  std::string compile;
};

int run_check(const CheckOptions& o) {
  const scenario::Scenario s = load(o.file);
  // Instantiate it (without running) and read its traces whole: what only instantiation finds
  // (capability tables, capacity) and malformed trace records are reported too.
  uint64_t trace_arrivals = 0;
  {
    CountingSink sink;
    sim::ScenarioRun dry(s, {}, sink);
    trace_arrivals = dry.scan_traces();
  }
  const scenario::ScenarioStats st = scenario::stats(s);
  fmt::print("{}: scenario \"{}\" is valid: {} simulated, seed {}\n", s.file, s.name, format_duration_short(s.duration), s.seed);
  uint32_t cpus = 0;
  for (const scenario::Server& sv : s.servers) cpus += sv.cpus;
  fmt::print("  {} server(s), {} CPUs; {} tenant(s), {} FWPs; {} thread(s); {} workload(s)\n", s.servers.size(), cpus,
             s.tenants.size(), st.fwps, st.threads, s.workloads.size());
  fmt::print("  periodic utilisation (mean costs): {:.4f}\n", st.utilisation);
  const bool traced = std::any_of(s.workloads.begin(), s.workloads.end(), [](const scenario::Workload& w) {
    return w.kind == scenario::WorkloadKind::kTrace || w.kind == scenario::WorkloadKind::kAzure || w.kind == scenario::WorkloadKind::kPcap;
  });
  if (traced) fmt::print("  traces read whole: {} arrivals within the run, all well formed\n", trace_arrivals);
  if (!o.compile.empty()) {
    const std::string bytes = scenario::compile_scenario(s);
    write_file_atomically(o.compile, bytes);
    fmt::print("  compiled: {} bytes (format version {}) -> {}\n", bytes.size(), blob::kVersion, o.compile);
  }
  return kExitOk;
}

}  // namespace

Action add_sim(CLI::App& app) {
  auto opt = std::make_shared<SimOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sim",
      "Simulate a scenario (docs/scenario.md) and write trace.csv, trace.perfetto-trace and summary.json.\n"
      "Without SCENARIO, runs the built-in edge-server scenario (examples/edge-server.toml).");
  cmd->add_option("scenario", opt->file, "scenario file (TOML)");
  cmd->add_option("--backend", opt->backend,
                  "core (the deterministic core-only simulator) or simgrid (servers, devices and links in SimGrid)")
      ->capture_default_str();
  cmd->add_option("--platform", opt->platform, "SimGrid platform XML (--backend simgrid; default: the servers' platform key, "
                                               "else one generated from the scenario)");
  cmd->add_option("--seed", opt->seed, "replace the scenario's seed (0..2^64-1; same seed, same trace)");
  cmd->add_option("--duration", opt->duration, "replace the scenario's duration (with a unit: 500ms, 10s)");
  cmd->add_option("--out", opt->out, "output directory")->capture_default_str()->check(output_dir());
  cmd->add_option("--trace", opt->trace, "which trace files to write: csv, perfetto, both or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "perfetto", "both", "none"}));
  cmd->add_option("--perfetto-format", opt->perfetto_format,
                  "proto (Perfetto's native protobuf, trace.perfetto-trace) or json (Chrome trace-event JSON,\n"
                  "trace.perfetto.json: several times larger and slower to write); both open at ui.perfetto.dev")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "proto"}));
  cmd->add_option("--overheads", opt->overheads,
                  "kernel overheads charged as the simulated kernel works: RELEASE,SCHEDULE,SWITCH,TIMER[,INVOCATION[,MIGRATION]]\n"
                  "(e.g. 1us,800ns,600ns,0ns,1.2us; edgeos validate fits them to a booted kernel); default none");
  cmd->add_option("--max-trace-size", opt->max_trace_size,
                  "the most the run's trace files may hold together, e.g. 500M, 2G (K, M, G, T: powers of 1024);\n"
                  "a run that reaches it stops with exit code 2 and writes nothing")
      ->capture_default_str();
  cmd->add_flag("--quiet", opt->quiet, "print nothing; only write the files");
  cmd->add_flag("--check-invariants", opt->check_invariants, "check every kernel invariant after every event (slow)");
  cmd->footer(
      "Every file is written to a temporary file and renamed into place when the run ends, so OUT holds\n"
      "complete files only. Interrupted (SIGINT, SIGTERM), a core run removes its temporary files and\n"
      "leaves the files already in OUT as they were (exit code 130 for SIGINT, 143 for SIGTERM); a\n"
      "SimGrid run writes what it simulated, marked \"complete\": false in summary.json. A second signal\n"
      "ends the run at once, without leftovers. A run of either backend that reaches --max-trace-size\n"
      "stops, removes its temporary files and leaves OUT as it was (exit code 2).");
  return [cmd, opt]() { return cmd->parsed() ? run_sim(*opt) : -1; };
}

Action add_check(CLI::App& app) {
  auto opt = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Validate a scenario file without running it: every error names file:line:column and the key.");
  cmd->add_option("scenario", opt->file, "scenario file (TOML); none: the built-in one");
  cmd->add_option("--compile", opt->compile, "also write the compiled scenario (the kernel's boot module) here")
      ->check(output_file());
  return [cmd, opt]() { return cmd->parsed() ? run_check(*opt) : -1; };
}

}  // namespace edgeos::cli

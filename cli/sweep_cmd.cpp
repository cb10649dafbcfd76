// edgeos sweep: acceptance ratios of schedulability tests (and simulation) over utilisation.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/simulator/sweep.hpp"
#include "options.hpp"

namespace edgeos::cli {
namespace {

struct SweepOptions {
  GeneratorOptions gen;
  uint32_t cpus = 1;
  size_t sets = 100;
  std::string util = "0.05:1:0.05";
  std::string tests = "rta,edf-qpa,sim-fp,sim-edf";
  std::string fit = "first";
  std::string overheads;
  std::string horizon = "1s";
  std::string seed = "1";
  std::string out = "out/sweep.csv";
  std::string dask;
  unsigned retries = 2;
  bool quiet = false;
};

// The same sweep on a Dask cluster, by the Python package (python_exec.cpp): the options as
// parsed here, passed on one by one, so the two parsers never disagree on a spelling.
[[noreturn]] void exec_dask_sweep(const SweepOptions& o, uint64_t seed) {
  if (!o.overheads.empty()) {
    throw InputError("--overheads: the overhead-aware tests do not run with --dask yet; run the sweep without --dask");
  }
  std::vector<std::string> args = {"sweep",         "--tasks",       std::to_string(o.gen.tasks),
                                   "--cpus",        std::to_string(o.cpus),
                                   "--sets",        std::to_string(o.sets),
                                   "--util",        o.util,
                                   "--tests",       o.tests,
                                   "--generator",   o.gen.generator,
                                   "--periods",     o.gen.periods,
                                   "--granularity", o.gen.granularity,
                                   "--deadlines",   o.gen.deadlines,
                                   "--fit",         o.fit,
                                   "--horizon",     o.horizon,
                                   "--seed",        std::to_string(seed),
                                   "--out",         o.out,
                                   "--dask",        o.dask,
                                   "--retries",     std::to_string(o.retries)};
  if (o.quiet) args.emplace_back("--quiet");
  exec_python_module(args);
}

int run_sweep_cmd(const SweepOptions& o) {
  sim::SweepConfig c;
  c.tasks = o.gen.params();
  c.cpus = o.cpus;
  c.sets = o.sets;
  const Steps s = parse_steps(o.util, "--util");
  c.u_from = s.from;
  c.u_to = s.to;
  c.u_step = s.step;
  c.tests = split_list(o.tests);
  c.fit = parse_fit(o.fit, "--fit");
  if (!o.overheads.empty()) c.overheads = parse_overheads(o.overheads, "--overheads");
  c.horizon = parse_duration(o.horizon, "--horizon");
  c.seed = parse_uint(o.seed, "--seed");
  sim::validate(c);
  if (!o.dask.empty()) exec_dask_sweep(o, c.seed);  // the parameters are valid: the Python side runs them

  std::vector<sim::SweepRow> rows;
  {
    ProgressLine progress(o.quiet);
    rows = sim::run_sweep(c, [&](size_t done, size_t total) { progress.count(done, total, "task sets"); });
  }
  write_file_atomically(o.out, sim::sweep_csv(rows));
  if (!o.quiet) {
    fmt::print("{:>6}", "U/cpu");
    for (const std::string& t : c.tests) fmt::print(" {:>13}", t);
    fmt::print("\n");
    for (size_t i = 0; i < rows.size(); i += c.tests.size()) {
      fmt::print("{:>6.3f}", rows[i].utilisation);
      for (size_t k = 0; k < c.tests.size(); ++k) fmt::print(" {:>13.3f}", rows[i + k].ratio());
      fmt::print("\n");
    }
    fmt::print("acceptance ratios of {} sets of {} tasks per point on {} CPU(s) -> {}\n", c.sets, c.tasks.tasks, c.cpus, o.out);
  }
  return kExitOk;
}

}  // namespace

Action add_sweep(CLI::App& app) {
  auto opt = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Schedulability-ratio sweep: for each utilisation step generate task sets and count how many\n"
      "each test accepts (and how many simulate without a deadline miss). Writes a CSV.");
  cmd->add_option("--tasks", opt->gen.tasks, "tasks per set")->capture_default_str();
  cmd->add_option("--cpus", opt->cpus, "CPUs (sets are partitioned; utilisation is per CPU)")->capture_default_str();
  cmd->add_option("--sets", opt->sets, "task sets per utilisation step")->capture_default_str();
  cmd->add_option("--util", opt->util, "utilisation per CPU FROM:TO:STEP")->capture_default_str();
  cmd->add_option("--tests", opt->tests,
                  "comma-separated: rta, ll-bound, hyperbolic, edf-util, edf-qpa, rta-overheads, edf-overheads, "
                  "sim-fp, sim-edf; global (all --cpus one domain): gfb, baker, bcl-edf, bcl-fp, rta-gfp, sim-gfp, sim-gedf")
      ->capture_default_str();
  cmd->add_option("--generator", opt->gen.generator, "uunifast, uunifast-discard or randfixedsum")->capture_default_str();
  cmd->add_option("--periods", opt->gen.periods, "log-uniform period range MIN:MAX")->capture_default_str();
  cmd->add_option("--granularity", opt->gen.granularity, "periods are multiples of this")->capture_default_str();
  cmd->add_option("--deadlines", opt->gen.deadlines, "implicit or constrained")->capture_default_str();
  cmd->add_option("--fit", opt->fit, "partitioning heuristic when --cpus > 1: first, best or worst")->capture_default_str();
  cmd->add_option("--overheads", opt->overheads, "kernel overheads RELEASE,SCHEDULE,SWITCH,TIMER for the overhead-aware tests");
  cmd->add_option("--horizon", opt->horizon, "simulations run min(hyperperiod, this) plus the longest deadline")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "seed (same seed, same task sets, same CSV)")->capture_default_str();
  cmd->add_option("--out", opt->out, "CSV file: utilisation,test,accepted,sets,ratio")->capture_default_str()->check(output_file());
  cmd->add_option("--dask", opt->dask,
                  "run the task sets on a Dask cluster: local[:N] (N worker processes here) or tcp://HOST:PORT (a\n"
                  "running dask-scheduler); same CSV, byte for byte (runs `python3 -m edgeos sweep`)");
  cmd->add_option("--retries", opt->retries, "with --dask: times a task that raised is run again")->capture_default_str();
  cmd->add_flag("--quiet", opt->quiet, "print nothing");
  return [cmd, opt]() { return cmd->parsed() ? run_sweep_cmd(*opt) : -1; };
}

}  // namespace edgeos::cli

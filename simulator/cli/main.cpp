// edgeos: the command line.
//
// Exit codes: 0 success; 1 internal error; 2 bad usage or bad input (the message names what and
// where).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "demo.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/task_set_run.hpp"

namespace {

using namespace edgeos;

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;

// Prints "simulated 3.2s of 10s (32%)" on stderr, at most a few times a second, once the run has
// taken longer than a second of wall time.
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet) : quiet_(quiet), start_(Clock::now()), last_(start_) {}
  ~ProgressLine() {
    if (shown_) std::fputs("\n", stderr);
  }
  void operator()(Instant reached, Instant horizon) {
    if (quiet_) return;
    const auto now = Clock::now();
    if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    shown_ = true;
    const double pct = 100.0 * static_cast<double>(reached.ns()) / static_cast<double>(horizon.ns());
    std::fprintf(stderr, "\rsimulated %s of %s (%.0f%%)", format_duration_short(reached - Instant::epoch()).c_str(),
                 format_duration_short(horizon - Instant::epoch()).c_str(), pct);
    std::fflush(stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool quiet_;
  bool shown_ = false;
  Clock::time_point start_, last_;
};

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
  const TaskSet set = cli::demo_task_set();

  for (const sim::Policy policy : policies) {
    sim::SimConfig config;
    config.policy = policy;
    config.check_invariants = opt.check_invariants;
    sim::SimulationResult result;
    {
      ProgressLine progress(opt.quiet);
      result = sim::simulate(set, config, horizon, seed, std::ref(progress));
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

int main(int argc, char** argv) {
  CLI::App app{
      "edgeos: real-time scheduling and isolation for multi-tenant edge servers.\n"
      "Policies are validated in simulation and booted on x86-64 with the same semantics."};
  app.name("edgeos");
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgeos 0.1.0");
  app.footer(
      "Exit codes: 0 success, 1 internal error, 2 bad usage or input.\n"
      "Run 'edgeos SUBCOMMAND --help' for the options of a subcommand.");

  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "Run the built-in multi-tenant demo (AR, IoT, key-value, analytics tenants on 2 CPUs) under EDF\n"
      "and fixed priorities; print a summary per tenant and write trace.csv, trace.perfetto.json and\n"
      "summary.json for each policy.");
  demo_cmd->add_option("--policy", demo.policy, "fp, edf, or both")->capture_default_str()
      ->check(CLI::IsMember({"fp", "edf", "both"}));
  demo_cmd->add_option("--duration", demo.duration, "simulated time, with a unit (e.g. 500ms, 10s)")
      ->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "seed of every random draw, 0..2^64-1 (same seed, same trace)")
      ->capture_default_str();
  demo_cmd->add_option("--out", demo.out, "output directory (one sub-directory per policy)")->capture_default_str();
  demo_cmd->add_flag("--quiet", demo.quiet, "print nothing; only write the files");
  demo_cmd->add_flag("--check-invariants", demo.check_invariants,
                     "check every kernel invariant after every event (slow; for debugging)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (demo_cmd->parsed()) return run_demo(demo);
  } catch (const InputError& e) {
    std::fprintf(stderr, "edgeos: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeos: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitInternal;
}

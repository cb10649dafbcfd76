// edgeos gen: generate workloads. `gen tasks` writes a random task set as CSV.
#include <fmt/format.h>

#include <memory>

#include "cli.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/workloads/generators.hpp"
#include "edgeos/workloads/task_set_io.hpp"
#include "options.hpp"

namespace edgeos::cli {
namespace {

struct GenTaskOptions {
  GeneratorOptions gen;
  std::string utilisation = "0.5";
  uint32_t cpus = 1;
  std::string fit = "worst";
  std::string seed = "1";
  std::string out = "out/tasks.csv";
};

int run_gen_tasks(const GenTaskOptions& o) {
  gen::TaskSetParams p = o.gen.params();
  if (o.cpus == 0) throw InputError("--cpus: must be >= 1");
  p.utilisation = parse_number(o.utilisation, "--utilisation");
  if (p.utilisation > 1.0 && p.utilisations == gen::Utilisations::kUUniFast) p.utilisations = gen::Utilisations::kUUniFastDiscard;
  const uint64_t seed = parse_uint(o.seed, "--seed");
  Rng rng(seed);
  const std::vector<analysis::Task> tasks = gen::generate(rng, p);
  std::vector<uint32_t> cpu;
  if (o.cpus > 1) {
    const analysis::Partition part = analysis::partition(tasks, o.cpus, parse_fit(o.fit, "--fit"), [](const auto& ts) {
      return analysis::compare_utilisation(ts, 1, 1) <= 0;
    });
    if (!part.ok) throw InputError("gen tasks: the generated set does not fit " + std::to_string(o.cpus) + " CPUs: " + part.detail);
    cpu = part.cpu;
  }
  const TaskSet set = gen::to_task_set(tasks, cpu, o.cpus, fmt::format("generated U={} seed={}", p.utilisation, seed));
  write_task_set_csv(o.out, set);
  fmt::print("{} tasks, U = {:.4f} on {} CPU(s) -> {}\n", tasks.size(), analysis::utilisation(tasks), o.cpus, o.out);
  return kExitOk;
}

}  // namespace

Action add_gen(CLI::App& app) {
  auto opt = std::make_shared<GenTaskOptions>();
  CLI::App* cmd = app.add_subcommand("gen", "Generate workloads.");
  cmd->require_subcommand(1);
  CLI::App* tasks = cmd->add_subcommand(
      "tasks", "A random periodic task set (UUniFast / RandFixedSum utilisations, log-uniform periods) as CSV.");
  tasks->add_option("--tasks", opt->gen.tasks, "number of tasks")->capture_default_str();
  tasks->add_option("--utilisation", opt->utilisation, "total utilisation")->capture_default_str();
  tasks->add_option("--cpus", opt->cpus, "CPUs to partition onto (by utilisation)")->capture_default_str();
  tasks->add_option("--fit", opt->fit, "partitioning heuristic: first, best or worst")->capture_default_str();
  tasks->add_option("--generator", opt->gen.generator, "uunifast, uunifast-discard or randfixedsum")->capture_default_str();
  tasks->add_option("--periods", opt->gen.periods, "log-uniform period range MIN:MAX")->capture_default_str();
  tasks->add_option("--granularity", opt->gen.granularity, "periods are multiples of this")->capture_default_str();
  tasks->add_option("--deadlines", opt->gen.deadlines, "implicit or constrained")->capture_default_str();
  tasks->add_option("--seed", opt->seed, "seed (same seed, same set)")->capture_default_str();
  tasks->add_option("--out", opt->out, "output CSV")->capture_default_str();
  return [tasks, opt]() { return tasks->parsed() ? run_gen_tasks(*opt) : -1; };
}

}  // namespace edgeos::cli

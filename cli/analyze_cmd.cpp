// edgeos analyze: every applicable schedulability test on a task set, per CPU.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "demo.hpp"
#include "edgeos/analysis/analysis.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/workloads/generators.hpp"
#include "edgeos/workloads/scenario.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "edgeos/workloads/task_set.hpp"
#include "edgeos/workloads/task_set_io.hpp"
#include "options.hpp"

namespace edgeos::cli {
namespace {

struct AnalyzeOptions {
  std::string file;
  bool demo = false;
  std::string policy;  // "": both for a task set, each server's own for a scenario
  std::string reservation;  // BUDGET/PERIOD
  std::string overheads;
  uint32_t cpus = 0;  // > 0: re-partition onto this many CPUs
  std::string fit = "first";
  bool global = false;  // a task set: all its CPUs are one global scheduling domain
};

void print_result(const analysis::Result& r, const char* label) {
  fmt::print("  {:<34} {:<15} {}\n", label, analysis::verdict_name(r.verdict), r.detail);
}

// The global tests for one scheduling domain of m CPUs (docs/analysis.md, "Global scheduling").
void analyse_domain(const std::vector<analysis::Task>& tasks, const std::vector<std::string>& names, uint32_t m,
                    bool fp, bool edf) {
  if (edf) {
    print_result(analysis::gedf_density(tasks, m), "G-EDF density bound (GFB)");
    print_result(analysis::gedf_baker(tasks, m), "G-EDF Baker");
    print_result(analysis::gedf_bcl(tasks, m), "G-EDF BCL");
  }
  if (fp) {
    print_result(analysis::gfp_bcl(tasks, m), "G-FP BCL");
    const analysis::Result rta = analysis::gfp_rta(tasks, m);
    print_result(rta, "G-FP RTA (Bertogna-Cirinei)");
    if (!rta.response_times.empty()) {
      std::string line = "    response-time bounds:";
      for (size_t i = 0; i < tasks.size(); ++i) {
        line += fmt::format(" {} {}", names[i],
                            rta.response_times[i].is_infinite() ? std::string("> D") : format_duration_short(rta.response_times[i]));
      }
      fmt::print("{}\n", line);
    }
  }
}

int run_analyze(const AnalyzeOptions& o) {
  if (o.demo == !o.file.empty()) throw InputError("analyze: give a scenario or task-set file, or --demo (one of them)");
  const bool is_scenario = o.file.size() > 5 && o.file.substr(o.file.size() - 5) == ".toml";
  TaskSet set;
  // Per CPU: which policies to analyse.
  std::vector<std::string> cpu_policy;
  // Per CPU: the lowest CPU of its scheduling domain (itself when partitioned).
  std::vector<uint32_t> cpu_leader;
  if (is_scenario) {
    const scenario::Scenario sc = scenario::load_scenario(o.file);
    std::vector<std::string> notes;
    set = scenario::to_task_set(sc, &notes);
    for (const scenario::Server& sv : sc.servers) {
      const uint32_t first = static_cast<uint32_t>(cpu_policy.size());
      cpu_policy.insert(cpu_policy.end(), sv.cpus, sv.policy);
      for (const uint32_t l : sv.domain_leaders()) cpu_leader.push_back(first + l);
    }
    for (const std::string& n : notes) fmt::print("note: {}\n", n);
  } else {
    set = o.demo ? demo_task_set() : read_task_set_csv(o.file);
  }
  if (!o.policy.empty() || cpu_policy.empty()) cpu_policy.assign(std::max<uint32_t>(set.num_cpus, o.cpus), o.policy.empty() ? "both" : o.policy);
  if (o.global) {
    if (is_scenario) throw InputError("analyze: --global is for task sets; a scenario says `scheduling = \"global\"` per server");
    if (o.cpus > 0) set.num_cpus = o.cpus;
    cpu_leader.assign(set.num_cpus, 0);
  }
  if (cpu_leader.size() < cpu_policy.size()) {
    for (size_t c = cpu_leader.size(); c < cpu_policy.size(); ++c) cpu_leader.push_back(static_cast<uint32_t>(c));
  }
  const bool fp_any = std::any_of(cpu_policy.begin(), cpu_policy.end(), [](const std::string& p) { return p != "edf"; });
  const bool edf_any = std::any_of(cpu_policy.begin(), cpu_policy.end(), [](const std::string& p) { return p != "fp"; });
  std::optional<analysis::Supply> supply;
  if (!o.reservation.empty()) {
    const size_t slash = o.reservation.find('/');
    if (slash == std::string::npos) throw InputError("--reservation: expected BUDGET/PERIOD, e.g. 2ms/5ms");
    supply = analysis::Supply{parse_duration(o.reservation.substr(slash + 1), "--reservation"),
                              parse_duration(o.reservation.substr(0, slash), "--reservation")};
  }
  std::optional<analysis::Overheads> overheads;
  if (!o.overheads.empty()) overheads = parse_overheads(o.overheads, "--overheads");

  std::vector<analysis::Task> all = gen::to_analysis(set);
  if (o.cpus > 0 && !o.global) {
    const analysis::Fit fit = parse_fit(o.fit, "--fit");
    const analysis::Partition p =
        analysis::partition(all, o.cpus, fit, edf_any && !fp_any ? analysis::edf_admission() : analysis::fp_dm_admission());
    fmt::print("partitioning onto {} CPUs ({}, admission by {}): {}\n", o.cpus, analysis::fit_name(fit),
               edf_any && !fp_any ? "EDF demand" : "DM response times", p.ok ? "all tasks placed" : p.detail);
    if (!p.ok) return kExitOk;
    for (size_t i = 0; i < set.tasks.size(); ++i) set.tasks[i].cpu = p.cpu[i];
    set.num_cpus = o.cpus;
  }
  const bool given_priorities = std::any_of(set.tasks.begin(), set.tasks.end(), [](const TaskSpec& t) { return t.priority != 0; });
  fmt::print("task set \"{}\": {} tasks on {} CPU(s); fixed priorities {}\n", set.name, set.tasks.size(), set.num_cpus,
             given_priorities ? "as given" : "deadline monotonic (none given)");

  for (uint32_t cpu = 0; cpu < set.num_cpus; ++cpu) {
    const uint32_t leader = cpu < cpu_leader.size() ? cpu_leader[cpu] : cpu;
    const uint32_t m = static_cast<uint32_t>(std::count(cpu_leader.begin(), cpu_leader.end(), leader));
    if (m > 1 && leader != cpu) continue;  // analysed with its domain's first CPU
    std::vector<analysis::Task> tasks;
    std::vector<std::string> names;
    for (size_t i = 0; i < set.tasks.size(); ++i) {
      const uint32_t c = set.tasks[i].cpu;
      if (m > 1 ? (c >= cpu_leader.size() || cpu_leader[c] != leader) : c != cpu) continue;
      tasks.push_back(all[i]);
      names.push_back(set.tasks[i].name);
    }
    if (m > 1) {
      std::string members;
      for (uint32_t c = 0; c < cpu_leader.size(); ++c) {
        if (cpu_leader[c] == leader) members += fmt::format("{}{}", members.empty() ? "" : ",", c);
      }
      if (tasks.empty()) {
        fmt::print("CPUs {} (global): no tasks\n", members);
        continue;
      }
      if (!given_priorities) tasks = analysis::with_priorities(tasks, analysis::deadline_monotonic(tasks));
      fmt::print("CPUs {} (global, m = {}): {} tasks, U = {:.4f}\n", members, m, tasks.size(), analysis::utilisation(tasks));
      analyse_domain(tasks, names, m, cpu_policy[cpu] != "edf", cpu_policy[cpu] != "fp");
      continue;
    }
    if (tasks.empty()) {
      fmt::print("CPU {}: no tasks\n", cpu);
      continue;
    }
    if (!given_priorities) tasks = analysis::with_priorities(tasks, analysis::deadline_monotonic(tasks));
    const bool fp = cpu_policy[cpu] != "edf";
    const bool edf = cpu_policy[cpu] != "fp";
    fmt::print("CPU {}: {} tasks, U = {:.4f}{}\n", cpu, tasks.size(), analysis::utilisation(tasks),
               is_scenario && o.policy.empty() ? fmt::format(" ({})", fp ? "fixed priority" : "EDF") : "");
    if (fp) {
      const analysis::Result rta = analysis::response_time_analysis(tasks);
      print_result(rta, "response-time analysis (FP)");
      print_result(analysis::liu_layland_bound(tasks), "Liu & Layland bound (RM)");
      print_result(analysis::hyperbolic_bound(tasks), "hyperbolic bound (RM)");
      if (overheads) print_result(analysis::fp_with_overheads(tasks, *overheads), "response times with overheads");
      if (supply) print_result(analysis::fp_in_reservation(tasks, *supply), "FP inside the reservation");
      if (!rta.response_times.empty()) {
        std::string line = "    response times:";
        for (size_t i = 0; i < tasks.size(); ++i) {
          line += fmt::format(" {} {}", names[i],
                              rta.response_times[i].is_infinite() ? std::string("> D") : format_duration_short(rta.response_times[i]));
        }
        fmt::print("{}\n", line);
      }
    }
    if (edf) {
      print_result(analysis::edf_utilisation(tasks), "EDF utilisation bound");
      print_result(analysis::edf_demand(tasks), "EDF processor demand (QPA)");
      if (overheads) print_result(analysis::edf_with_overheads(tasks, *overheads), "EDF demand with overheads");
      if (supply) print_result(analysis::edf_in_reservation(tasks, *supply), "EDF inside the reservation");
    }
  }
  return kExitOk;
}

}  // namespace

Action add_analyze(CLI::App& app) {
  auto opt = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Run every applicable schedulability test on a scenario (.toml, docs/scenario.md) or a task set\n"
      "(CSV: name,wcet,period[,deadline,cpu,priority,...], durations with units), per CPU: response-time\n"
      "analysis, utilisation bounds, EDF processor demand (QPA), and optionally overheads and a reservation.");
  cmd->add_option("file", opt->file, "scenario (.toml) or task-set CSV file (docs/analysis.md)");
  cmd->add_flag("--demo", opt->demo, "analyse the built-in demo task set instead of a file");
  cmd->add_option("--policy", opt->policy, "fp, edf or both (default: both for a task set; each server's own for a scenario)")
      ->check(CLI::IsMember({"fp", "edf", "both"}));
  cmd->add_option("--reservation", opt->reservation, "also check each CPU's tasks inside a periodic reservation BUDGET/PERIOD");
  cmd->add_option("--overheads", opt->overheads, "kernel overheads RELEASE,SCHEDULE,SWITCH,TIMER (e.g. 5us,2us,3us,1us)");
  cmd->add_option("--cpus", opt->cpus, "re-partition the tasks onto this many CPUs (ignoring the file's cpu column)");
  cmd->add_flag("--global", opt->global,
                 "a task set: schedule all its CPUs (or --cpus) as one global domain and run the global tests "
                 "(GFB, Baker, BCL, Bertogna-Cirinei RTA)");
  cmd->add_option("--fit", opt->fit, "partitioning heuristic: first, best or worst (fit decreasing)")->capture_default_str();
  return [cmd, opt]() { return cmd->parsed() ? run_analyze(*opt) : -1; };
}

}  // namespace edgeos::cli

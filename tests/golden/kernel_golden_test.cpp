// The golden schedules booted on the x86-64 kernel (ctest label `kernel`): every
// tests/golden/*.golden file, written as a scenario file (tests/support/golden_scenario.hpp; the
// core test AsScenarioFileMatches shows the conversion keeps the schedule exactly), boots under
// QEMU with -icount and must give the core-only simulator's schedule of the same file: the same
// slices in the same order, each ended the same way, the same deadline misses, the same budget
// exhaustions and replenishments, every instant close to the simulator's. Where the simulator's
// schedule is the golden file's (see below), the kernel's is then compared with the golden file
// itself too.
//
// Times cannot be equal on a real machine: the kernel's entries, dispatches and trace records take
// time that a simulated schedule does not have. So, as in overhead-aware schedulability analysis
// (Brandenburg, "Scheduling and locking in multiprocessor real-time operating systems", PhD
// thesis, UNC 2011, ch. 3), a golden cost is read as the job's work plus the kernel's work on its
// behalf: each job runs its cost less kShave of user-level work, in the kernel and in the
// simulator alike. With every job's overhead below kShave, a job the golden schedule completes
// exactly at a deadline or at a release completes a little before it on the machine, and keeps
// its deadline as the golden rule "a completion precedes a deadline check" says.
//
// Some golden files pin down what happens when two events fall on the same instant (a job's
// completion at its successor's release, a completion at the horizon, a budget used up to the
// nanosecond). No machine has two events at one instant, and shaving the costs moves such a
// schedule onto one side of the tie. The test finds these files itself (the simulator's schedule
// of the shaved scenario is no longer the golden one), checks that they are the ones listed in
// kDecidedByTies, compares them with the simulator only, and says so on its output.
//
// A golden file with several (partitioned) CPUs boots on as many CPUs.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "../support/core_sim_runner.hpp"
#include "../support/golden.hpp"
#include "../support/golden_scenario.hpp"
#include "edgeos/harness/boot.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario_compile.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::testing {
namespace {

constexpr int64_t kShave = 50'000;     // ns of each job's cost left to the kernel's overhead
constexpr int64_t kTolerance = 100'000;  // ns between a kernel instant and the simulator's

// The golden files whose schedule is decided by two events at one instant (tests/golden/README.md).
const std::set<std::string> kDecidedByTies = {"cbs-overrun.golden", "cbs-wakeup-keep.golden", "edf-overload-ties.golden"};

// A schedule as this test compares them; times in nanoseconds.
struct Schedule {
  std::vector<Slice> runs;
  std::vector<Miss> misses;
  std::vector<BudgetEvent> exhausted, replenished;
  std::vector<Response> responses;  // golden: those the file lists; a run: every completion
};

Schedule schedule_of(const TraceRun& run, int64_t horizon_ns) {
  Schedule s;
  s.runs = slices_of(run.records, run.names, 1, horizon_ns);
  s.misses = misses_of(run.records, run.names, 1);
  s.exhausted = budget_events_of(run.records, run.names, TraceEvent::kBudgetExhausted, 1);
  s.replenished = budget_events_of(run.records, run.names, TraceEvent::kReplenish, 1);
  s.responses = responses_of(run.records, run.names, 1);
  return s;
}

// The golden file's schedule, in nanoseconds.
Schedule golden_schedule(const GoldenCase& g) {
  const int64_t u = g.unit_ns;
  Schedule e;
  for (Slice s : g.runs) {
    s.start *= u;
    s.end *= u;
    e.runs.push_back(s);
  }
  for (const Miss& m : g.misses) e.misses.push_back(Miss{m.task, m.job, m.at * u});
  for (const BudgetEvent& b : g.exhausted) e.exhausted.push_back(BudgetEvent{b.task, b.at * u, 0});
  for (const BudgetEvent& b : g.replenished) e.replenished.push_back(BudgetEvent{b.task, b.at * u, b.amount * u});
  for (const Response& r : g.responses) e.responses.push_back(Response{r.task, r.job, r.value * u});
  return e;
}

std::string ms(int64_t ns) { return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6); }

// Every difference between `got` and `want`, one line each (empty: none). On every CPU, the
// order of slices and how each ended must be equal (CPUs are independent: how slices of
// different CPUs interleave is not compared); the missed jobs, and each task's budget events,
// must be the same; every listed response present. Instants, amounts and response times must lie
// within `tolerance` ns, unless it is negative (the structure alone).
std::vector<std::string> differences(const Schedule& got, const Schedule& want, int64_t tolerance) {
  const auto near = [tolerance](int64_t a, int64_t b) { return tolerance < 0 || std::abs(a - b) <= tolerance; };
  std::vector<std::string> d;
  const auto per_cpu = [](const std::vector<Slice>& v) {
    std::map<uint32_t, std::vector<Slice>> m;
    for (const Slice& s : v) m[s.cpu].push_back(s);
    return m;
  };
  const auto describe = [](const std::vector<Slice>& v) {
    std::string out;
    for (const Slice& s : v) out += fmt::format(" {}#{} {}-{} {};", s.task, s.job, ms(s.start), ms(s.end), s.how);
    return out;
  };
  std::map<uint32_t, std::vector<Slice>> g_cpus = per_cpu(got.runs), w_cpus = per_cpu(want.runs);
  for (const auto& [cpu, w] : w_cpus) g_cpus[cpu];  // every CPU on both sides
  for (const auto& [cpu, g] : g_cpus) {
    const std::vector<Slice>& w = w_cpus[cpu];
    bool same_order = g.size() == w.size();
    for (size_t i = 0; same_order && i < g.size(); ++i) {
      same_order = g[i].task == w[i].task && g[i].job == w[i].job && g[i].how == w[i].how;
    }
    if (!same_order) {
      d.push_back(fmt::format("CPU {} slices:{}\n  expected:{}", cpu, describe(g), describe(w)));
      continue;
    }
    for (size_t i = 0; i < g.size(); ++i) {
      if (!near(g[i].start, w[i].start) || !near(g[i].end, w[i].end)) {
        d.push_back(fmt::format("{}#{}: {}-{}, expected {}-{}", g[i].task, g[i].job, ms(g[i].start), ms(g[i].end),
                                ms(w[i].start), ms(w[i].end)));
      }
    }
  }
  // Misses, by job.
  std::map<std::pair<std::string, uint64_t>, int64_t> g_miss, w_miss;
  for (const Miss& m : got.misses) g_miss[{m.task, m.job}] = m.at;
  for (const Miss& m : want.misses) w_miss[{m.task, m.job}] = m.at;
  for (const auto& [job, at] : g_miss) {
    const auto w = w_miss.find(job);
    if (w == w_miss.end()) {
      d.push_back(fmt::format("miss of {}#{} at {}, expected none", job.first, job.second, ms(at)));
    } else if (!near(at, w->second)) {
      d.push_back(fmt::format("miss of {}#{} at {}, expected at {}", job.first, job.second, ms(at), ms(w->second)));
    }
  }
  for (const auto& [job, at] : w_miss) {
    if (!g_miss.count(job)) d.push_back(fmt::format("no miss of {}#{}, expected one at {}", job.first, job.second, ms(at)));
  }
  // Budget events, task by task, in order.
  const auto budget = [&d, &near](const char* what, const std::vector<BudgetEvent>& got_events,
                                  const std::vector<BudgetEvent>& want_events) {
    std::map<std::string, std::vector<BudgetEvent>> g, w;
    for (const BudgetEvent& e : got_events) g[e.task].push_back(e);
    for (const BudgetEvent& e : want_events) w[e.task].push_back(e);
    for (const auto& [task, events] : w) g[task];
    for (const auto& [task, ge] : g) {
      const std::vector<BudgetEvent>& we = w[task];
      if (ge.size() != we.size()) {
        d.push_back(fmt::format("{} {} of {}, expected {}: {}", ge.size(), what, task, we.size(), ::testing::PrintToString(ge)));
        continue;
      }
      for (size_t i = 0; i < ge.size(); ++i) {
        if (!near(ge[i].at, we[i].at) || !near(ge[i].amount, we[i].amount)) {
          d.push_back(fmt::format("{} of {} at {} ({}), expected at {} ({})", what, task, ms(ge[i].at), ms(ge[i].amount),
                                  ms(we[i].at), ms(we[i].amount)));
        }
      }
    }
  };
  budget("budget exhaustions", got.exhausted, want.exhausted);
  budget("replenishments", got.replenished, want.replenished);
  for (const Response& w : want.responses) {
    const auto it = std::find_if(got.responses.begin(), got.responses.end(),
                                 [&](const Response& x) { return x.task == w.task && x.job == w.job; });
    if (it == got.responses.end()) {
      d.push_back(fmt::format("no completion of {}#{}", w.task, w.job));
    } else if (!near(it->value, w.value)) {
      d.push_back(fmt::format("{}#{}: response {}, expected {}", w.task, w.job, ms(it->value), ms(w.value)));
    }
  }
  return d;
}

// Boots the scenario file under QEMU (TCG, -icount) and brings back its trace, with the thread
// names of the simulator's instantiation (the kernel instantiates in the same canonical order).
TraceRun boot_scenario(const std::string& path, std::string* serial) {
  const scenario::Scenario s = scenario::load_scenario(path);
  TraceRun run;
  {
    CountingSink none;
    sim::ScenarioRun layout(s, {}, none);
    run.names = layout.names();
  }
  harness::BootOptions o;
  o.kernel = EDGEOS_KERNEL_ELF;
  o.accel = "tcg";
  o.icount = true;
  o.cpus = 0;
  for (const scenario::Server& sv : s.servers) o.cpus += static_cast<int>(sv.cpus);
  const harness::BootResult r = harness::boot(scenario::compile_scenario(s), s.duration.ns(), o);
  *serial = r.serial;
  if (!r.ok) throw std::runtime_error(r.failure + "\n" + r.serial);
  run.records = r.records;
  return run;
}

class GoldenOnKernel : public ::testing::TestWithParam<std::string> {};

// Whether a program is on PATH.
bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / program)) return true;
  }
  return false;
}

TEST_P(GoldenOnKernel, BootedScheduleMatches) {
  if (!on_path("qemu-system-x86_64")) GTEST_SKIP() << "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)";
  const GoldenCase g = load_golden(GetParam());
  const int64_t horizon_ns = g.horizon * g.unit_ns;
  GoldenScenarioOptions o;
  o.shave_ns = kShave;
  const std::string dir = ::testing::TempDir() + "golden-kernel-" + std::filesystem::path(GetParam()).stem().string();
  const std::string path = write_golden_scenario(golden_scenario(g, o), dir);
  const Schedule simulated = schedule_of(run_scenario_on_core_sim(path), horizon_ns);
  std::string serial;
  const TraceRun booted = boot_scenario(path, &serial);  // any error fails the test
  std::filesystem::remove_all(dir);
  const Schedule kernel = schedule_of(booted, horizon_ns);

  const std::vector<std::string> vs_sim = differences(kernel, simulated, kTolerance);
  EXPECT_TRUE(vs_sim.empty()) << "the kernel against the core-only simulator on the same scenario:\n  "
                              << ::testing::PrintToString(vs_sim) << "\n" << serial;
  if (vs_sim.empty()) {
    int64_t late = 0;  // slices pair up CPU by CPU; in time order with the same CPUs, they pair up in order
    std::map<uint32_t, std::vector<int64_t>> ends;
    for (const Slice& x : simulated.runs) ends[x.cpu].push_back(x.end);
    std::map<uint32_t, size_t> next;
    for (const Slice& x : kernel.runs) late = std::max(late, x.end - ends[x.cpu][next[x.cpu]++]);
    std::printf("%s (%u CPU%s): kernel slices end at most %.1f us after the simulator's\n", g.file.c_str(), g.cpus,
                g.cpus == 1 ? "" : "s", static_cast<double>(late) / 1e3);
  }
  // The shaved simulation ends each job up to kShave per job earlier than the golden file: only
  // its structure is compared; the kernel's instants were compared with it above. Which files are
  // decided by ties is known (tests/golden/README.md says why, file by file): a file that joins
  // or leaves the list is a change to look at, not to pass over.
  const Schedule golden = golden_schedule(g);
  const std::vector<std::string> tie = differences(simulated, golden, -1);
  const bool listed = kDecidedByTies.count(g.file) != 0;
  if (!tie.empty()) {
    EXPECT_TRUE(listed) << g.file << ": the simulated schedule of the shaved scenario is not the golden one, and the "
                        << "file is not one known to be decided by events at one instant:\n  "
                        << ::testing::PrintToString(tie);
    std::printf("%s: decided by events at one instant (shaving %ld ns off each cost changes its simulated schedule); "
                "compared with the simulator only\n",
                g.file.c_str(), static_cast<long>(kShave));
    return;
  }
  EXPECT_FALSE(listed) << g.file << " is listed as decided by events at one instant, but shaving no longer changes it";
  const std::vector<std::string> vs_golden = differences(kernel, golden, -1);
  EXPECT_TRUE(vs_golden.empty()) << "the kernel against the golden file:\n  " << ::testing::PrintToString(vs_golden);
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenOnKernel, ::testing::ValuesIn(golden_files(EDGEOS_GOLDEN_DIR)), case_name);

}  // namespace
}  // namespace edgeos::testing

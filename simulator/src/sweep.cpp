#include "edgeos/simulator/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "edgeos/hosted/error.hpp"
#include "edgeos/simulator/task_set_run.hpp"

namespace edgeos::sim {

namespace {

constexpr const char* kTests[] = {"rta",           "ll-bound",      "hyperbolic", "edf-util", "edf-qpa",
                                  "rta-overheads", "edf-overheads", "sim-fp",     "sim-edf",  "gfb",
                                  "baker",         "bcl-edf",       "bcl-fp",     "rta-gfp",  "sim-gfp",
                                  "sim-gedf"};

bool is_simulation(const std::string& t) { return t == "sim-fp" || t == "sim-edf" || t == "sim-gfp" || t == "sim-gedf"; }

// Global tests: all the CPUs are one scheduling domain (no partitioning).
bool is_global(const std::string& t) {
  return t == "gfb" || t == "baker" || t == "bcl-edf" || t == "bcl-fp" || t == "rta-gfp" || t == "sim-gfp" || t == "sim-gedf";
}

bool accepts_global(const std::string& name, const std::vector<analysis::Task>& tasks, uint32_t m) {
  using namespace analysis;
  if (name == "gfb") return gedf_density(tasks, m).schedulable();
  if (name == "baker") return gedf_baker(tasks, m).schedulable();
  if (name == "bcl-edf") return gedf_bcl(tasks, m).schedulable();
  // The generated sets carry deadline-monotonic priorities.
  if (name == "bcl-fp") return gfp_bcl(tasks, m).schedulable();
  if (name == "rta-gfp") return gfp_rta(tasks, m).schedulable();
  throw InputError("unknown test " + name);
}

// The single-CPU verdict of analysis test `name`.
bool accepts(const std::string& name, const std::vector<analysis::Task>& tasks, const analysis::Overheads& o) {
  using namespace analysis;
  if (name == "rta") return response_time_analysis(with_priorities(tasks, deadline_monotonic(tasks))).schedulable();
  if (name == "ll-bound") return liu_layland_bound(tasks).schedulable();
  if (name == "hyperbolic") return hyperbolic_bound(tasks).schedulable();
  if (name == "edf-util") return edf_utilisation(tasks).schedulable();
  if (name == "edf-qpa") return edf_demand(tasks).schedulable();
  if (name == "rta-overheads") return fp_with_overheads(with_priorities(tasks, deadline_monotonic(tasks)), o).schedulable();
  if (name == "edf-overheads") return edf_with_overheads(tasks, o).schedulable();
  throw InputError("unknown test " + name);
}

Duration hyperperiod(const std::vector<analysis::Task>& tasks, Duration cap) {
  int128_t h = 1;
  for (const analysis::Task& t : tasks) {
    const int128_t p = t.period.ns();
    int128_t a = h, b = p;
    while (b != 0) {
      const int128_t r = a % b;
      a = b;
      b = r;
    }
    h = h / a * p;
    if (h > cap.ns()) return cap;
  }
  return Duration::nanoseconds(static_cast<int64_t>(h));
}

bool simulate_no_miss(const std::vector<analysis::Task>& tasks, bool edf, uint32_t cpus, analysis::Fit fit,
                      const analysis::Overheads& o, Duration horizon_cap, bool global = false) {
  std::vector<uint32_t> cpu;
  if (global) {
    cpu.assign(tasks.size(), 0);  // created on CPU 0; the domain spreads them
  } else if (cpus > 1) {
    // Place by utilisation alone (at most 1 per CPU): the simulation then shows what happens.
    const analysis::Partition p = analysis::partition(tasks, cpus, fit, [](const std::vector<analysis::Task>& ts) {
      return analysis::compare_utilisation(ts, 1, 1) <= 0;
    });
    if (!p.ok) return false;
    cpu = p.cpu;
  }
  Duration dmax = Duration::zero();
  for (const analysis::Task& t : tasks) dmax = max(dmax, t.deadline);
  SimConfig cfg;
  cfg.policy = edf ? Policy::kEdf : Policy::kFixedPriority;
  cfg.check_invariants = false;
  cfg.max_threads = static_cast<uint32_t>(tasks.size());
  cfg.max_fwps = static_cast<uint32_t>(tasks.size());
  cfg.max_templates = static_cast<uint32_t>(tasks.size());
  cfg.overheads[Overhead::kRelease] = o.release;
  cfg.overheads[Overhead::kSchedule] = o.schedule;
  cfg.overheads[Overhead::kContextSwitch] = o.context_switch;
  cfg.overheads[Overhead::kTimer] = o.timer;
  if (global) cfg.domains.assign(cpus, 0);
  const TaskSet set = gen::to_task_set(tasks, cpu, cpus, "sweep");
  const SimulationResult r = simulate(set, cfg, hyperperiod(tasks, horizon_cap) + dmax + Duration::nanoseconds(1), 1);
  return std::none_of(r.records.begin(), r.records.end(),
                      [](const TraceRecord& rec) { return rec.event == TraceEvent::kDeadlineMiss; });
}

}  // namespace

std::vector<std::string> sweep_test_names() { return {std::begin(kTests), std::end(kTests)}; }

void validate(const SweepConfig& c) {
  if (c.cpus == 0) throw InputError("sweep: --cpus must be >= 1");
  if (c.sets == 0) throw InputError("sweep: --sets must be >= 1");
  if (!(c.u_step > 0) || !(c.u_from > 0) || c.u_to < c.u_from || c.u_to > 1.0 + 1e-12) {
    throw InputError(fmt::format("sweep: need 0 < from <= to <= 1 and step > 0 (utilisation per CPU), got {}:{}:{}",
                                 c.u_from, c.u_to, c.u_step));
  }
  if ((c.u_to - c.u_from) / c.u_step > 10000) throw InputError("sweep: more than 10000 utilisation steps");
  if (c.tests.empty()) throw InputError("sweep: no tests selected");
  for (const std::string& t : c.tests) {
    if (std::find(std::begin(kTests), std::end(kTests), t) == std::end(kTests)) {
      throw InputError(fmt::format("sweep: unknown test '{}' (known: {})", t, fmt::join(kTests, ", ")));
    }
  }
  if (c.horizon <= Duration::zero()) throw InputError("sweep: --horizon must be > 0");
}

std::vector<double> sweep_steps(const SweepConfig& c) {
  validate(c);
  std::vector<double> steps;
  for (int k = 0;; ++k) {
    const double u = c.u_from + c.u_step * k;
    if (u > c.u_to + 1e-9) break;
    steps.push_back(u);
  }
  return steps;
}

namespace {

// Sets [first, first + count) of step `s` at utilisation `u`, added to `rows` (one per test).
void run_sets(const SweepConfig& c, size_t s, double u, size_t first, size_t count, std::vector<SweepRow>& rows,
              const std::function<void()>& one_done) {
  for (size_t i = first; i < first + count; ++i) {
    // The same set for every test: drawn from (seed, step, index).
    Rng rng = Rng::derive(c.seed, s * 1'000'003 + i);
    gen::TaskSetParams p = c.tasks;
    p.utilisation = u * c.cpus;
    if (p.utilisation > 1.0 && p.utilisations == gen::Utilisations::kUUniFast) {
      p.utilisations = gen::Utilisations::kUUniFastDiscard;
    }
    const std::vector<analysis::Task> tasks = gen::generate(rng, p);
    for (SweepRow& row : rows) {
      bool ok = false;
      if (is_simulation(row.test)) {
        ok = simulate_no_miss(tasks, row.test == "sim-edf" || row.test == "sim-gedf", c.cpus, c.fit, c.overheads, c.horizon,
                              is_global(row.test));
      } else if (is_global(row.test)) {
        ok = accepts_global(row.test, tasks, c.cpus);
      } else if (c.cpus == 1) {
        ok = accepts(row.test, tasks, c.overheads);
      } else {
        const std::string name = row.test;
        ok = analysis::partition(tasks, c.cpus, c.fit, [&](const std::vector<analysis::Task>& ts) {
               return accepts(name, ts, c.overheads);
             }).ok;
      }
      ++row.sets;
      row.accepted += ok ? 1 : 0;
    }
    if (one_done) one_done();
  }
}

}  // namespace

std::vector<SweepRow> run_sweep(const SweepConfig& c, const SweepProgress& progress) {
  const std::vector<double> steps = sweep_steps(c);
  std::vector<SweepRow> rows;
  const size_t total = steps.size() * c.sets;
  size_t done = 0;
  for (size_t s = 0; s < steps.size(); ++s) {
    std::vector<SweepRow> step_rows;
    for (const std::string& t : c.tests) step_rows.push_back(SweepRow{steps[s], t, 0, 0});
    run_sets(c, s, steps[s], 0, c.sets, step_rows, [&] {
      ++done;
      if (progress) progress(done, total);
    });
    rows.insert(rows.end(), step_rows.begin(), step_rows.end());
  }
  return rows;
}

std::vector<SweepRow> run_sweep_sets(const SweepConfig& c, size_t step, size_t first, size_t count) {
  const std::vector<double> steps = sweep_steps(c);
  if (step >= steps.size()) throw InputError(fmt::format("sweep: step {} out of range (the sweep has {})", step, steps.size()));
  std::vector<SweepRow> rows;
  for (const std::string& t : c.tests) rows.push_back(SweepRow{steps[step], t, 0, 0});
  run_sets(c, step, steps[step], first, count, rows, nullptr);
  return rows;
}

std::string sweep_csv(const std::vector<SweepRow>& rows) {
  std::string out = "utilisation,test,accepted,sets,ratio\n";
  for (const SweepRow& r : rows) {
    out += fmt::format("{:.4f},{},{},{},{:.6f}\n", r.utilisation, r.test, r.accepted, r.sets, r.ratio());
  }
  return out;
}

}  // namespace edgeos::sim

// Schedulability analysis against simulation, on thousands of generated task sets. Under
// synchronous release (the critical instant) the exact tests must agree with the simulated
// schedule in both directions:
//   - response-time analysis gives exactly the response time of each task's first job;
//   - EDF with implicit deadlines: U <= 1 iff no miss over the hyperperiod;
//   - EDF with constrained deadlines: the demand test (QPA) iff no miss in the first hyperperiod;
// the response-time-schedulable sets miss nothing over the whole hyperperiod;
// and the sufficient ones in one direction: overhead-aware analysis admitted => no miss in the
// overhead-aware simulation; partitioned sets admitted => no miss on the multicore simulation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "edgeos/analysis/analysis.hpp"
#include "edgeos/simulator/task_set_run.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::testing {
namespace {

using analysis::Task;
using analysis::Verdict;

struct Outcome {
  std::map<uint32_t, int64_t> first_response;  // by thread: response of job 0 (ns)
  std::map<uint32_t, bool> first_missed;       // by thread: job 0 missed
  uint64_t misses = 0;
};

Outcome simulate(const std::vector<Task>& tasks, sim::Policy policy, Duration horizon, uint32_t cpus = 1,
                 const std::vector<uint32_t>& cpu = {}, const sim::OverheadModel& overheads = {}) {
  const TaskSet set = gen::to_task_set(tasks, cpu, cpus, "generated");
  sim::SimConfig cfg;
  cfg.policy = policy;
  cfg.overheads = overheads;
  cfg.check_invariants = false;  // thousands of runs; the kernel tests check invariants
  cfg.max_threads = 64;
  cfg.max_fwps = 64;
  cfg.max_templates = 64;
  const sim::SimulationResult r = sim::simulate(set, cfg, horizon, 1);
  Outcome o;
  for (const TraceRecord& rec : r.records) {
    if (rec.event == TraceEvent::kComplete && rec.job == 0) o.first_response[rec.thread] = rec.value;
    if (rec.event == TraceEvent::kDeadlineMiss) {
      ++o.misses;
      if (rec.job == 0) o.first_missed[rec.thread] = true;
    }
  }
  return o;
}

// Periods dividing 60ms, so the hyperperiod is at most 60ms.
constexpr int64_t kDivisors[] = {2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60};

std::vector<Task> tasks_with_divisor_periods(Rng& rng, size_t n, double u, bool constrained) {
  const std::vector<double> share = u <= 1.0 ? gen::uunifast(rng, n, u) : gen::randfixedsum(rng, n, u);
  std::vector<Task> tasks(n);
  for (size_t i = 0; i < n; ++i) {
    Task& t = tasks[i];
    t.period = Duration::milliseconds(kDivisors[rng.below(std::size(kDivisors))]);
    t.wcet = Duration::nanoseconds(std::clamp<int64_t>(std::llround(share[i] * static_cast<double>(t.period.ns())), 1,
                                                       t.period.ns()));
    t.deadline = t.period;
    if (constrained) t.deadline = t.wcet + Duration::nanoseconds(rng.between(0, (t.period - t.wcet).ns()));
  }
  return analysis::with_priorities(tasks, analysis::deadline_monotonic(tasks));
}

TEST(AnalysisVsSimulation, ResponseTimeAnalysisIsExactAtTheCriticalInstant) {
  int compared = 0, unschedulable = 0;
  for (uint64_t seed = 0; seed < 2500; ++seed) {
    Rng rng = Rng::derive(seed, 21);
    gen::TaskSetParams p;
    p.tasks = static_cast<size_t>(rng.between(2, 8));
    p.utilisation = 0.4 + 0.7 * gen::uniform01(rng);
    p.utilisations = gen::Utilisations::kRandFixedSum;
    p.period_min = Duration::milliseconds(2);
    p.period_max = Duration::milliseconds(60);
    p.granularity = Duration::microseconds(100);
    p.deadlines = rng.below(2) == 0 ? gen::Deadlines::kImplicit : gen::Deadlines::kConstrained;
    const std::vector<Task> tasks = gen::generate(rng, p);
    const analysis::Result rta = analysis::response_time_analysis(tasks);
    Duration dmax = Duration::zero();
    for (const Task& t : tasks) dmax = max(dmax, t.deadline);
    const Outcome sim = simulate(tasks, sim::Policy::kFixedPriority, dmax + Duration::nanoseconds(1));
    // Walk down the priorities while every higher task meets its deadline (below a late task the
    // interference no longer follows the analysis's model).
    std::vector<size_t> order(tasks.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tasks[a].priority > tasks[b].priority; });
    for (const size_t i : order) {
      const uint32_t thread = static_cast<uint32_t>(i);
      if (rta.response_times[i].is_infinite()) {
        EXPECT_TRUE(sim.first_missed.count(thread)) << "seed " << seed << " task " << i << ": analysis says it misses";
        ++unschedulable;
        break;
      }
      ASSERT_TRUE(sim.first_response.count(thread)) << "seed " << seed << " task " << i;
      ASSERT_EQ(sim.first_response.at(thread), rta.response_times[i].ns()) << "seed " << seed << " task " << i;
      EXPECT_FALSE(sim.first_missed.count(thread));
      ++compared;
    }
  }
  EXPECT_GT(compared, 5000);
  EXPECT_GT(unschedulable, 300);
}

TEST(AnalysisVsSimulation, RtaSchedulableSetsNeverMissOverTheHyperperiod) {
  int admitted = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Rng rng = Rng::derive(seed, 26);
    const std::vector<Task> tasks = tasks_with_divisor_periods(rng, static_cast<size_t>(rng.between(2, 8)),
                                                               0.5 + 0.5 * gen::uniform01(rng), rng.below(2) == 0);
    if (!analysis::response_time_analysis(tasks).schedulable()) continue;
    ++admitted;
    Duration dmax = Duration::zero();
    for (const Task& t : tasks) dmax = max(dmax, t.deadline);
    const Outcome sim = simulate(tasks, sim::Policy::kFixedPriority, Duration::milliseconds(60) + dmax + Duration::nanoseconds(1));
    ASSERT_EQ(sim.misses, 0u) << "seed " << seed;
  }
  EXPECT_GT(admitted, 800);
}

TEST(AnalysisVsSimulation, EdfUtilisationTestIsExactForImplicitDeadlines) {
  int yes = 0, no = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Rng rng = Rng::derive(seed, 22);
    const std::vector<Task> tasks = tasks_with_divisor_periods(rng, static_cast<size_t>(rng.between(2, 8)),
                                                               0.6 + 0.6 * gen::uniform01(rng), false);
    const bool schedulable = analysis::edf_utilisation(tasks).schedulable();
    const Outcome sim = simulate(tasks, sim::Policy::kEdf, Duration::milliseconds(60) + Duration::nanoseconds(1));
    ASSERT_EQ(schedulable, sim.misses == 0) << "seed " << seed << ": U = " << analysis::utilisation(tasks);
    (schedulable ? yes : no)++;
  }
  EXPECT_GT(yes, 500);
  EXPECT_GT(no, 500);
}

TEST(AnalysisVsSimulation, EdfDemandTestIsExactForConstrainedDeadlines) {
  int yes = 0, no = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Rng rng = Rng::derive(seed, 23);
    const std::vector<Task> tasks = tasks_with_divisor_periods(rng, static_cast<size_t>(rng.between(2, 8)),
                                                               0.4 + 0.65 * gen::uniform01(rng), true);
    const analysis::Result qpa = analysis::edf_demand(tasks);
    ASSERT_NE(qpa.verdict, Verdict::kNotApplicable) << qpa.detail;
    Duration dmax = Duration::zero();
    for (const Task& t : tasks) dmax = max(dmax, t.deadline);
    const Outcome sim = simulate(tasks, sim::Policy::kEdf, Duration::milliseconds(60) + dmax + Duration::nanoseconds(1));
    ASSERT_EQ(qpa.schedulable(), sim.misses == 0) << "seed " << seed << ": " << qpa.detail;
    (qpa.schedulable() ? yes : no)++;
  }
  EXPECT_GT(yes, 400);
  EXPECT_GT(no, 400);
}

TEST(AnalysisVsSimulation, OverheadAwareAnalysisIsSafe) {
  int admitted_fp = 0, admitted_edf = 0, hurt = 0;
  for (uint64_t seed = 0; seed < 1500; ++seed) {
    Rng rng = Rng::derive(seed, 24);
    const std::vector<Task> tasks = tasks_with_divisor_periods(rng, static_cast<size_t>(rng.between(2, 8)),
                                                               0.5 + 0.5 * gen::uniform01(rng), rng.below(2) == 0);
    analysis::Overheads o;
    o.release = Duration::microseconds(rng.between(0, 60));
    o.schedule = Duration::microseconds(rng.between(0, 60));
    o.context_switch = Duration::microseconds(rng.between(0, 60));
    o.timer = Duration::microseconds(rng.between(0, 60));
    sim::OverheadModel model;
    model[Overhead::kRelease] = o.release;
    model[Overhead::kSchedule] = o.schedule;
    model[Overhead::kContextSwitch] = o.context_switch;
    model[Overhead::kTimer] = o.timer;
    Duration dmax = Duration::zero();
    for (const Task& t : tasks) dmax = max(dmax, t.deadline);
    const Duration horizon = Duration::milliseconds(120) + dmax;
    if (analysis::fp_with_overheads(tasks, o).schedulable()) {
      ++admitted_fp;
      ASSERT_EQ(simulate(tasks, sim::Policy::kFixedPriority, horizon, 1, {}, model).misses, 0u) << "seed " << seed;
    } else if (analysis::response_time_analysis(tasks).schedulable()) {
      // Admitted without overheads but not with them: do the overheads really hurt sometimes?
      hurt += simulate(tasks, sim::Policy::kFixedPriority, horizon, 1, {}, model).misses > 0 ? 1 : 0;
    }
    if (!tasks.empty() && analysis::edf_with_overheads(tasks, o).schedulable()) {
      ++admitted_edf;
      ASSERT_EQ(simulate(tasks, sim::Policy::kEdf, horizon, 1, {}, model).misses, 0u) << "seed " << seed;
    }
  }
  EXPECT_GT(admitted_fp, 300);
  EXPECT_GT(admitted_edf, 300);
  EXPECT_GT(hurt, 0) << "the overheads must matter for some sets, or this test shows nothing";
}

TEST(AnalysisVsSimulation, PartitionedSetsMeetTheirDeadlinesOnFourCpus) {
  int placed = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Rng rng = Rng::derive(seed, 25);
    const bool edf = seed % 2 == 0;
    const std::vector<Task> tasks = tasks_with_divisor_periods(rng, 16, 1.0 + 2.8 * gen::uniform01(rng), seed % 3 == 0);
    const analysis::Fit fit = static_cast<analysis::Fit>(seed % 3);
    const analysis::Partition p =
        analysis::partition(tasks, 4, fit, edf ? analysis::edf_admission() : analysis::fp_dm_admission());
    if (!p.ok) continue;
    ++placed;
    Duration dmax = Duration::zero();
    for (const Task& t : tasks) dmax = max(dmax, t.deadline);
    const Outcome sim = simulate(tasks, edf ? sim::Policy::kEdf : sim::Policy::kFixedPriority,
                                 Duration::milliseconds(60) + dmax + Duration::nanoseconds(1), 4, p.cpu);
    ASSERT_EQ(sim.misses, 0u) << "seed " << seed << " (" << analysis::fit_name(fit) << ")";
  }
  EXPECT_GT(placed, 150);
}

}  // namespace
}  // namespace edgeos::testing

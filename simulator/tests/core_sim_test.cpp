// The core-only simulator: determinism, the overhead model, arrival queueing, horizons.
#include "edgeos/simulator/core_sim.hpp"

#include <gtest/gtest.h>

#include "edgeos/hosted/error.hpp"
#include "edgeos/simulator/sweep.hpp"
#include "edgeos/simulator/task_set_run.hpp"

namespace edgeos::sim {
namespace {

using namespace time_literals;

TaskSet mixed_set() {
  TaskSet set;
  set.name = "mixed";
  set.num_cpus = 2;
  auto add = [&](const char* name, uint32_t cpu, Duration c, Duration bcet, Duration t, TaskKind kind) {
    TaskSpec s;
    s.name = name;
    s.tenant = cpu == 0 ? "zero" : "one";
    s.cpu = cpu;
    s.wcet = c;
    s.bcet = bcet;
    s.period = t;
    s.kind = kind;
    if (kind == TaskKind::kSporadic) s.max_extra = t;
    set.tasks.push_back(s);
  };
  add("a", 0, 2_ms, 1_ms, 5_ms, TaskKind::kPeriodic);
  add("b", 0, 3_ms, 1_ms, 9_ms, TaskKind::kSporadic);
  add("c", 1, 1_ms, 100_us, 3_ms, TaskKind::kSporadic);
  add("d", 1, 4_ms, 2_ms, 11_ms, TaskKind::kPeriodic);
  assign_rate_monotonic(set);
  return set;
}

TEST(CoreSimulator, SameSeedGivesAnIdenticalTrace) {
  SimConfig cfg;
  const SimulationResult a = simulate(mixed_set(), cfg, 2_s, 42);
  const SimulationResult b = simulate(mixed_set(), cfg, 2_s, 42);
  const SimulationResult c = simulate(mixed_set(), cfg, 2_s, 43);
  ASSERT_GT(a.records.size(), 1000u);
  EXPECT_EQ(a.records, b.records);
  EXPECT_NE(a.records, c.records) << "the seed drives costs and arrivals";
}

// A policy from outside the simulator (the hook the Python bindings use): FP and EDF instances
// the test owns give the built-in policies' traces.
TEST(CoreSimulator, SchedulerFactoryRunsTheCallersPolicies) {
  for (const Policy p : {Policy::kFixedPriority, Policy::kEdf}) {
    SimConfig builtin;
    builtin.policy = p;
    builtin.check_invariants = true;
    const SimulationResult expected = simulate(mixed_set(), builtin, 1_s, 7);

    std::vector<std::unique_ptr<FixedPriorityScheduler>> fp;
    std::vector<std::vector<EdfScheduler::Entry>> storage;
    std::vector<std::unique_ptr<EdfScheduler>> edf;
    std::vector<CpuId> asked;
    SimConfig custom;
    custom.policy = p == Policy::kEdf ? Policy::kFixedPriority : Policy::kEdf;  // ignored: the factory wins
    custom.check_invariants = true;
    custom.scheduler_factory = [&](CpuId cpu) -> Scheduler* {
      asked.push_back(cpu);
      if (p == Policy::kFixedPriority) return fp.emplace_back(std::make_unique<FixedPriorityScheduler>()).get();
      storage.emplace_back(custom.max_threads);
      return edf.emplace_back(std::make_unique<EdfScheduler>(Span<EdfScheduler::Entry>(storage.back().data(), storage.back().size()))).get();
    };
    const SimulationResult got = simulate(mixed_set(), custom, 1_s, 7);
    EXPECT_EQ(asked, (std::vector<CpuId>{0, 1}));
    ASSERT_GT(expected.records.size(), 500u);
    EXPECT_EQ(got.records, expected.records) << policy_name(p);
  }
}

TEST(CoreSimulator, SchedulerFactoryReturningNothingIsAnInputError) {
  SimConfig cfg;
  cfg.scheduler_factory = [](CpuId) -> Scheduler* { return nullptr; };
  EXPECT_THROW(simulate(mixed_set(), cfg, 1_s, 1), InputError);
}

// A sweep cut into pieces of sets (as the Python package spreads one over processes) adds up to
// the whole sweep, row by row.
TEST(Sweep, PiecesAddUpToTheWholeSweep) {
  SweepConfig c;
  c.tasks.tasks = 5;
  c.u_from = 0.7;
  c.u_to = 1.0;
  c.u_step = 0.15;
  c.sets = 9;
  c.tests = {"rta", "edf-qpa", "sim-fp"};
  c.horizon = 300_ms;
  const std::vector<SweepRow> whole = run_sweep(c);
  const std::vector<double> steps = sweep_steps(c);
  ASSERT_EQ(whole.size(), steps.size() * c.tests.size());
  size_t accepted = 0;
  for (size_t s = 0; s < steps.size(); ++s) {
    std::vector<SweepRow> sum;
    for (size_t first = 0; first < c.sets; first += 4) {
      const std::vector<SweepRow> piece = run_sweep_sets(c, s, first, std::min<size_t>(4, c.sets - first));
      if (sum.empty()) sum = piece;
      else for (size_t k = 0; k < piece.size(); ++k) {
        sum[k].accepted += piece[k].accepted;
        sum[k].sets += piece[k].sets;
      }
    }
    for (size_t k = 0; k < c.tests.size(); ++k) {
      const SweepRow& w = whole[s * c.tests.size() + k];
      EXPECT_EQ(sum[k].test, w.test);
      EXPECT_EQ(sum[k].utilisation, w.utilisation);
      EXPECT_EQ(sum[k].accepted, w.accepted) << w.test << " at " << w.utilisation;
      EXPECT_EQ(sum[k].sets, c.sets);
      accepted += w.accepted;
    }
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, whole.size() * c.sets);
  EXPECT_THROW(run_sweep_sets(c, steps.size(), 0, 1), InputError);
}

TEST(CoreSimulator, JobCountsFollowFromPeriodsAndHorizon) {
  SimConfig cfg;
  cfg.policy = Policy::kFixedPriority;
  cfg.check_invariants = true;
  const SimulationResult r = simulate(mixed_set(), cfg, 1_s, 1);
  uint64_t releases_a = 0, releases_d = 0;
  for (const TraceRecord& rec : r.records) {
    if (rec.event != TraceEvent::kRelease) continue;
    if (r.names.thread(rec.thread) == "a") ++releases_a;
    if (r.names.thread(rec.thread) == "d") ++releases_d;
  }
  EXPECT_EQ(releases_a, 200u);  // releases at 0, 5, ..., 995 ms
  EXPECT_EQ(releases_d, 91u);   // at 0, 11, ..., 990 ms: floor(999 / 11) + 1
}

TEST(CoreSimulator, ContextSwitchOverheadDelaysCompletion) {
  using namespace edgeos::time_literals;
  for (const Duration overhead : {Duration::zero(), 7_us}) {
    SimConfig cfg;
    cfg.overheads[Overhead::kContextSwitch] = overhead;
    cfg.check_invariants = true;
    TraceBuffer buf;
    CoreSimulator s(cfg, buf);
    const FwpId f = *s.kernel().fwp_spawn(*s.kernel().template_create({}));
    ThreadParams p;
    p.fwp = f;
    p.period = 1_ms;
    p.relative_deadline = 1_ms;
    p.sched.relative_deadline = 1_ms;
    ASSERT_TRUE(s.add_thread(p, fixed_cost(100_us)).is_ok());
    s.run_until(Instant::epoch() + 500_us);
    const auto it = std::find_if(buf.records().begin(), buf.records().end(),
                                 [](const TraceRecord& r) { return r.event == TraceEvent::kComplete; });
    ASSERT_NE(it, buf.records().end());
    EXPECT_EQ(it->time_ns, (100_us + overhead).ns());
    // The thread's measured CPU time includes the overhead, as on real hardware.
    EXPECT_EQ((*s.kernel().thread(ThreadId{0, 0}))->exec_total, 100_us + overhead);
  }
}

TEST(CoreSimulator, ArrivalsToABusyThreadAreQueuedNotLost) {
  SimConfig cfg;
  cfg.check_invariants = true;
  TraceBuffer buf;
  CoreSimulator s(cfg, buf);
  const FwpId f = *s.kernel().fwp_spawn(*s.kernel().template_create({}));
  ThreadParams p;
  p.fwp = f;
  p.release = ReleaseKind::kSporadic;
  p.period = 1_us;
  p.relative_deadline = 10_ms;
  p.sched.relative_deadline = 10_ms;
  std::vector<Instant> at;
  for (int i = 0; i < 10; ++i) at.push_back(Instant::epoch() + Duration::microseconds(i));
  ASSERT_TRUE(s.add_thread(p, fixed_cost(1_ms), arrival_sequence(at)).is_ok());
  const RunStats st = s.run_until(Instant::epoch() + 1_s);
  EXPECT_EQ(st.dropped_arrivals, 0u);
  std::vector<int64_t> responses;
  for (const TraceRecord& r : buf.records()) {
    if (r.event == TraceEvent::kComplete) responses.push_back(r.value);
  }
  ASSERT_EQ(responses.size(), 10u);
  // Job k arrives at k us and completes at (k + 1) ms.
  for (int k = 0; k < 10; ++k) EXPECT_EQ(responses[k], (k + 1) * 1'000'000 - k * 1'000);
}

TEST(CoreSimulator, RunsCanBeContinued) {
  SimConfig cfg;
  const SimulationResult whole = simulate(mixed_set(), cfg, 1_s, 5);
  TraceBuffer buf;
  cfg.num_cpus = 2;
  CoreSimulator s(cfg, buf);
  load_task_set(s, mixed_set(), 5);
  s.run_until(Instant::epoch() + 300_ms);
  s.run_until(Instant::epoch() + 1_s);
  EXPECT_EQ(buf.records(), whole.records);
}

TEST(CoreSimulator, BadConfigurationIsAnInputError) {
  SimConfig cfg;
  cfg.num_cpus = 0;
  TraceBuffer buf;
  EXPECT_THROW(CoreSimulator(cfg, buf), InputError);
  TaskSet set = mixed_set();
  set.tasks[0].wcet = Duration::zero();
  EXPECT_THROW(simulate(set, SimConfig{}, 1_s, 1), InputError);
  EXPECT_THROW(simulate(mixed_set(), SimConfig{}, Duration::zero(), 1), InputError);
  EXPECT_THROW(parse_policy("lottery", "--policy"), InputError);
}

}  // namespace
}  // namespace edgeos::sim

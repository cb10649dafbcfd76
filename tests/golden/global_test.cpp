// Global and clustered scheduling (scheduling domains, kernel.hpp): hand-worked golden schedules,
// and the core-only simulator against a second, time-stepped implementation of global EDF and
// global FP written here (it shares no code with core/ or tests/support/reference_sim.cpp).
//
// The rules both implement (kernel.hpp, "scheduling domains"; docs/trace.md, `migrate`):
//   - at an instant, completions come first, one event per CPU in CPU order, each followed by a
//     decision for its domain; then each domain's timer (deadline misses and releases, in thread
//     order), followed by a decision;
//   - a decision repeatedly takes the best ready thread of the domain: to the CPU it last ran on
//     if that CPU is idle, else to the lowest-numbered idle CPU, else it preempts the CPU running
//     the domain's lowest-precedence thread (lowest-numbered CPU among equals) if it beats it;
//   - EDF precedence: (deadline, release sequence, thread index); FP: higher priority first, FIFO
//     within a level, a preempted thread at the head of its level, an equal never preempts;
//   - a backlogged periodic job (its predecessor missed) is released when the predecessor
//     completes; a dispatch on another CPU than the thread's last is a migration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "../support/core_sim_runner.hpp"
#include "edgeos/core/rng.hpp"

namespace edgeos::testing {
namespace {

struct Migration {
  std::string task;
  int64_t at = 0;
  uint32_t to = 0;
  uint32_t from = 0;
  bool operator==(const Migration&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Migration& m) {
  return os << "migrate " << m.task << " at " << m.at << " " << m.from << "->" << m.to;
}

std::vector<Migration> migrations_of(const TraceRun& run, int64_t unit) {
  std::vector<Migration> out;
  for (const TraceRecord& r : run.records) {
    if (r.event == TraceEvent::kMigrate) {
      out.push_back(Migration{run.names.thread(r.thread), r.time_ns / unit, r.cpu, static_cast<uint32_t>(r.value)});
    }
  }
  return out;
}

struct GTask {
  std::string name;
  int64_t wcet = 1;
  int64_t period = 1;  // implicit deadline
  int64_t phase = 0;
  uint8_t priority = 0;
  uint32_t cpu = 0;  // the CPU it is created on (a CPU of its domain)
};

struct GSchedule {
  std::vector<Slice> slices;
  std::vector<Miss> misses;
  std::vector<Response> responses;
  std::vector<Migration> migrations;
};

// The second implementation: unit time steps, plain arrays, linear scans.
GSchedule reference_global(const std::vector<GTask>& tasks, bool edf, const std::vector<uint32_t>& leader_of,
                           int64_t horizon) {
  const size_t n = tasks.size();
  const uint32_t m = static_cast<uint32_t>(leader_of.size());
  struct State {
    bool has_job = false;
    bool running = false;
    bool missed = false;
    int64_t released = 0;  // jobs released
    int64_t rem = 0;
    int64_t release = 0;
    int64_t deadline = 0;
    int64_t seq = 0;
    int64_t fifo = 0;
    uint32_t last_cpu = 0;
  };
  std::vector<State> st(n);
  for (size_t i = 0; i < n; ++i) st[i].last_cpu = tasks[i].cpu;
  std::vector<int> on(m, -1);
  std::vector<Slice> open(m);
  GSchedule out;
  int64_t seq = 0, tail = 0, head = 0;
  auto domain = [&](size_t i) { return leader_of[tasks[i].cpu]; };
  auto beats = [&](size_t a, size_t b) {  // a strictly before b
    if (edf) {
      return std::make_tuple(st[a].deadline, st[a].seq, a) < std::make_tuple(st[b].deadline, st[b].seq, b);
    }
    return tasks[a].priority > tasks[b].priority;
  };
  auto queue_before = [&](size_t a, size_t b) {  // order of the ready queue
    if (edf) return beats(a, b);
    if (tasks[a].priority != tasks[b].priority) return tasks[a].priority > tasks[b].priority;
    return st[a].fifo < st[b].fifo;
  };
  auto release = [&](size_t i, int64_t at) {
    State& s = st[i];
    s.has_job = true;
    s.missed = false;
    s.release = at;
    s.deadline = at + tasks[i].period;
    s.rem = tasks[i].wcet;
    s.seq = seq++;
    s.fifo = tail++;
    ++s.released;
  };
  auto close = [&](uint32_t cpu, int64_t t, const char* how) {
    open[cpu].end = t;
    open[cpu].how = how;
    out.slices.push_back(open[cpu]);
    on[cpu] = -1;
  };
  auto decide = [&](uint32_t leader, int64_t t) {
    for (;;) {
      int best = -1;
      for (size_t i = 0; i < n; ++i) {
        if (domain(i) != leader || !st[i].has_job || st[i].running) continue;
        if (best < 0 || queue_before(i, static_cast<size_t>(best))) best = static_cast<int>(i);
      }
      if (best < 0) return;
      int target = -1;
      if (on[st[best].last_cpu] < 0) {
        target = static_cast<int>(st[best].last_cpu);
      } else {
        for (uint32_t c = 0; c < m && target < 0; ++c) {
          if (leader_of[c] == leader && on[c] < 0) target = static_cast<int>(c);
        }
      }
      if (target < 0) {
        for (uint32_t c = 0; c < m; ++c) {
          if (leader_of[c] != leader) continue;
          if (target < 0 || beats(static_cast<size_t>(on[target]), static_cast<size_t>(on[c]))) target = static_cast<int>(c);
        }
        const size_t victim = static_cast<size_t>(on[target]);
        if (!beats(static_cast<size_t>(best), victim)) return;
        st[victim].running = false;
        st[victim].fifo = --head;
        close(static_cast<uint32_t>(target), t, "preempt");
      }
      State& b = st[best];
      if (b.last_cpu != static_cast<uint32_t>(target)) {
        out.migrations.push_back(Migration{tasks[best].name, t, static_cast<uint32_t>(target), b.last_cpu});
      }
      b.last_cpu = static_cast<uint32_t>(target);
      b.running = true;
      on[target] = best;
      open[target] = Slice{tasks[best].name, static_cast<uint64_t>(b.released - 1), static_cast<uint32_t>(target), t, 0, ""};
    }
  };
  // The domain's timer: misses and releases due at t, in thread order. True if any was due.
  auto expire = [&](uint32_t l, int64_t t) {
    bool fired = false;
    for (size_t i = 0; i < n; ++i) {
      if (domain(i) != l) continue;
      State& s = st[i];
      if (s.has_job && !s.missed && s.deadline <= t) {
        s.missed = true;
        out.misses.push_back(Miss{tasks[i].name, static_cast<uint64_t>(s.released - 1), t});
        fired = true;
      } else if (!s.has_job && tasks[i].phase + tasks[i].period * s.released == t) {
        release(i, t);
        fired = true;
      }
    }
    return fired;
  };
  // A domain of one CPU is partitioned scheduling, unchanged: any event of its CPU processes its
  // timers before the decision.
  auto alone = [&](uint32_t l) { return std::count(leader_of.begin(), leader_of.end(), l) == 1; };
  for (int64_t t = 0; t < horizon; ++t) {
    for (uint32_t c = 0; c < m; ++c) {
      if (on[c] < 0 || st[on[c]].rem > 0) continue;
      const size_t i = static_cast<size_t>(on[c]);
      State& s = st[i];
      out.responses.push_back(Response{tasks[i].name, static_cast<uint64_t>(s.released - 1), t - s.release});
      close(c, t, "complete");
      s.running = false;
      s.has_job = false;
      const int64_t next = tasks[i].phase + tasks[i].period * s.released;
      if (next <= t) release(i, next);
      if (alone(leader_of[c])) expire(leader_of[c], t);
      decide(leader_of[c], t);
    }
    for (uint32_t l = 0; l < m; ++l) {
      if (leader_of[l] == l && expire(l, t)) decide(l, t);
    }
    for (uint32_t c = 0; c < m; ++c) {
      if (on[c] >= 0) --st[on[c]].rem;
    }
  }
  for (uint32_t c = 0; c < m; ++c) {
    if (on[c] >= 0) close(c, horizon, "end");
  }
  std::stable_sort(out.slices.begin(), out.slices.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.cpu < b.cpu;
  });
  return out;
}

constexpr int64_t kUnit = 1000;  // 1 unit = 1 us

TraceRun run_core(const std::vector<GTask>& tasks, bool edf, const std::vector<uint32_t>& leader_of, int64_t horizon) {
  GoldenCase g;
  g.policy = edf ? "edf" : "fp";
  g.cpus = static_cast<uint32_t>(leader_of.size());
  g.domains = leader_of;
  g.unit_ns = kUnit;
  g.horizon = horizon;
  for (const GTask& t : tasks) {
    GoldenTask gt;
    gt.name = t.name;
    gt.tenant = "tenant";
    gt.cpu = t.cpu;
    gt.costs = {t.wcet};
    gt.period = t.period;
    gt.phase = t.phase;
    gt.priority = t.priority;
    g.tasks.push_back(gt);
  }
  return run_on_core_sim(g);
}

GSchedule core_schedule(const std::vector<GTask>& tasks, bool edf, const std::vector<uint32_t>& leader_of,
                        int64_t horizon) {
  const TraceRun run = run_core(tasks, edf, leader_of, horizon);
  GSchedule s;
  s.slices = slices_of(run.records, run.names, kUnit, horizon * kUnit);
  s.misses = misses_of(run.records, run.names, kUnit);
  s.responses = responses_of(run.records, run.names, kUnit);
  s.migrations = migrations_of(run, kUnit);
  return s;
}

template <class T, class K>
std::vector<T> sorted(std::vector<T> v, K key) {
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return v;
}

void expect_same(const GSchedule& got, const GSchedule& want, const std::string& desc) {
  auto miss_key = [](const Miss& x) { return std::make_tuple(x.at, x.task, x.job); };
  auto resp_key = [](const Response& x) { return std::make_tuple(x.task, x.job); };
  ASSERT_THAT(sorted(got.responses, resp_key), ::testing::ElementsAreArray(sorted(want.responses, resp_key))) << desc;
  ASSERT_THAT(sorted(got.misses, miss_key), ::testing::ElementsAreArray(sorted(want.misses, miss_key))) << desc;
  ASSERT_THAT(got.slices, ::testing::ElementsAreArray(want.slices)) << desc;
  ASSERT_THAT(got.migrations, ::testing::ElementsAreArray(want.migrations)) << desc;
}

// --- golden schedules, worked by hand ------------------------------------------------------------

// Dhall's effect (Dhall & Liu 1978): two light tasks (C=2, T=40) and a heavy one (C=40, T=41) on
// two CPUs, U = 0.1 + 0.976 = 1.076 of 2. At 0 the light jobs have the earlier deadlines (40 <
// 41) and take both CPUs; the heavy job starts at 2 and needs 40, so it ends at 42 and misses at
// 41. At 40 the lights' second jobs (deadline 80) do not preempt it: l0 runs on the idle CPU 1
// (migrating from 0), l1 waits. At 42 CPU 0's event (h completes; its backlogged job, released
// late with deadline 82) comes first: l1 (deadline 80) takes CPU 0, leaving CPU 1, where it last
// ran, busy with l0 whose completion at 42 is CPU 1's event, next; then h moves to CPU 1.
TEST(GlobalGolden, DhallEffectMissesUnderGlobalEdf) {
  const std::vector<GTask> tasks = {{"l0", 2, 40, 0, 0, 0}, {"l1", 2, 40, 0, 0, 0}, {"h", 40, 41, 0, 0, 0}};
  const GSchedule got = core_schedule(tasks, /*edf=*/true, {0, 0}, 44);
  EXPECT_THAT(got.slices, ::testing::ElementsAre(Slice{"l0", 0, 0, 0, 2, "complete"}, Slice{"l1", 0, 1, 0, 2, "complete"},
                                                 Slice{"h", 0, 0, 2, 42, "complete"}, Slice{"l0", 1, 1, 40, 42, "complete"},
                                                 Slice{"l1", 1, 0, 42, 44, "end"}, Slice{"h", 1, 1, 42, 44, "end"}));
  EXPECT_THAT(got.misses, ::testing::ElementsAre(Miss{"h", 0, 41}));
  EXPECT_THAT(got.migrations, ::testing::ElementsAre(Migration{"l1", 0, 1, 0}, Migration{"l0", 40, 1, 0},
                                                     Migration{"l1", 42, 0, 1}, Migration{"h", 42, 1, 0}));
  // The same set partitioned (h alone on CPU 1, the lights on CPU 0) meets every deadline.
  std::vector<GTask> split = tasks;
  split[2].cpu = 1;
  EXPECT_THAT(core_schedule(split, /*edf=*/true, {0, 1}, 44).misses, ::testing::IsEmpty());
}

// G-FP on two CPUs: a (prio 3) on CPU 0, b (prio 2) on CPU 1, c (prio 1) waits. At 1, d (prio 4)
// arrives and preempts the lowest running thread, b, on CPU 1. At 3 a completes (CPU 0's event
// first): b resumes on the idle CPU 0 (CPU 1, where it last ran, is still d's), a migration
// 1 -> 0; then d completes and c starts on CPU 1, its own.
TEST(GlobalGolden, FixedPriorityOnTwoCpusWithAMigration) {
  const std::vector<GTask> tasks = {{"a", 3, 10, 0, 3, 0}, {"b", 4, 10, 0, 2, 1}, {"c", 4, 10, 0, 1, 1}, {"d", 2, 10, 1, 4, 1}};
  const GSchedule got = core_schedule(tasks, /*edf=*/false, {0, 0}, 10);
  EXPECT_THAT(got.slices, ::testing::ElementsAre(Slice{"a", 0, 0, 0, 3, "complete"}, Slice{"b", 0, 1, 0, 1, "preempt"},
                                                 Slice{"d", 0, 1, 1, 3, "complete"}, Slice{"b", 0, 0, 3, 6, "complete"},
                                                 Slice{"c", 0, 1, 3, 7, "complete"}));
  EXPECT_THAT(got.migrations, ::testing::ElementsAre(Migration{"b", 3, 0, 1}));
  EXPECT_THAT(got.misses, ::testing::IsEmpty());
  auto resp_key = [](const Response& x) { return x.task; };
  EXPECT_THAT(sorted(got.responses, resp_key), ::testing::ElementsAre(Response{"a", 0, 3}, Response{"b", 0, 6},
                                                                      Response{"c", 0, 7}, Response{"d", 0, 2}));
}

// Ties. FP: x and y (prio 2) run on CPUs 0 and 1, w (prio 2) waits. At 1, z (prio 5) preempts one
// of the two equal lowest: the lowest-numbered CPU, 0 (x). x goes to the head of its level, ahead
// of w, which waited since 0: at 2 x resumes, and w only runs at 4. EDF: three jobs with the same
// deadline go in release order, which at one instant is thread order.
TEST(GlobalGolden, TiesGoToTheLowestCpuAndTheLowestThread) {
  const std::vector<GTask> fp = {{"x", 4, 10, 0, 2, 0}, {"y", 4, 10, 0, 2, 1}, {"w", 1, 10, 0, 2, 1}, {"z", 1, 10, 1, 5, 0}};
  const GSchedule got = core_schedule(fp, /*edf=*/false, {0, 0}, 10);
  EXPECT_THAT(got.slices, ::testing::ElementsAre(Slice{"x", 0, 0, 0, 1, "preempt"}, Slice{"y", 0, 1, 0, 4, "complete"},
                                                 Slice{"z", 0, 0, 1, 2, "complete"}, Slice{"x", 0, 0, 2, 5, "complete"},
                                                 Slice{"w", 0, 1, 4, 5, "complete"}));
  EXPECT_THAT(got.migrations, ::testing::IsEmpty());

  const std::vector<GTask> edf = {{"p", 2, 4, 0, 0, 0}, {"q", 2, 4, 0, 0, 0}, {"r", 2, 4, 0, 0, 0}};
  const GSchedule e = core_schedule(edf, /*edf=*/true, {0, 0}, 4);
  EXPECT_THAT(e.slices, ::testing::ElementsAre(Slice{"p", 0, 0, 0, 2, "complete"}, Slice{"q", 0, 1, 0, 2, "complete"},
                                               Slice{"r", 0, 0, 2, 4, "end"}));
  EXPECT_THAT(e.migrations, ::testing::ElementsAre(Migration{"q", 0, 1, 0}));
  EXPECT_THAT(e.misses, ::testing::IsEmpty());
}

// The hand-worked schedules above, replayed on the reference: it agrees with them too.
TEST(GlobalGolden, ReferenceAgreesOnTheGoldenSets) {
  const std::vector<GTask> dhall = {{"l0", 2, 40, 0, 0, 0}, {"l1", 2, 40, 0, 0, 0}, {"h", 40, 41, 0, 0, 0}};
  expect_same(core_schedule(dhall, true, {0, 0}, 44), reference_global(dhall, true, {0, 0}, 44), "dhall");
  const std::vector<GTask> fp = {{"a", 3, 10, 0, 3, 0}, {"b", 4, 10, 0, 2, 1}, {"c", 4, 10, 0, 1, 1}, {"d", 2, 10, 1, 4, 1}};
  expect_same(core_schedule(fp, false, {0, 0}, 10), reference_global(fp, false, {0, 0}, 10), "fp");
}

// Budgets follow a migrating thread. G-FP on 2 CPUs (1 unit = 1 ms): s (prio 1, C = 5) is a
// sporadic server of budget 3 per 10; a (prio 5, C = 3) on CPU 0; b (prio 5, C = 2) arrives at 2.
// s runs on CPU 1 over [0, 2] (refill of 2 due at 10), b preempts it there (moving from CPU 0,
// where it was created and which a keeps); at 3 a completes and
// s resumes on CPU 0 (a migration) with the 1 unit of budget left: exhausted at 4 (refill of 1
// due at 13). At 10 its first refill (2) comes back; it resumes on CPU 0, its last CPU, and
// completes its last 2 units at 12, before the budget runs out at the same instant.
TEST(GlobalGolden, SporadicServerBudgetFollowsTheThreadAcrossCpus) {
  GoldenCase g;
  g.policy = "fp";
  g.cpus = 2;
  g.domains = {0, 0};
  g.unit_ns = 1'000'000;
  g.horizon = 15;
  auto task = [](const char* name, uint32_t cpu, int64_t cost, int64_t phase, uint8_t prio) {
    GoldenTask t;
    t.name = name;
    t.tenant = "tenant";
    t.cpu = cpu;
    t.costs = {cost};
    t.period = 20;
    t.phase = phase;
    t.priority = prio;
    return t;
  };
  g.tasks = {task("a", 0, 3, 0, 5), task("b", 0, 2, 2, 5), task("s", 1, 5, 0, 1)};
  g.tasks[2].server = "sporadic";
  g.tasks[2].budget = 3;
  g.tasks[2].server_period = 10;
  const TraceRun run = run_on_core_sim(g);
  EXPECT_THAT(slices_of(run.records, run.names, g.unit_ns, g.horizon * g.unit_ns),
              ::testing::ElementsAre(Slice{"a", 0, 0, 0, 3, "complete"}, Slice{"s", 0, 1, 0, 2, "preempt"},
                                     Slice{"b", 0, 1, 2, 4, "complete"}, Slice{"s", 0, 0, 3, 4, "budget_exhausted"},
                                     Slice{"s", 0, 0, 10, 12, "complete"}));
  EXPECT_THAT(migrations_of(run, g.unit_ns), ::testing::ElementsAre(Migration{"b", 2, 1, 0}, Migration{"s", 3, 0, 1}));
  EXPECT_THAT(budget_events_of(run.records, run.names, TraceEvent::kBudgetExhausted, g.unit_ns),
              ::testing::ElementsAre(BudgetEvent{"s", 4, 0}));
  EXPECT_THAT(budget_events_of(run.records, run.names, TraceEvent::kReplenish, g.unit_ns),
              ::testing::ElementsAre(BudgetEvent{"s", 10, 2}));
}

// Servers of every kind in global and clustered domains, on random sets: every kernel invariant
// (budget state, replenishment and budget timers, CPU time conservation per domain, ready queue
// and running set) is checked after every event of every run (the kernel panics on a broken
// one), and a sporadic server, wherever it runs, never gets more than its budget in any window of
// one server period (Stanovich et al.'s guarantee), checked on its slices across all CPUs.
TEST(GlobalBudgets, ServersKeepTheirInvariantsWhenThreadsMigrate) {
  int exhausted_and_migrated = 0;  // runs where a server thread both ran out of budget and migrated
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng = Rng::derive(seed, 31);
    GoldenCase g;
    const bool edf = rng.below(2) == 0;
    g.policy = edf ? "edf" : "fp";
    g.cpus = static_cast<uint32_t>(rng.between(2, 4));
    g.domains.assign(g.cpus, 0);
    if (g.cpus == 4 && rng.below(2) == 0) g.domains = {0, 0, 2, 2};
    g.unit_ns = 1000;
    g.horizon = 300;
    const int n = static_cast<int>(rng.between(2, 3 * g.cpus));
    for (int i = 0; i < n; ++i) {
      GoldenTask t;
      t.name = "t" + std::to_string(i);
      t.tenant = "tenant";
      t.cpu = static_cast<uint32_t>(rng.below(g.cpus));
      t.period = rng.between(4, 30);
      t.costs = {rng.between(1, t.period)};
      t.phase = rng.below(3) == 0 ? rng.between(0, 5) : 0;
      t.priority = static_cast<uint8_t>(rng.between(0, 4));
      switch (rng.below(edf ? 5 : 4)) {
        case 0: break;
        case 1: t.server = "sporadic"; t.refills = static_cast<int>(rng.between(1, 8)); break;
        case 2: t.server = "deferrable"; break;
        case 3: t.server = "polling"; break;
        default: t.server = "cbs"; break;
      }
      if (!t.server.empty()) {
        t.server_period = rng.between(2, 20);
        t.budget = rng.between(1, t.server_period);
      }
      g.tasks.push_back(t);
    }
    const TraceRun run = run_on_core_sim(g);  // panics on any broken kernel invariant
    ASSERT_FALSE(run.records.empty()) << "seed " << seed;
    const std::vector<Slice> slices = slices_of(run.records, run.names, g.unit_ns, g.horizon * g.unit_ns);
    {
      std::vector<bool> exhausted(g.tasks.size() + 1), migrated(g.tasks.size() + 1);
      for (const TraceRecord& r : run.records) {
        if (r.thread >= exhausted.size()) continue;
        if (r.event == TraceEvent::kBudgetExhausted) exhausted[r.thread] = true;
        if (r.event == TraceEvent::kMigrate) migrated[r.thread] = true;
      }
      for (size_t i = 0; i < exhausted.size(); ++i) exhausted_and_migrated += exhausted[i] && migrated[i];
    }
    for (const GoldenTask& t : g.tasks) {
      if (t.server != "sporadic") continue;
      for (const Slice& from : slices) {
        if (from.task != t.name) continue;
        int64_t used = 0;  // in [from.start, from.start + server_period)
        for (const Slice& x : slices) {
          if (x.task != t.name) continue;
          used += std::max<int64_t>(0, std::min(x.end, from.start + t.server_period) - std::max(x.start, from.start));
        }
        ASSERT_LE(used, t.budget) << "seed " << seed << ": " << t.name << " in the window from " << from.start;
      }
    }
  }
  EXPECT_GE(exhausted_and_migrated, 100) << "too few server threads that both migrated and ran out of budget";
}

// --- the differential test -----------------------------------------------------------------------

struct RandomCase {
  std::vector<GTask> tasks;
  std::vector<uint32_t> leader_of;
};

RandomCase random_case(Rng& rng) {
  RandomCase c;
  // Global on 2..4 CPUs, or clustered: 4 CPUs as {0,1},{2,3}, or 3 CPUs as {0},{1,2}.
  switch (rng.below(4)) {
    case 0: c.leader_of = {0, 0, 2, 2}; break;
    case 1: c.leader_of = {0, 1, 1}; break;
    default: c.leader_of.assign(static_cast<size_t>(rng.between(2, 4)), 0); break;
  }
  const uint32_t m = static_cast<uint32_t>(c.leader_of.size());
  const int n = static_cast<int>(rng.between(1, 3 * m + 1));
  for (int i = 0; i < n; ++i) {
    GTask t;
    t.name = "t" + std::to_string(i);
    t.period = rng.between(2, 20);
    t.wcet = rng.between(1, t.period);  // heavy tasks too: Dhall-like sets and overload
    t.phase = rng.below(4) == 0 ? rng.between(0, 6) : 0;
    t.priority = static_cast<uint8_t>(rng.between(0, 4));  // equal priorities on purpose
    t.cpu = static_cast<uint32_t>(rng.below(m));
    c.tasks.push_back(t);
  }
  return c;
}

void compare_random(uint64_t seed, bool edf) {
  Rng rng = Rng::derive(seed, edf ? 11 : 12);
  const RandomCase c = random_case(rng);
  const int64_t horizon = 120;
  std::string desc = "seed " + std::to_string(seed) + (edf ? " g-edf" : " g-fp") + " domains [";
  for (uint32_t l : c.leader_of) desc += std::to_string(l) + " ";
  desc += "]:";
  for (const GTask& t : c.tasks) {
    desc += " " + t.name + "(C=" + std::to_string(t.wcet) + ",T=" + std::to_string(t.period) + ",ph=" +
            std::to_string(t.phase) + ",p=" + std::to_string(t.priority) + ",cpu=" + std::to_string(t.cpu) + ")";
  }
  expect_same(core_schedule(c.tasks, edf, c.leader_of, horizon), reference_global(c.tasks, edf, c.leader_of, horizon),
              desc);
}

TEST(GlobalDifferential, GlobalEdfMatchesReferenceOnRandomSets) {
  for (uint64_t seed = 0; seed < 1500; ++seed) {
    compare_random(seed, /*edf=*/true);
    if (HasFatalFailure()) return;
  }
}

TEST(GlobalDifferential, GlobalFpMatchesReferenceOnRandomSets) {
  for (uint64_t seed = 0; seed < 1500; ++seed) {
    compare_random(seed, /*edf=*/false);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace edgeos::testing

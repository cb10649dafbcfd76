// The core-only simulator against the independent reference (tests/support/reference_sim.cpp) on
// thousands of random task sets: identical slices, misses and response times, under FP and EDF,
// on one to three CPUs, including overload (U > 1), backlogged jobs, equal priorities and equal
// deadlines. Every kernel invariant is checked after every event of every run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "../support/core_sim_runner.hpp"
#include "../support/reference_sim.hpp"
#include "edgeos/core/rng.hpp"

namespace edgeos::testing {
namespace {

std::vector<RefTask> random_task_set(Rng& rng, uint32_t cpus) {
  std::vector<RefTask> tasks;
  const int n = static_cast<int>(rng.between(1, 5 * cpus));
  for (int i = 0; i < n; ++i) {
    RefTask t;
    t.name = "t" + std::to_string(i);
    t.cpu = static_cast<uint32_t>(rng.below(cpus));
    t.period = rng.between(2, 30);
    t.wcet = rng.between(1, std::max<int64_t>(1, t.period * 2 / 3));
    // Mostly implicit deadlines; sometimes constrained, sometimes shorter than the cost.
    switch (rng.below(4)) {
      case 0: t.deadline = rng.between(1, t.period); break;
      default: t.deadline = t.period; break;
    }
    t.phase = rng.below(3) == 0 ? rng.between(0, 10) : 0;
    t.priority = static_cast<uint8_t>(rng.between(0, 4));  // collisions on purpose: FIFO levels
    tasks.push_back(t);
  }
  return tasks;
}

template <class T>
std::vector<T> sorted(std::vector<T> v, auto key) {
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return v;
}

void compare(uint64_t seed, bool edf) {
  Rng rng = Rng::derive(seed, edf ? 1 : 2);
  const uint32_t cpus = static_cast<uint32_t>(rng.between(1, 3));
  const std::vector<RefTask> tasks = random_task_set(rng, cpus);
  const int64_t horizon = 240;
  const int64_t unit = 1000;  // 1 unit = 1us

  const RefSchedule want = reference_schedule(tasks, edf, cpus, horizon);
  const TraceRun run = run_on_core_sim(tasks, edf, cpus, horizon, unit);
  const std::vector<Slice> got = slices_of(run.records, run.names, unit, horizon * unit);

  std::string desc = "seed " + std::to_string(seed) + (edf ? " edf" : " fp") + " cpus " + std::to_string(cpus) + ":";
  for (const RefTask& t : tasks) {
    desc += " " + t.name + "(C=" + std::to_string(t.wcet) + ",T=" + std::to_string(t.period) +
            ",D=" + std::to_string(t.deadline) + ",ph=" + std::to_string(t.phase) +
            ",p=" + std::to_string(t.priority) + ",cpu=" + std::to_string(t.cpu) + ")";
  }
  ASSERT_THAT(got, ::testing::ElementsAreArray(want.slices)) << desc;
  auto miss_key = [](const Miss& m) { return std::make_tuple(m.at, m.task, m.job); };
  ASSERT_THAT(sorted(misses_of(run.records, run.names, unit), miss_key),
              ::testing::ElementsAreArray(sorted(want.misses, miss_key)))
      << desc;
  auto resp_key = [](const Response& r) { return std::make_tuple(r.task, r.job); };
  ASSERT_THAT(sorted(responses_of(run.records, run.names, unit), resp_key),
              ::testing::ElementsAreArray(sorted(want.responses, resp_key)))
      << desc;
}

TEST(Differential, FixedPriorityMatchesReferenceOnRandomSets) {
  for (uint64_t seed = 0; seed < 1500; ++seed) {
    compare(seed, /*edf=*/false);
    if (HasFatalFailure()) return;
  }
}

TEST(Differential, EdfMatchesReferenceOnRandomSets) {
  for (uint64_t seed = 0; seed < 1500; ++seed) {
    compare(seed, /*edf=*/true);
    if (HasFatalFailure()) return;
  }
}

// The reference itself must reproduce the hand-worked textbook case, or the comparison above
// would only show that two implementations agree.
TEST(Differential, ReferenceReproducesTheRateMonotonicTextbookMiss) {
  const std::vector<RefTask> tasks = {{"t1", 0, 2, 5, 5, 0, 2}, {"t2", 0, 4, 7, 7, 0, 1}};
  const RefSchedule s = reference_schedule(tasks, /*edf=*/false, 1, 35);
  ASSERT_EQ(s.misses.size(), 1u);
  EXPECT_EQ(s.misses[0], (Miss{"t2", 0, 7}));
  const RefSchedule e = reference_schedule(tasks, /*edf=*/true, 1, 35);
  EXPECT_TRUE(e.misses.empty());
}

}  // namespace
}  // namespace edgeos::testing

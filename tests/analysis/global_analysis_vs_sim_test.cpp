// The global schedulability tests against the core's global scheduling (a domain of m CPUs), on
// random implicit-deadline task sets: a set that a sufficient test accepts never misses a deadline
// in the simulation over its hyperperiod (synchronous release, every job running its WCET), and
// every global-FP response-time bound is at least the task's simulated response times. The
// test also counts what each analysis accepted and what the simulation missed, so that it cannot
// pass by accepting nothing or by simulating only easy sets.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <numeric>

#include "../support/core_sim_runner.hpp"
#include "edgeos/analysis/analysis.hpp"
#include "edgeos/core/rng.hpp"

namespace edgeos::testing {
namespace {

using analysis::Task;
using analysis::Verdict;

constexpr int64_t kUnit = 1000;  // 1 unit = 1 us

struct Set {
  uint32_t m = 2;
  std::vector<int64_t> c, t;
  std::vector<int> priority;  // rate monotonic, distinct (ties by index)
  int64_t hyperperiod = 1;
};

Set random_set(Rng& rng) {
  static const int64_t kPeriods[] = {4, 5, 6, 8, 10, 12, 15, 20, 24, 30};
  Set s;
  s.m = static_cast<uint32_t>(rng.between(2, 4));
  const int n = static_cast<int>(rng.between(s.m + 1, 3 * s.m));
  // A target utilisation per task around m / n, so that sets land on both sides of the bounds.
  const int64_t percent = rng.between(20, 100);
  for (int i = 0; i < n; ++i) {
    const int64_t t = kPeriods[rng.below(std::size(kPeriods))];
    const int64_t mean = std::max<int64_t>(1, t * s.m * percent / (100 * n));
    const int64_t c = std::clamp<int64_t>(rng.between(std::max<int64_t>(1, mean / 2), mean * 3 / 2 + 1), 1, t);
    s.c.push_back(c);
    s.t.push_back(t);
    s.hyperperiod = std::lcm(s.hyperperiod, t);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.t[a] < s.t[b]; });
  s.priority.assign(n, 0);
  for (size_t r = 0; r < order.size(); ++r) s.priority[order[r]] = static_cast<int>(n - r);
  return s;
}

std::vector<Task> tasks_of(const Set& s) {
  std::vector<Task> out;
  for (size_t i = 0; i < s.c.size(); ++i) {
    Task t;
    t.wcet = Duration::nanoseconds(s.c[i] * kUnit);
    t.period = Duration::nanoseconds(s.t[i] * kUnit);
    t.deadline = t.period;
    t.priority = s.priority[i];
    out.push_back(t);
  }
  return out;
}

struct Simulated {
  size_t misses = 0;
  std::vector<int64_t> max_response;  // per task, in units
};

// The global schedule over the hyperperiod (+1 unit, so that a miss at the hyperperiod itself is
// seen): its deadline misses and each task's largest response time.
Simulated simulate(const Set& s, bool edf) {
  GoldenCase g;
  g.policy = edf ? "edf" : "fp";
  g.cpus = s.m;
  g.domains.assign(s.m, 0);
  g.unit_ns = kUnit;
  g.horizon = s.hyperperiod + 1;
  for (size_t i = 0; i < s.c.size(); ++i) {
    GoldenTask t;
    t.name = "t" + std::to_string(i);
    t.tenant = "tenant";
    t.costs = {s.c[i]};
    t.period = s.t[i];
    t.priority = static_cast<uint8_t>(s.priority[i]);
    g.tasks.push_back(t);
  }
  const TraceRun run = run_on_core_sim(g);
  Simulated out;
  out.misses = misses_of(run.records, run.names, kUnit).size();
  out.max_response.assign(s.c.size(), 0);
  for (const Response& r : responses_of(run.records, run.names, kUnit)) {
    const size_t i = std::stoul(r.task.substr(1));
    out.max_response[i] = std::max(out.max_response[i], r.value);
  }
  return out;
}

std::string describe(const Set& s) {
  std::string d = "m = " + std::to_string(s.m) + ":";
  for (size_t i = 0; i < s.c.size(); ++i) d += " (" + std::to_string(s.c[i]) + "," + std::to_string(s.t[i]) + ")";
  return d;
}

TEST(GlobalAnalysisVsSim, GlobalEdfTestsAreNeverContradicted) {
  std::map<std::string, int> accepted;
  int missing = 0;
  for (uint64_t seed = 0; seed < 700; ++seed) {
    Rng rng = Rng::derive(seed, 21);
    const Set s = random_set(rng);
    const std::vector<Task> tasks = tasks_of(s);
    const size_t misses = simulate(s, /*edf=*/true).misses;
    missing += misses > 0;
    for (const analysis::Result& r : {analysis::gedf_density(tasks, s.m), analysis::gedf_baker(tasks, s.m),
                                      analysis::gedf_bcl(tasks, s.m)}) {
      if (r.verdict != Verdict::kSchedulable) continue;
      ++accepted[r.test];
      ASSERT_EQ(misses, 0u) << r.test << " accepted a set that misses under G-EDF: " << describe(s);
    }
  }
  // Not vacuous: every test accepted sets, and the simulation did find misses in others.
  EXPECT_GE(accepted["gfb"], 50);
  EXPECT_GE(accepted["baker"], 50);
  EXPECT_GE(accepted["bcl-edf"], 50);
  EXPECT_GE(missing, 50);
}

TEST(GlobalAnalysisVsSim, GlobalFpTestsAreNeverContradicted) {
  std::map<std::string, int> accepted;
  int missing = 0;
  for (uint64_t seed = 0; seed < 700; ++seed) {
    Rng rng = Rng::derive(seed, 22);
    const Set s = random_set(rng);
    const std::vector<Task> tasks = tasks_of(s);
    const Simulated sim = simulate(s, /*edf=*/false);
    const size_t misses = sim.misses;
    missing += misses > 0;
    const analysis::Result rta = analysis::gfp_rta(tasks, s.m);
    // When the analysis accepts the set, every response-time bound is at least every simulated
    // response time of its task.
    for (size_t i = 0; rta.schedulable() && i < tasks.size(); ++i) {
      ASSERT_GE(rta.response_times[i].ns(), sim.max_response[i] * kUnit) << "task " << i << ": " << describe(s);
    }
    for (const analysis::Result& r : {analysis::gfp_bcl(tasks, s.m), rta}) {
      if (r.verdict != Verdict::kSchedulable) continue;
      ++accepted[r.test];
      ASSERT_EQ(misses, 0u) << r.test << " accepted a set that misses under G-FP: " << describe(s);
    }
  }
  EXPECT_GE(accepted["bcl-fp"], 50);
  EXPECT_GE(accepted["rta-gfp"], 50);
  EXPECT_GE(missing, 50);
}

}  // namespace
}  // namespace edgeos::testing

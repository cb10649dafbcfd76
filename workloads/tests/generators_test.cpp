// The generators against the distributions they promise, with fixed seeds (so each check is
// deterministic) and thresholds chosen so that a correct generator fails with probability about
// 0.001 per check.
#include "edgeos/workloads/generators.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "edgeos/hosted/error.hpp"
#include "stats.hpp"

namespace edgeos::gen {
namespace {

using test::ks_critical;
using test::ks_statistic;

// On the simplex {u >= 0, sum = U}, uniformly, each u_i / U follows Beta(1, n - 1):
// P(u_i / U <= x) = 1 - (1 - x)^(n - 1).
std::function<double(double)> simplex_marginal(size_t n) {
  return [n](double x) { return 1.0 - std::pow(1.0 - std::clamp(x, 0.0, 1.0), static_cast<double>(n - 1)); };
}

TEST(UUniFast, SumsToTheTargetAndIsUniformOnTheSimplex) {
  Rng rng(11);
  constexpr size_t kSets = 20000, kN = 6;
  constexpr double kU = 0.8;
  std::vector<double> first, last;
  std::vector<double> mean(kN, 0.0), sq(kN, 0.0);
  for (size_t s = 0; s < kSets; ++s) {
    const std::vector<double> u = uunifast(rng, kN, kU);
    ASSERT_NEAR(std::accumulate(u.begin(), u.end(), 0.0), kU, 1e-9);
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_GE(u[i], 0.0);
      mean[i] += u[i];
      sq[i] += u[i] * u[i];
    }
    first.push_back(u[0] / kU);
    last.push_back(u[kN - 1] / kU);
  }
  // Unbiased: every position has mean U / n. The tolerance is 4 standard errors of the sample
  // mean (sd / sqrt(N), sd estimated from the sample): by the central limit theorem a correct
  // generator falls outside with probability 6e-5 per position.
  for (size_t i = 0; i < kN; ++i) {
    const double m = mean[i] / kSets;
    const double sd = std::sqrt(sq[i] / kSets - m * m);
    EXPECT_NEAR(m, kU / kN, 4 * sd / std::sqrt(static_cast<double>(kSets))) << "position " << i;
  }
  EXPECT_LT(ks_statistic(first, simplex_marginal(kN)), ks_critical(kSets));
  EXPECT_LT(ks_statistic(last, simplex_marginal(kN)), ks_critical(kSets));
}

TEST(UUniFastDiscard, KeepsEveryUtilisationAtMostOne) {
  Rng rng(12);
  for (int s = 0; s < 2000; ++s) {
    const std::vector<double> u = uunifast_discard(rng, 8, 3.5);
    EXPECT_NEAR(std::accumulate(u.begin(), u.end(), 0.0), 3.5, 1e-9);
    for (double x : u) ASSERT_LE(x, 1.0);
  }
  EXPECT_THROW(uunifast_discard(rng, 2, 2.5), InputError);
}

TEST(RandFixedSum, RespectsBoundsAndSum) {
  Rng rng(13);
  for (const auto& [n, total, lo, hi] : std::vector<std::tuple<size_t, double, double, double>>{
           {8, 3.5, 0.0, 1.0}, {5, 0.3, 0.0, 1.0}, {10, 6.0, 0.2, 0.9}, {3, 1.5, 0.5, 0.5 + 1e-9}, {1, 0.7, 0.0, 1.0}}) {
    for (int s = 0; s < 2000; ++s) {
      const std::vector<double> u = randfixedsum(rng, n, total, lo, hi);
      ASSERT_EQ(u.size(), n);
      ASSERT_NEAR(std::accumulate(u.begin(), u.end(), 0.0), total, 1e-9);
      for (double x : u) {
        ASSERT_GE(x, lo - 1e-12);
        ASSERT_LE(x, hi + 1e-12);
      }
    }
  }
  EXPECT_THROW(randfixedsum(rng, 3, 3.5), InputError);
  EXPECT_THROW(randfixedsum(rng, 0, 0.5), InputError);
}

// With bounds [0, 1] and a total at most 1, the cube's constraints are inactive and RandFixedSum
// must produce the same distribution as UUniFast: uniform on the simplex.
TEST(RandFixedSum, MatchesTheSimplexMarginalWhenUnconstrained) {
  Rng rng(14);
  constexpr size_t kSets = 20000, kN = 5;
  std::vector<double> sample;
  for (size_t s = 0; s < kSets; ++s) sample.push_back(randfixedsum(rng, kN, 0.9)[2] / 0.9);
  EXPECT_LT(ks_statistic(sample, simplex_marginal(kN)), ks_critical(kSets));
}

// With total n/2 on [0, 1]^n (n = 2), the set is the segment x + y = 1: x uniform on [0, 1].
TEST(RandFixedSum, UniformOnASegment) {
  Rng rng(15);
  std::vector<double> sample;
  for (int s = 0; s < 20000; ++s) sample.push_back(randfixedsum(rng, 2, 1.0)[0]);
  EXPECT_LT(ks_statistic(sample, [](double x) { return std::clamp(x, 0.0, 1.0); }), ks_critical(sample.size()));
}

TEST(Periods, LogUniformAndHarmonic) {
  Rng rng(16);
  const Duration lo = Duration::milliseconds(10), hi = Duration::milliseconds(1000);
  std::vector<double> logs;
  for (const Duration t : periods_log_uniform(rng, 20000, lo, hi, Duration::nanoseconds(1))) {
    ASSERT_GE(t, lo);
    ASSERT_LE(t, hi);
    logs.push_back(std::log(static_cast<double>(t.ns())));
  }
  const double a = std::log(1e7), b = std::log(1e9);
  EXPECT_LT(ks_statistic(logs, [&](double x) { return std::clamp((x - a) / (b - a), 0.0, 1.0); }), ks_critical(logs.size()));
  for (const Duration t : periods_log_uniform(rng, 100, lo, hi, Duration::milliseconds(10))) {
    EXPECT_EQ(t % Duration::milliseconds(10), Duration::zero()) << "multiples of the granularity";
  }
  for (const Duration t : periods_harmonic(rng, 100, Duration::milliseconds(5), 4)) {
    const int64_t k = t / Duration::milliseconds(5);
    EXPECT_TRUE(k == 1 || k == 2 || k == 4 || k == 8 || k == 16) << k;
  }
}

TEST(TaskSets, HitTheirUtilisationAndAreReproducible) {
  TaskSetParams p;
  p.tasks = 12;
  p.utilisation = 0.75;
  p.deadlines = Deadlines::kConstrained;
  p.granularity = Duration::nanoseconds(1);
  Rng a(99), b(99);
  const std::vector<analysis::Task> x = generate(a, p);
  const std::vector<analysis::Task> y = generate(b, p);
  ASSERT_EQ(x.size(), 12u);
  double u = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].wcet, y[i].wcet);
    EXPECT_EQ(x[i].period, y[i].period);
    EXPECT_EQ(x[i].deadline, y[i].deadline);
    EXPECT_GE(x[i].deadline, x[i].wcet);
    EXPECT_LE(x[i].deadline, x[i].period);
    u += static_cast<double>(x[i].wcet.ns()) / static_cast<double>(x[i].period.ns());
  }
  // Rounding each C to a nanosecond moves U by at most n * 0.5ns / min T.
  EXPECT_NEAR(u, 0.75, 12 * 0.5 / 1e7);
  // Deadline-monotonic priorities.
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = 0; j < x.size(); ++j) {
      if (x[i].deadline < x[j].deadline) {
        EXPECT_GT(x[i].priority, x[j].priority);
      }
    }
  }
}

TEST(TaskSets, ImpossibleParametersAreRejected) {
  Rng rng(1);
  TaskSetParams p;
  p.utilisation = 1.5;
  EXPECT_THROW(generate(rng, p), InputError) << "uunifast above 1";
  p.utilisation = 0;
  EXPECT_THROW(generate(rng, p), InputError);
  p.utilisation = std::nan("");
  EXPECT_THROW(generate(rng, p), InputError);
  p.utilisation = 0.5;
  p.tasks = 0;
  EXPECT_THROW(generate(rng, p), InputError);
  p.tasks = 3;
  p.period_max = Duration::milliseconds(1);
  EXPECT_THROW(generate(rng, p), InputError);
  EXPECT_THROW(parse_utilisations("gaussian", "--generator"), InputError);
  EXPECT_THROW(parse_deadlines("arbitrary", "--deadlines"), InputError);
}

}  // namespace
}  // namespace edgeos::gen

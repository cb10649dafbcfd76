// The workload models against the distributions and counts they promise. Every check uses a fixed
// seed, so it is deterministic; KS checks use the 0.001 critical value (a correct generator would
// fail one with probability 0.001 for a fresh seed), count checks allow 5 standard deviations.
// The reference CDFs and counts are written out here from the papers' definitions, independently
// of the quantile functions the generators use.
#include "edgeos/workloads/arrivals.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/scenario.hpp"
#include "stats.hpp"

namespace edgeos::arrivals {
namespace {

using test::ks_critical;
using test::ks_statistic;
using test::ks_statistic_discrete;

// Generalized Pareto CDF (theta = 0): 1 - (1 + k x / sigma)^(-1/k).
double gpd_cdf(double x, double sigma, double k) { return x <= 0 ? 0.0 : 1.0 - std::pow(1.0 + k * x / sigma, -1.0 / k); }
// Generalized extreme value CDF: exp(-(1 + k (x - mu) / sigma)^(-1/k)).
double gev_cdf(double x, double mu, double sigma, double k) {
  const double t = 1.0 + k * (x - mu) / sigma;
  return t <= 0 ? 0.0 : std::exp(-std::pow(t, -1.0 / k));
}

std::vector<Arrival> drain(Source& s) {
  std::vector<Arrival> out;
  Arrival a;
  while (s.next(a)) out.push_back(a);
  return out;
}

Instant at(Duration d) { return Instant::epoch() + d; }

TEST(Etc, ValueSizesFollowTheGeneralizedPareto) {
  // Atikoglu et al. 2012, ETC value size: GP(theta 0, sigma 214.476, k 0.348238), in bytes;
  // the generator rounds up, so P(size <= v) = F(v) for whole v.
  Rng rng(1);
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) values.push_back(etc_sizes(rng).value);
  EXPECT_LT(ks_statistic_discrete(values, [](double v) { return gpd_cdf(v, 214.476, 0.348238); }), ks_critical(values.size()));
}

TEST(Etc, KeySizesFollowTheGeneralizedExtremeValue) {
  // ETC key size: GEV(mu 30.7984, sigma 8.20449, k 0.078688); rounded to the nearest byte, so
  // P(size <= v) = F(v + 0.5).
  Rng rng(2);
  std::vector<double> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back(etc_sizes(rng).key);
  EXPECT_LT(ks_statistic_discrete(keys, [](double v) { return gev_cdf(v + 0.5, 30.7984, 8.20449, 0.078688); }),
            ks_critical(keys.size()));
}

TEST(Etc, InterArrivalGapsAreTheScaledParetoWithTheRequestedMean) {
  // ETC inter-arrival: GP(0, 16.0292us, 0.154971) with mean sigma / (1 - k) = 18.97us, scaled
  // so that the mean gap is 1 / rate.
  constexpr double kRate = 10'000;  // per second: mean gap 100us
  const double scale = (1e6 / kRate) / (16.0292 / (1 - 0.154971));
  Rng rng(3);
  std::vector<double> gaps_us;
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    gaps_us.push_back(static_cast<double>(etc_gap(rng, kRate).ns()) / 1e3);
    sum += gaps_us.back();
  }
  EXPECT_LT(ks_statistic(gaps_us, [&](double g) { return gpd_cdf(g / scale, 16.0292, 0.154971); }), ks_critical(gaps_us.size()));
  // The GP with k < 1/2 has finite variance sigma^2 / ((1-k)^2 (1-2k)); 5 standard errors.
  const double sd = 16.0292 * scale / ((1 - 0.154971) * std::sqrt(1 - 2 * 0.154971));
  EXPECT_NEAR(sum / 20000, 100.0, 5 * sd / std::sqrt(20000.0));
}

TEST(Poisson, GapsAreExponentialAndTheCountMatchesTheRate) {
  constexpr double kRate = 2000;
  auto src = poisson(Rng(4), kRate, at(Duration::zero()), at(Duration::seconds(10)), 3, nullptr);
  const std::vector<Arrival> a = drain(*src);
  std::vector<double> gaps;
  for (size_t i = 1; i < a.size(); ++i) gaps.push_back(static_cast<double>((a[i].time - a[i - 1].time).ns()) / 1e9);
  EXPECT_LT(ks_statistic(gaps, [&](double g) { return 1 - std::exp(-kRate * g); }), ks_critical(gaps.size()));
  // The count over 10 s is Poisson(20000).
  EXPECT_NEAR(static_cast<double>(a.size()), 20000.0, 5 * std::sqrt(20000.0));
  for (const Arrival& x : a) {
    EXPECT_EQ(x.target, 3u);
    EXPECT_EQ(x.cost, Duration::zero());  // no cost model: the thread's own
  }
}

TEST(Mmpp, LongRunRateIsTheStationaryMixture) {
  // Two states with mean holding times s0, s1 alternate, so the stationary probabilities are
  // s0 / (s0 + s1) and s1 / (s0 + s1) (Fischer & Meier-Hellstern, "The MMPP cookbook", 1993).
  const std::vector<double> rates = {100, 5000};
  const std::vector<Duration> sojourn = {Duration::milliseconds(400), Duration::milliseconds(100)};
  const double expected = (100 * 0.4 + 5000 * 0.1) / 0.5;  // 1080/s
  EXPECT_NEAR(mmpp_mean_rate(rates, sojourn, {}), expected, 1e-9);
  // Three states with explicit jump probabilities: the embedded chain's stationary vector v
  // (v = vP) weighted by the holding times gives pi_i = v_i s_i / sum_j v_j s_j.
  const std::vector<std::vector<double>> p = {{0, 0.5, 0.5}, {1, 0, 0}, {1, 0, 0}};
  const std::vector<Duration> s3 = {Duration::milliseconds(100), Duration::milliseconds(200), Duration::milliseconds(50)};
  // v = (1/2, 1/4, 1/4): time shares 50 : 50 : 12.5.
  const double r3 = (10.0 * 50 + 20.0 * 50 + 40.0 * 12.5) / 112.5;
  EXPECT_NEAR(mmpp_mean_rate({10, 20, 40}, s3, p), r3, 1e-9);

  // Over 200 s (1333 state changes) the count is within a few percent of the mean rate.
  auto src = mmpp(Rng(5), rates, sojourn, {}, at(Duration::zero()), at(Duration::seconds(200)), 0, nullptr);
  const double n = static_cast<double>(drain(*src).size());
  EXPECT_NEAR(n / 200.0, expected, 0.05 * expected);
}

TEST(Iot, EverySensorReadsOncePerPeriodPlusTheBurst) {
  // Without jitter, a sensor with phase in [0, T) reads D / T times in [0, D) (D a multiple of T).
  const Duration period = Duration::milliseconds(100);
  std::vector<Burst> bursts = {{at(Duration::milliseconds(500)), 250, Duration::milliseconds(20)}};
  auto src = iot(Rng(6), 40, period, Duration::zero(), bursts, at(Duration::zero()), at(Duration::seconds(2)), 1, nullptr);
  const std::vector<Arrival> a = drain(*src);
  EXPECT_EQ(a.size(), 40u * 20 + 250);
  size_t in_burst_window = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(a[i - 1].time, a[i].time);
    }
    if (a[i].time >= at(Duration::milliseconds(500)) && a[i].time < at(Duration::milliseconds(520))) ++in_burst_window;
  }
  // The burst's readings, plus the periodic readings that fall in its 20ms window.
  EXPECT_GE(in_burst_window, 250u);
  EXPECT_LE(in_burst_window, 250u + 40);
  // Every sensor's readings repeat its phase: the set of instants modulo the period has 40
  // distinct values, each hit 20 times, once the burst is removed.
  std::map<int64_t, int> phases;
  for (const Arrival& x : a) ++phases[x.time.ns() % period.ns()];
  int periodic = 0;
  for (const auto& [phase, n] : phases) {
    if (n >= 20) periodic += n / 20;
  }
  EXPECT_EQ(periodic, 40);
}

TEST(Iot, OverlappingBurstsInterleaveAndBurstsBeforeTheStartAreCut) {
  // Two storms overlap ([100, 200) and [150, 160) ms); a third lies before the start (50ms).
  std::vector<Burst> bursts = {{at(Duration::milliseconds(150)), 400, Duration::milliseconds(10)},
                               {at(Duration::milliseconds(100)), 300, Duration::milliseconds(100)},
                               {at(Duration::milliseconds(10)), 500, Duration::milliseconds(20)}};
  const Duration period = Duration::seconds(1);  // one reading per sensor in [50ms, 1.05s)
  auto src = iot(Rng(16), 10, period, Duration::zero(), bursts, at(Duration::milliseconds(50)), at(Duration::seconds(1)), 0, nullptr);
  const std::vector<Arrival> a = drain(*src);
  size_t in_first = 0, in_second = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) {
      ASSERT_LE(a[i - 1].time, a[i].time) << i;
    }
    EXPECT_GE(a[i].time, at(Duration::milliseconds(50)));
    in_first += a[i].time >= at(Duration::milliseconds(100)) && a[i].time < at(Duration::milliseconds(200));
    in_second += a[i].time >= at(Duration::milliseconds(150)) && a[i].time < at(Duration::milliseconds(160));
  }
  // 700 storm readings (the early storm is cut), plus each sensor's reading that falls before 1s.
  EXPECT_GE(a.size(), 700u);
  EXPECT_LE(a.size(), 710u);
  EXPECT_GE(in_first, 700u);
  EXPECT_GE(in_second, 400u);
}

TEST(Iot, JitterDelaysEachReadingByAtMostItsBound) {
  const Duration period = Duration::milliseconds(10), jitter = Duration::milliseconds(2);
  auto src = iot(Rng(7), 1, period, jitter, {}, at(Duration::zero()), at(Duration::seconds(1)), 0, nullptr);
  const std::vector<Arrival> a = drain(*src);
  ASSERT_GE(a.size(), 99u);
  // Consecutive readings of one sensor: period - jitter <= gap <= period + jitter.
  for (size_t i = 1; i < a.size(); ++i) {
    const Duration gap = a[i].time - a[i - 1].time;
    EXPECT_GE(gap, period - jitter);
    EXPECT_LE(gap, period + jitter);
  }
  EXPECT_THROW(iot(Rng(7), 1, period, period + jitter, {}, at(Duration::zero()), at(Duration::seconds(1)), 0, nullptr),
               InputError);
}

TEST(Ar, FramesAtTheFrameRateNumberedFromZero) {
  auto src = ar_frames(Rng(8), 60, Duration::zero(), at(Duration::zero()), at(Duration::seconds(2)), 2);
  const std::vector<Arrival> a = drain(*src);
  ASSERT_EQ(a.size(), 120u);
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].tag, k);
    EXPECT_EQ(a[k].time.ns(), std::llround(static_cast<double>(k) * 1e9 / 60));  // no drift over the run
  }
  auto jittered = ar_frames(Rng(8), 30, Duration::milliseconds(5), at(Duration::zero()), at(Duration::seconds(1)), 0);
  const std::vector<Arrival> b = drain(*jittered);
  ASSERT_EQ(b.size(), 30u);
  for (size_t k = 0; k < b.size(); ++k) {
    const int64_t nominal = std::llround(static_cast<double>(k) * 1e9 / 30);
    EXPECT_GE(b[k].time.ns(), nominal);
    EXPECT_LE(b[k].time.ns(), nominal + Duration::milliseconds(5).ns());
  }
}

TEST(Kv, GetSetMixAndPerRequestCost) {
  // cost = 2us + 1us per KiB of value, computed by the workload's cost function.
  CostFn cost = [](Rng&, uint32_t size) { return Duration::microseconds(2) + Duration::nanoseconds(1000 * int64_t{size} / 1024); };
  auto src = kv(Rng(9), 20'000, 30.0 / 31.0, at(Duration::zero()), at(Duration::seconds(2)), 0, cost);
  EXPECT_EQ(src->kinds(), (std::vector<std::string>{"get", "set"}));
  const std::vector<Arrival> a = drain(*src);
  size_t gets = 0;
  for (const Arrival& x : a) {
    gets += x.kind == 0;
    EXPECT_GE(x.size, 1u);
    EXPECT_EQ(x.cost, Duration::microseconds(2) + Duration::nanoseconds(1000 * int64_t{x.size} / 1024));
  }
  const double n = static_cast<double>(a.size());
  // The count of a renewal process with these gaps: mean rate * time, sd from the gap's CV.
  EXPECT_NEAR(n, 40000.0, 0.03 * 40000);
  const double p = 30.0 / 31.0;
  EXPECT_NEAR(static_cast<double>(gets) / n, p, 5 * std::sqrt(p * (1 - p) / n));
}

// The cost distributions of scenario files, against their CDFs.
TEST(CostDist, SamplesFollowTheirDistributions) {
  using scenario::CostDist;
  const int n = 20000;
  auto sample = [&](const CostDist& d, uint64_t seed) {
    Rng rng(seed);
    std::vector<double> x;
    for (int i = 0; i < n; ++i) x.push_back(static_cast<double>(d.sample(rng).ns()));
    return x;
  };
  CostDist uniform;
  uniform.kind = CostDist::Kind::kUniform;
  uniform.min = Duration::microseconds(100);
  uniform.max = Duration::microseconds(300);
  EXPECT_LT(ks_statistic_discrete(sample(uniform, 10), [](double x) { return std::clamp((x - 99'999) / 200'001, 0.0, 1.0); }),
            ks_critical(n));

  CostDist normal;  // mean 6ms, sd 1ms: truncation at 1ns never bites
  normal.kind = CostDist::Kind::kNormal;
  normal.value = Duration::milliseconds(6);
  normal.sd = Duration::milliseconds(1);
  normal.min = Duration::nanoseconds(1);
  EXPECT_LT(ks_statistic(sample(normal, 11), [](double x) { return 0.5 * std::erfc(-(x - 6e6) / (1e6 * std::sqrt(2.0))); }),
            ks_critical(n));

  CostDist lognormal;  // median 2ms, sigma 0.5
  lognormal.kind = CostDist::Kind::kLogNormal;
  lognormal.value = Duration::milliseconds(2);
  lognormal.sigma = 0.5;
  lognormal.min = Duration::nanoseconds(1);
  EXPECT_LT(ks_statistic(sample(lognormal, 12),
                         [](double x) { return 0.5 * std::erfc(-std::log(x / 2e6) / (0.5 * std::sqrt(2.0))); }),
            ks_critical(n));
  EXPECT_EQ(lognormal.mean().ns(), std::llround(2e6 * std::exp(0.125)));

  CostDist expo;  // mean 200us
  expo.kind = CostDist::Kind::kExponential;
  expo.value = Duration::microseconds(200);
  EXPECT_LT(ks_statistic(sample(expo, 13), [](double x) { return 1 - std::exp(-x / 2e5); }), ks_critical(n));

  // A truncated normal stays within its bounds.
  CostDist tight = normal;
  tight.min = Duration::milliseconds(5);
  tight.max = Duration::milliseconds(7);
  for (double x : sample(tight, 14)) {
    ASSERT_GE(x, 5e6);
    ASSERT_LE(x, 7e6);
  }
}

}  // namespace
}  // namespace edgeos::arrivals

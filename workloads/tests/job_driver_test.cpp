// The workload driver's arithmetic (job_driver.hpp) against independent references: the fixed-
// point functions against <cmath> in double precision, the cost draws against their distributions'
// CDFs (Kolmogorov-Smirnov), stream names against published FNV-1a values, job plans by hand.
#include "edgeos/workloads/job_driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace edgeos::workloads {
namespace {

constexpr double kQ32 = 4294967296.0;
constexpr double kQ62 = 4611686018427387904.0;

TEST(FixedPoint, IntegerSquareRootIsTheFloor) {
  Rng rng(7);
  for (int i = 0; i < 20000; ++i) {
    const int width = static_cast<int>(rng.below(127)) + 1;
    uint128_t x = (static_cast<uint128_t>(rng.next()) << 64 | rng.next()) >> (128 - width);
    const uint128_t r = fixed::isqrt(x);
    ASSERT_LE(r * r, x);
    ASSERT_GT((r + 1) * (r + 1), x);
  }
  EXPECT_EQ(fixed::isqrt(0), 0u);
  EXPECT_EQ(fixed::isqrt(~uint128_t{0}), ~uint64_t{0});
}

TEST(FixedPoint, Log2MatchesTheLibrary) {
  Rng rng(11);
  std::vector<uint64_t> xs = {1, 2, 3, 1000, (uint64_t{1} << 53) + 1, ~uint64_t{0}};
  for (int i = 0; i < 20000; ++i) xs.push_back(rng.next() >> rng.below(64) | 1);
  for (const uint64_t x : xs) {
    const double got = static_cast<double>(fixed::log2_q32(x)) / kQ32;
    // Q32 is 2.3e-10 a unit; the squarings truncate, so a few units.
    ASSERT_NEAR(got, std::log2(static_cast<long double>(x)), 4e-9) << x;
  }
  EXPECT_EQ(fixed::log2_q32(1), 0);
  EXPECT_EQ(fixed::log2_q32(uint64_t{1} << 40), int64_t{40} << 32);
}

TEST(FixedPoint, Exp2OfAFractionMatchesTheLibrary) {
  Rng rng(13);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t f = static_cast<uint32_t>(rng.next());
    const double got = static_cast<double>(fixed::exp2_fraction_q62(f)) / kQ62;
    ASSERT_NEAR(got / std::exp2(f / kQ32), 1.0, 1e-15 * 64) << f;
  }
  EXPECT_EQ(fixed::exp2_fraction_q62(0), fixed::kOneQ62);
  EXPECT_EQ(fixed::kExp2Roots.root[1], fixed::isqrt(static_cast<uint128_t>(2) << 124));  // sqrt(2)
}

TEST(FixedPoint, TheFastFunctionsAgreeWithTheBitwiseOnes) {
  // The tables' builders, exact to the last bit, against the table-and-series functions the
  // draws use: a few units of the last place apart at most.
  Rng rng(19);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t x = rng.next() >> rng.below(64) | 1;
    ASSERT_NEAR(fixed::log2_q32(x), fixed::log2_bitwise_q32(x), 4) << x;
    const uint32_t f = static_cast<uint32_t>(rng.next());
    const double fast = static_cast<double>(fixed::exp2_fraction_q62(f)), exact = static_cast<double>(fixed::exp2_bitwise_q62(f));
    ASSERT_NEAR(fast / exact, 1.0, 1e-14) << f;
  }
}

TEST(FixedPoint, ScaleByAPowerOfTwoRoundsAndSaturates) {
  Rng rng(17);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = rng.next() >> (20 + rng.below(30));
    const int64_t w = static_cast<int64_t>(rng.next() >> 26) - (int64_t{1} << 37);  // -32 .. 32 in Q32
    const double want = static_cast<double>(v) * std::exp2(static_cast<double>(w) / kQ32);
    if (want > 9e18) continue;
    const double got = static_cast<double>(fixed::scale_by_exp2(v, w));
    ASSERT_NEAR(got, want, 0.5 + want * 1e-12) << v << " " << w;
  }
  EXPECT_EQ(fixed::scale_by_exp2(3, 0), 3);
  EXPECT_EQ(fixed::scale_by_exp2(3, int64_t{1} << 32), 6);
  EXPECT_EQ(fixed::scale_by_exp2(3, -(int64_t{1} << 32)), 2);  // 1.5 rounds half up
  EXPECT_EQ(fixed::scale_by_exp2(1, int64_t{80} << 32), 0x7fff'ffff'ffff'ffffll);
  EXPECT_EQ(fixed::scale_by_exp2(1, -(int64_t{80} << 32)), 0);
}

// The largest gap between the empirical CDF of `xs` and `cdf`.
double ks_distance(std::vector<double> xs, const std::function<double(double)>& cdf) {
  std::sort(xs.begin(), xs.end());
  double d = 0;
  const double n = static_cast<double>(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double f = cdf(xs[i]);
    d = std::max({d, std::abs(f - static_cast<double>(i) / n), std::abs(static_cast<double>(i + 1) / n - f)});
  }
  return d;
}

constexpr int kDraws = 100000;
// Kolmogorov's critical value at the 0.1% level, 1.95 / sqrt(n); a seeded test, so it either
// always passes or always fails. Rounding draws to whole ns is far below it here.
const double kCritical = 1.95 / std::sqrt(static_cast<double>(kDraws));

std::vector<double> draws(const CostModel& c, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> xs;
  for (int i = 0; i < kDraws; ++i) xs.push_back(static_cast<double>(draw_cost(c, rng).ns()));
  return xs;
}

TEST(CostDraws, NormalFollowsItsDistribution) {
  const CostModel c{CostKind::kNormal, 1'000'000, 0, 0, 100'000, 0};  // 1 ms, sd 100 us
  const std::vector<double> xs = draws(c, 3);
  EXPECT_LT(ks_distance(xs, [](double x) { return 0.5 * std::erfc(-(x - 1e6) / (1e5 * std::sqrt(2.0))); }), kCritical);
}

TEST(CostDraws, TruncatedNormalStaysWithinItsBoundsAndFollowsTheTruncatedDistribution) {
  // examples/edge-server.toml's detector: mean 6 ms, sd 1 ms, within [3, 9] ms.
  const CostModel c{CostKind::kNormal, 6'000'000, 3'000'000, 9'000'000, 1'000'000, 0};
  const std::vector<double> xs = draws(c, 5);
  EXPECT_GE(*std::min_element(xs.begin(), xs.end()), 3e6);
  EXPECT_LE(*std::max_element(xs.begin(), xs.end()), 9e6);
  auto phi = [](double x) { return 0.5 * std::erfc(-(x - 6e6) / (1e6 * std::sqrt(2.0))); };
  const double lo = phi(3e6), hi = phi(9e6);
  EXPECT_LT(ks_distance(xs, [&](double x) { return (phi(x) - lo) / (hi - lo); }), kCritical);
}

TEST(CostDraws, LogNormalFollowsItsDistribution) {
  const CostModel c{CostKind::kLogNormal, 200'000, 0, 0, 0, 500'000};  // median 200 us, sigma 0.5
  const std::vector<double> xs = draws(c, 7);
  EXPECT_LT(ks_distance(xs, [](double x) { return 0.5 * std::erfc(-std::log(x / 2e5) / (0.5 * std::sqrt(2.0))); }),
            kCritical);
}

TEST(CostDraws, ExponentialFollowsItsDistribution) {
  const CostModel c{CostKind::kExponential, 50'000, 0, 0, 0, 0};  // mean 50 us
  const std::vector<double> xs = draws(c, 9);
  EXPECT_LT(ks_distance(xs, [](double x) { return 1 - std::exp(-x / 5e4); }), kCritical);
}

TEST(CostDraws, FixedAndUniformDrawAsTheGeneratorDoes) {
  Rng a(21), b(21);
  EXPECT_EQ(draw_cost(CostModel{CostKind::kFixed, 1234, 0, 0, 0, 0}, a), Duration::nanoseconds(1234));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(draw_cost(CostModel{CostKind::kUniform, 0, 10, 20, 0, 0}, a).ns(), b.between(10, 20));
  }
}

TEST(CostDraws, AreAtLeastOneNanosecondAndTheSameForTheSameStream) {
  const CostModel c{CostKind::kNormal, 3, 0, 0, 1000, 0};  // mostly negative, clamped
  Rng a(1), b(1);
  for (int i = 0; i < 1000; ++i) {
    const Duration d = draw_cost(c, a);
    ASSERT_GE(d, Duration::nanoseconds(1));
    ASSERT_EQ(d, draw_cost(c, b));
  }
}

TEST(StreamNames, AreFnv1aOfTheLabel) {
  // FNV-1a 64-bit test vectors (Fowler, Noll, Vo; the IETF draft draft-eastlake-fnv): "" and "a",
  // "foobar".
  EXPECT_EQ(StreamName().hash(), 0xcbf29ce484222325ull);
  EXPECT_EQ(StreamName().add("a").hash(), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(StreamName().add("foobar").hash(), 0x85944171f73967e8ull);
  EXPECT_EQ(StreamName().add("foo").add("bar").hash(), 0x85944171f73967e8ull);  // in pieces
  EXPECT_EQ(StreamName().add("x#").add_number(1207).hash(), StreamName().add("x#1207").hash());
  EXPECT_EQ(StreamName().add_number(0).hash(), StreamName().add("0").hash());
  EXPECT_EQ(StreamName().add("a").rng(5, 2).next(), Rng::derive(Rng::derive(5, 0xaf63dc4c8601ec8cull).next(), 2).next());
}

TEST(JobPlans, CutTheCostAroundTheCalls) {
  std::vector<int64_t> out;
  const Duration at[] = {Duration::nanoseconds(100), Duration::nanoseconds(300), Duration::nanoseconds(900)};
  const Duration inside[] = {Duration::nanoseconds(50), Duration::nanoseconds(0), Duration::nanoseconds(7)};
  plan_job(Duration::nanoseconds(500), 3, [&](uint32_t i) { return at[i]; }, [&](uint32_t i) { return inside[i]; },
           [&](Duration d) { out.push_back(d.ns()); });
  // 100 own, 50 inside, 200 own, at least 1 inside, 200 own (the third call is past the cost: at
  // its end), 7 inside, nothing after.
  EXPECT_EQ(out, (std::vector<int64_t>{100, 50, 200, 1, 200, 7, 0}));
  out.clear();
  plan_job(Duration::nanoseconds(42), 0, [](uint32_t) { return Duration::zero(); },
           [](uint32_t) { return Duration::zero(); }, [&](Duration d) { out.push_back(d.ns()); });
  EXPECT_EQ(out, (std::vector<int64_t>{42}));
}

}  // namespace
}  // namespace edgeos::workloads

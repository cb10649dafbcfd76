// Worked examples with their published or hand-computed results (the iterations are in the
// comments), and the edge cases of each test.
#include "edgeos/analysis/analysis.hpp"

#include <gtest/gtest.h>

#include "edgeos/core/rng.hpp"
#include "edgeos/hosted/error.hpp"

namespace edgeos::analysis {
namespace {

Duration ms(int64_t v) { return Duration::milliseconds(v); }

Task task(int64_t c, int64_t t, int64_t d = 0, int prio = 0) {
  Task x;
  x.wcet = ms(c);
  x.period = ms(t);
  x.deadline = ms(d == 0 ? t : d);
  x.priority = prio;
  return x;
}

TEST(Rta, BurnsAndWellingsExample) {
  // Burns & Wellings, "Real-Time Systems and Programming Languages": a (C=3, T=7), b (3, 12),
  // c (5, 20), rate monotonic. R_c: 5+3+3 = 11 -> 5+2*3+1*3 = 14 -> 5+2*3+2*3 = 17 -> 5+3*3+2*3 = 20 -> 20.
  const Result r = response_time_analysis({task(3, 7, 0, 3), task(3, 12, 0, 2), task(5, 20, 0, 1)});
  EXPECT_EQ(r.verdict, Verdict::kSchedulable);
  EXPECT_EQ(r.response_times, (std::vector<Duration>{ms(3), ms(6), ms(20)}));
}

TEST(Rta, ButtazzoExample) {
  // Buttazzo, "Hard Real-Time Computing Systems", ch. 4: (1, 4), (2, 6), (3, 10), rate monotonic.
  // R_3: 6 -> 3+2*1+1*2 = 7 -> 3+2+2*2 = 9 -> 3+3*1+2*2 = 10 -> 10 = D_3.
  const Result r = response_time_analysis({task(1, 4, 0, 3), task(2, 6, 0, 2), task(3, 10, 0, 1)});
  EXPECT_EQ(r.verdict, Verdict::kSchedulable);
  EXPECT_EQ(r.response_times, (std::vector<Duration>{ms(1), ms(3), ms(10)}));
}

TEST(Rta, JitterAndBlocking) {
  // t1 (C=1, T=5, J=1) > t2 (C=2, T=10, B=1) > t3 (C=3, T=20):
  //   R_1 = 1, response 1 + J_1 = 2.
  //   R_2: C+B = 3, start 3+1 = 4 -> 3 + ceil((4+1)/5)*1 = 4: response 4.
  //   R_3: start 3+1+2 = 6 -> 3 + ceil(7/5)*1 + ceil(6/10)*2 = 7 -> 3 + ceil(8/5) + 2 = 7.
  std::vector<Task> ts = {task(1, 5, 0, 3), task(2, 10, 0, 2), task(3, 20, 0, 1)};
  ts[0].jitter = ms(1);
  ts[1].blocking = ms(1);
  const Result r = response_time_analysis(ts);
  EXPECT_EQ(r.verdict, Verdict::kSchedulable);
  EXPECT_EQ(r.response_times, (std::vector<Duration>{ms(2), ms(4), ms(7)}));
}

TEST(Rta, TheRateMonotonicMissAtSeven) {
  // (2, 5) > (4, 7): R_2 starts at 6 -> 4 + 2*2 = 8 > 7.
  const Result r = response_time_analysis({task(2, 5, 0, 2), task(4, 7, 0, 1)});
  EXPECT_EQ(r.verdict, Verdict::kUnschedulable);
  EXPECT_EQ(r.response_times[0], ms(2));
  EXPECT_TRUE(r.response_times[1].is_infinite());
  EXPECT_NE(r.detail.find("task #1"), std::string::npos);
}

TEST(Rta, ArbitraryDeadlinesAreNotCovered) {
  const Result r = response_time_analysis({task(1, 5, 8)});
  EXPECT_EQ(r.verdict, Verdict::kNotApplicable);
  EXPECT_NE(r.detail.find("D > T"), std::string::npos);
}

TEST(UtilisationBounds, LiuLaylandAndHyperbolic) {
  // n = 3: bound 3 (2^(1/3) - 1) = 0.7798.
  EXPECT_EQ(liu_layland_bound({task(1, 4), task(2, 6), task(2, 12)}).verdict, Verdict::kSchedulable);  // U = 0.75
  EXPECT_EQ(liu_layland_bound({task(2, 5), task(4, 7)}).verdict, Verdict::kInconclusive);              // U = 0.971
  // The hyperbolic bound is tight at equality: (1/2 + 1)(1/3 + 1) = 2.
  EXPECT_EQ(hyperbolic_bound({task(1, 2), task(1, 3)}).verdict, Verdict::kSchedulable);
  EXPECT_EQ(hyperbolic_bound({task(1, 2), task(2, 5)}).verdict, Verdict::kInconclusive);  // 1.5 * 1.4 = 2.1
  EXPECT_EQ(liu_layland_bound({task(1, 4, 3)}).verdict, Verdict::kNotApplicable);
}

TEST(PriorityAssignment, MonotonicAndAudsley) {
  const std::vector<Task> ts = {task(1, 20, 5), task(1, 10), task(1, 15, 15)};
  EXPECT_EQ(rate_monotonic(ts), (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(deadline_monotonic(ts), (std::vector<int>{3, 2, 1}));
  // With release jitter, deadline monotonic is not optimal: A (C=1, T=10, D=4, J=3) below
  // B (C=2, T=10, D=3) gives R_A = 3 + 3 > 4; A above B works (R_A = 4, R_B = 3).
  std::vector<Task> j = {task(1, 10, 4), task(2, 10, 3)};
  j[0].jitter = ms(3);
  EXPECT_EQ(response_time_analysis(with_priorities(j, deadline_monotonic(j))).verdict, Verdict::kUnschedulable);
  const std::optional<std::vector<int>> opa = audsley_assignment(j);
  ASSERT_TRUE(opa.has_value());
  EXPECT_GT((*opa)[0], (*opa)[1]);
  EXPECT_EQ(response_time_analysis(with_priorities(j, *opa)).verdict, Verdict::kSchedulable);
  EXPECT_FALSE(audsley_assignment({task(3, 4), task(3, 4)}).has_value());
}

TEST(Edf, UtilisationIsExact) {
  EXPECT_EQ(edf_utilisation({task(2, 5), task(4, 7)}).verdict, Verdict::kSchedulable);    // 34/35
  EXPECT_EQ(edf_utilisation({task(2, 4), task(3, 6)}).verdict, Verdict::kSchedulable);    // exactly 1
  EXPECT_EQ(edf_utilisation({task(3, 5), task(3, 6)}).verdict, Verdict::kUnschedulable);  // 1.1
  EXPECT_EQ(edf_utilisation({task(1, 5, 4)}).verdict, Verdict::kNotApplicable);
  // 1/3 + 1/3 + 1/3 in nanoseconds is exactly 1: no rounding may tip it over.
  EXPECT_EQ(edf_utilisation({task(1, 3), task(1, 3), task(1, 3)}).verdict, Verdict::kSchedulable);
}

TEST(Edf, DemandBoundByHand) {
  // (C=2, D=5, T=5), (C=1, D=2, T=10), (C=3, D=8, T=10): the golden edf-constrained set.
  const std::vector<Task> ts = {task(2, 5, 5), task(1, 10, 2), task(3, 10, 8)};
  EXPECT_EQ(demand_bound(ts, ms(1)), ms(0));
  EXPECT_EQ(demand_bound(ts, ms(2)), ms(1));
  EXPECT_EQ(demand_bound(ts, ms(5)), ms(3));
  EXPECT_EQ(demand_bound(ts, ms(8)), ms(6));
  EXPECT_EQ(demand_bound(ts, ms(10)), ms(8));  // 2*2 + 1 + 3
  EXPECT_EQ(demand_bound(ts, ms(12)), ms(9));  // 2*2 + 2*1 + 3
  EXPECT_EQ(edf_demand(ts).verdict, Verdict::kSchedulable);
  // Two (C=2, D=3, T=4): dbf(3) = 4 > 3 (the golden edf-overload-ties set misses).
  const Result r = edf_demand({task(2, 4, 3), task(2, 4, 3)});
  EXPECT_EQ(r.verdict, Verdict::kUnschedulable);
  EXPECT_NE(r.detail.find("dbf(3ms) = 4ms"), std::string::npos) << r.detail;
  EXPECT_EQ(edf_demand({task(3, 5), task(3, 6)}).verdict, Verdict::kUnschedulable);  // U > 1
}

TEST(Edf, BusyPeriod) {
  // (1, 4), (2, 6), (3, 10): 6 -> 2*1+1*2+1*3 = 7 -> 2+4+3 = 9 -> 3+4+3 = 10 -> 3+4+3 = 10.
  EXPECT_EQ(busy_period({task(1, 4), task(2, 6), task(3, 10)}, ms(1000)), ms(10));
  EXPECT_FALSE(busy_period({task(3, 5), task(3, 6)}, ms(1000)).has_value()) << "U > 1 never ends";
}

TEST(Supply, ShinLeeByHand) {
  // Gamma(5, 2): a blackout of 2 * 3 = 6, then 2 per period.
  const Supply s{ms(5), ms(2)};
  const int64_t expect[] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 3, 4, 4, 4, 4, 5, 6};
  for (int t = 0; t < 19; ++t) EXPECT_EQ(supply_bound(s, ms(t)), ms(expect[t])) << "t = " << t;
  EXPECT_EQ(supply_bound(Supply{ms(5), ms(5)}, ms(7)), ms(7)) << "a dedicated CPU";
}

// The formula against a brute force over every placement of the budget in each period.
TEST(Supply, AgreesWithBruteForceOverAllPlacements) {
  for (int64_t pi = 1; pi <= 5; ++pi) {
    for (int64_t theta = 1; theta <= pi; ++theta) {
      for (int64_t window = 0; window <= 13; ++window) {
        // Periods [k*pi, (k+1)*pi) for k = 0..kPeriods-1, each serving theta at some offset.
        constexpr int kPeriods = 6;
        int64_t least = std::numeric_limits<int64_t>::max();
        std::vector<int64_t> off(kPeriods, 0);
        for (;;) {
          for (int64_t start = 0; start + window <= kPeriods * pi; ++start) {
            int64_t supply = 0;
            for (int k = 0; k < kPeriods; ++k) {
              const int64_t a = k * pi + off[k], b = a + theta;
              supply += std::max<int64_t>(0, std::min(b, start + window) - std::max(a, start));
            }
            least = std::min(least, supply);
          }
          int k = 0;
          while (k < kPeriods && ++off[k] > pi - theta) off[k++] = 0;
          if (k == kPeriods) break;
        }
        if (window + 2 * pi > kPeriods * pi) continue;  // windows need room to fall anywhere
        ASSERT_EQ(supply_bound(Supply{ms(pi), ms(theta)}, ms(window)), ms(least))
            << "Pi = " << pi << ", Theta = " << theta << ", t = " << window;
      }
    }
  }
}

TEST(Supply, TasksInsideAReservation) {
  const Supply s{ms(5), ms(2)};
  // One task (C=1, D=T=10): sbf(7) = 1 fits. With C=3, sbf(10) = 2 does not.
  EXPECT_EQ(fp_in_reservation({task(1, 10)}, s).verdict, Verdict::kSchedulable);
  EXPECT_EQ(fp_in_reservation({task(3, 10)}, s).verdict, Verdict::kUnschedulable);
  EXPECT_EQ(edf_in_reservation({task(1, 10)}, s).verdict, Verdict::kSchedulable);
  EXPECT_EQ(edf_in_reservation({task(3, 10)}, s).verdict, Verdict::kUnschedulable);
  EXPECT_EQ(edf_in_reservation({task(2, 5)}, s).verdict, Verdict::kNotApplicable) << "U equals the bandwidth";
  EXPECT_THROW(fp_in_reservation({task(1, 10)}, Supply{ms(5), ms(6)}), InputError);
}

TEST(Overheads, PerJobAndInterruptInterference) {
  const Overheads o{Duration::microseconds(1), Duration::microseconds(2), Duration::microseconds(3),
                    Duration::microseconds(4)};
  // Per job: one decision and two switches.
  EXPECT_EQ(inflate_overheads({task(1, 10)}, o)[0].wcet, ms(1) + Duration::microseconds(2 + 2 * 3));
  // (C=2, T=5) > (C=4, T=10), inflated to 2.008ms and 4.008ms, with release interrupts of
  // e = 1 + 4 + 2 = 7us every 5ms and every 10ms at the highest priority:
  //   R_1 = 2.008 + 0.007 + 0.007 = 2.022ms.
  //   R_2 = 4.008 + ceil(R/5) * (2.008 + 0.007) + ceil(R/10) * 0.007:
  //         start 4.008 + 2.008 + 0.014 = 6.030 -> 4.008 + 2 * 2.015 + 0.007 = 8.045 -> 8.045ms.
  const Result r = fp_with_overheads({task(2, 5, 0, 2), task(4, 10, 0, 1)}, o);
  ASSERT_EQ(r.verdict, Verdict::kSchedulable) << r.detail;
  EXPECT_EQ(r.response_times.size(), 2u);
  EXPECT_EQ(r.response_times[0], Duration::microseconds(2022));
  EXPECT_EQ(r.response_times[1], Duration::microseconds(8045));
  // EDF: a set at U = 1 leaves no room for any overhead.
  EXPECT_EQ(edf_with_overheads({task(2, 4), task(3, 6)}, o).verdict, Verdict::kInconclusive);
  EXPECT_EQ(edf_with_overheads({task(2, 5), task(3, 10)}, o).verdict, Verdict::kSchedulable);
}

TEST(Partitioning, FitsAndFailures) {
  const std::vector<Task> four = {task(6, 10), task(6, 10), task(6, 10), task(6, 10)};
  EXPECT_FALSE(partition(four, 3, Fit::kFirst, edf_admission()).ok);
  const Partition p = partition(four, 4, Fit::kFirst, edf_admission());
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.cpu, (std::vector<uint32_t>{0, 1, 2, 3}));
  // 0.5, 0.5, 0.4, 0.4 on two CPUs. First fit packs 0.5+0.5 on CPU 0 and 0.4+0.4 on CPU 1.
  // Worst fit puts the 0.5s on CPUs 0 and 1; the loads then tie (lower CPU first), so the 0.4s
  // go to CPU 0 (0.5 -> 0.9) and then to the emptier CPU 1.
  const std::vector<Task> mix = {task(5, 10), task(5, 10), task(4, 10), task(4, 10)};
  EXPECT_EQ(partition(mix, 2, Fit::kFirst, edf_admission()).cpu, (std::vector<uint32_t>{0, 0, 1, 1}));
  EXPECT_EQ(partition(mix, 2, Fit::kWorst, edf_admission()).cpu, (std::vector<uint32_t>{0, 1, 0, 1}));
  EXPECT_TRUE(partition(mix, 2, Fit::kBest, fp_dm_admission()).ok);
}

TEST(Validation, ImpossibleParametersAreNamed) {
  EXPECT_THROW(response_time_analysis({}), InputError);
  std::vector<Task> bad = {task(1, 10), task(1, 10)};
  bad[1].period = Duration::zero();
  try {
    response_time_analysis(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("task #1: field \"period\""), std::string::npos) << e.what();
  }
  bad[1] = task(1, 10);
  bad[1].wcet = -ms(1);
  EXPECT_THROW(edf_demand(bad), InputError);
  bad[1] = task(1, 10);
  bad[1].jitter = -ms(1);
  EXPECT_THROW(liu_layland_bound(bad), InputError);
  bad[1] = task(1, 10);
  bad[1].deadline = Duration::infinite();
  EXPECT_THROW(edf_utilisation(bad), InputError);
}

}  // namespace
}  // namespace edgeos::analysis

// --- global multiprocessor tests: hand-worked examples (the arithmetic is in the comments) ------

namespace edgeos::analysis {
namespace {

Task gtask(int64_t c, int64_t t, int prio = 0) {
  Task x;
  x.wcet = Duration::milliseconds(c);
  x.period = Duration::milliseconds(t);
  x.deadline = x.period;
  x.priority = prio;
  return x;
}

// Dhall's effect on m = 2: two light tasks (2, 40) and a heavy one (40, 41). G-EDF misses (the
// simulated schedule is in tests/golden/global_test.cpp), so no sufficient test may accept it.
//   GFB: sum C/D = 0.05 + 0.05 + 0.9756 = 1.0756 > m - (m-1) 0.9756 = 1.0244.
//   BCL, k = heavy: D - C = 1; each light: N = floor((41-40)/40) + 1 = 1, I = 2 + min(2, 41-40) = 3,
//   capped at 1; sum 2, not < m (D - C) = 2.
TEST(GlobalAnalysis, DhallSetIsRejectedByEveryTest) {
  const std::vector<Task> dhall = {gtask(2, 40), gtask(2, 40), gtask(40, 41)};
  EXPECT_EQ(gedf_density(dhall, 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gedf_baker(dhall, 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gedf_bcl(dhall, 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gfp_bcl(with_priorities(dhall, rate_monotonic(dhall)), 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gfp_rta(with_priorities(dhall, rate_monotonic(dhall)), 2).verdict, Verdict::kInconclusive);
}

// GFB on its bound: three tasks of utilisation 1/2 on m = 2: U = 1.5 = 2 - (2-1) 0.5: accepted
// (the bound is not strict). A fourth light task (1, 10) pushes it over: 1.6 > 1.5.
TEST(GlobalAnalysis, GfbAcceptsOnItsBoundAndRejectsPastIt) {
  EXPECT_EQ(gedf_density({gtask(1, 2), gtask(2, 4), gtask(3, 6)}, 2).verdict, Verdict::kSchedulable);
  EXPECT_EQ(gedf_density({gtask(1, 2), gtask(2, 4), gtask(3, 6), gtask(1, 10)}, 2).verdict, Verdict::kInconclusive);
}

// Two heavy tasks (6, 8) and a light one (1, 8) on m = 2 (G-EDF runs the heavy ones on [0, 6] and
// the light one on [6, 7]: schedulable).
//   GFB: 0.75 + 0.75 + 0.125 + 0.75 = 2.375 > 2: rejected.
//   BCL: k = heavy: D - C = 2; other heavy: N = 1, I = 6 + min(6, 8 - 8) = 6 -> 2; light: I = 1;
//        sum 3 < 4. k = light: D - C = 7; I = 6 + 6 = 12 < 14. Accepted.
//   Baker, k = heavy, lambda = 0.75: beta = 0.75 (heavy, u <= lambda) twice + 0.125 = 1.625 <=
//        2 (1 - 0.75) + 0.75 = 1.25? No. lambda = 0.75 is the only candidate >= lambda_k: rejected.
TEST(GlobalAnalysis, BclAcceptsHeavyTasksThatGfbAndBakerReject) {
  const std::vector<Task> set = {gtask(6, 8), gtask(6, 8), gtask(1, 8)};
  EXPECT_EQ(gedf_density(set, 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gedf_baker(set, 2).verdict, Verdict::kInconclusive);
  EXPECT_EQ(gedf_bcl(set, 2).verdict, Verdict::kSchedulable);
}

// Baker on light tasks: four (1, 4) on m = 2. k: lambda = 0.25, every beta = 0.25 * (1 + 0) =
// 0.25, sum 1 <= 2 (0.75) + 0.25 = 1.75: accepted. BCL: D - C = 3, each other I = 1, sum 3 < 6.
TEST(GlobalAnalysis, BakerAndBclAcceptLightTasks) {
  const std::vector<Task> set = {gtask(1, 4), gtask(1, 4), gtask(1, 4), gtask(1, 4)};
  EXPECT_EQ(gedf_baker(set, 2).verdict, Verdict::kSchedulable);
  EXPECT_EQ(gedf_bcl(set, 2).verdict, Verdict::kSchedulable);
  EXPECT_EQ(gedf_density(set, 2).verdict, Verdict::kSchedulable);
}

// Global FP, m = 2: a (6, 8) prio 3, b (6, 8) prio 2, c (1, 8) prio 1.
//   RTA: R_a = 6 (no interference); R_b = 6 (one interfering task < m). R_c: x = R - C; W_a(1 + x)
//   with r = 6 is min(6, 1 + x) for x < 7, capped at x + 1 up to x = 5 (both a and b: m terms):
//   jump to x = 6; there W = 6 < 7 for both: x = floor(12 / 2) = 6, fixed: R_c = 7 (the simulated
//   response time: c runs on [6, 7]).
//   BCL: k = c, D - C = 7: W_a(8) with r = D_a = 8: N = floor((8 + 8 - 6) / 8) = 1, 6 + min(6, 10 - 8)
//   = 8 -> 7; same for b: 14, not < 14: rejected (the response times are tighter here).
TEST(GlobalAnalysis, GlobalFpResponseTimesOnTwoCpus) {
  const std::vector<Task> set = {gtask(6, 8, 3), gtask(6, 8, 2), gtask(1, 8, 1)};
  const Result r = gfp_rta(set, 2);
  EXPECT_EQ(r.verdict, Verdict::kSchedulable);
  EXPECT_EQ(r.response_times, (std::vector<Duration>{Duration::milliseconds(6), Duration::milliseconds(6), Duration::milliseconds(7)}));
  EXPECT_EQ(gfp_bcl(set, 2).verdict, Verdict::kInconclusive);
  // One CPU more: c never waits. BCL: fewer than... hp(c) = 2 < m = 3: accepted; R_c = C.
  EXPECT_EQ(gfp_bcl(set, 3).verdict, Verdict::kSchedulable);
  EXPECT_EQ(gfp_rta(set, 3).response_times[2], Duration::milliseconds(1));
}

TEST(GlobalAnalysis, OutsideTheModelIsNotApplicable) {
  Task late = gtask(1, 4);
  late.deadline = Duration::milliseconds(5);  // D > T
  EXPECT_EQ(gedf_bcl({late, gtask(1, 4)}, 2).verdict, Verdict::kNotApplicable);
  Task jittery = gtask(1, 4);
  jittery.jitter = Duration::milliseconds(1);
  EXPECT_EQ(gfp_rta({jittery}, 2).verdict, Verdict::kNotApplicable);
  EXPECT_EQ(gedf_density({gtask(1, 4)}, 0).verdict, Verdict::kNotApplicable);
  Task over = gtask(5, 8);
  over.deadline = Duration::milliseconds(4);  // C > D
  EXPECT_EQ(gedf_density({over}, 2).verdict, Verdict::kUnschedulable);
}

}  // namespace
}  // namespace edgeos::analysis

// The workload driver's cost draws (workloads/job_driver.hpp, integer fixed point, what the
// simulators and the kernel run) against a floating-point reference in the same process: the
// Box-Muller and inverse-CDF draws with libm that the simulator used before the draws were shared
// (a baseline for the ratio only; nothing else uses it).
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench.hpp"
#include "edgeos/workloads/job_driver.hpp"

namespace edgeos::bench {
namespace {

using workloads::CostKind;
using workloads::CostModel;

const CostModel kNormal{CostKind::kNormal, 1'000'000, 0, 0, 100'000, 0};
const CostModel kLogNormal{CostKind::kLogNormal, 200'000, 0, 0, 0, 500'000};
const CostModel kExponential{CostKind::kExponential, 50'000, 0, 0, 0, 0};

// The reference: doubles and libm, the same distributions, no truncation (none is configured).
double uniform01(Rng& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }
double box_muller(Rng& rng) {
  const double u1 = 1.0 - uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * uniform01(rng));
}
int64_t reference(const CostModel& c, Rng& rng) {
  switch (c.kind) {
    case CostKind::kNormal:
      return std::llround(static_cast<double>(c.value) + static_cast<double>(c.sd) * box_muller(rng));
    case CostKind::kLogNormal:
      return std::llround(static_cast<double>(c.value) * std::exp(c.sigma_ppm * 1e-6 * box_muller(rng)));
    default:
      return std::llround(-static_cast<double>(c.value) * std::log(1.0 - uniform01(rng)));
  }
}

void draws(benchmark::State& state, const CostModel& c, bool fixed_point) {
  Rng rng(42);
  int64_t sum = 0;
  for (auto _ : state) {
    sum += fixed_point ? workloads::draw_cost(c, rng).ns() : reference(c, rng);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DrawNormalFixedPoint(benchmark::State& s) { draws(s, kNormal, true); }
void BM_DrawNormalLibm(benchmark::State& s) { draws(s, kNormal, false); }
void BM_DrawLogNormalFixedPoint(benchmark::State& s) { draws(s, kLogNormal, true); }
void BM_DrawLogNormalLibm(benchmark::State& s) { draws(s, kLogNormal, false); }
void BM_DrawExponentialFixedPoint(benchmark::State& s) { draws(s, kExponential, true); }
void BM_DrawExponentialLibm(benchmark::State& s) { draws(s, kExponential, false); }

BENCHMARK(BM_DrawNormalFixedPoint);
BENCHMARK(BM_DrawNormalLibm);
BENCHMARK(BM_DrawLogNormalFixedPoint);
BENCHMARK(BM_DrawLogNormalLibm);
BENCHMARK(BM_DrawExponentialFixedPoint);
BENCHMARK(BM_DrawExponentialLibm);

}  // namespace
}  // namespace edgeos::bench

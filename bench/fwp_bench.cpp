// FWP activation from the template's pool and termination back into it, with N other FWPs
// live: the cost must not depend on N.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>

#include "bench.hpp"
#include "edgeos/core/kernel.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"

namespace edgeos::bench {
namespace {

void BM_FwpSpawnTerminate(benchmark::State& state) {
  // Clamped: the range is a benchmark argument (and GCC cannot prove it small).
  const size_t live = static_cast<size_t>(std::clamp<int64_t>(state.range(0), 0, 1 << 20));
  const size_t capacity = live + 2;
  ClockPlatform platform;
  FixedPriorityScheduler fp;
  Scheduler* scheds[1] = {&fp};
  CpuState cpus[1];
  auto threads = std::make_unique<Thread[]>(1);
  auto scs = std::make_unique<SchedContext[]>(1);
  auto fwps = std::make_unique<Fwp[]>(capacity);
  auto templates = std::make_unique<FwpTemplate[]>(2);
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 1);
  storage.schedulers = Span<Scheduler* const>(scheds, 1);
  storage.threads = Span<Thread>(threads.get(), 1);
  storage.sched_contexts = Span<SchedContext>(scs.get(), 1);
  storage.fwps = Span<Fwp>(fwps.get(), capacity);
  storage.templates = Span<FwpTemplate>(templates.get(), 2);
  Kernel<ClockPlatform> k(platform, storage);
  const TemplateId others = *k.template_create({});
  for (size_t i = 0; i < live; ++i) (void)k.fwp_spawn(others);
  TemplateParams tp;
  tp.pool_limit = 1;
  const TemplateId tmpl = *k.template_create(tp);
  if (!k.fwp_prefill(tmpl, 1)) state.SkipWithError("prefill failed");
  for (auto _ : state) {
    const Result<FwpId> f = k.fwp_spawn(tmpl);
    k.fwp_terminate(*f).ignore();
    benchmark::DoNotOptimize(f);
  }
}

BENCHMARK(BM_FwpSpawnTerminate)->Arg(10)->Arg(10000);

}  // namespace
}  // namespace edgeos::bench

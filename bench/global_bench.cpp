// Global EDF against partitioned EDF through the whole kernel: pick-next + release on M CPUs with
// 1k threads ready. One iteration: 1us passes, the thread running on the next CPU (round robin)
// completes its job and at once takes its next one (a later deadline), and the kernel decides.
// Partitioned: the thread's own CPU decides among its n/M threads. Global: one decision for the
// whole domain of M CPUs (the new job goes back into the shared queue; the best ready thread takes
// the freed CPU, or preempts the domain's latest-deadline running thread), O(M) per placement
// plus the O(log n) queue operations.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench.hpp"
#include "edgeos/core/kernel.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/schedulers/edf.hpp"

namespace edgeos::bench {
namespace {

using namespace time_literals;

void edf_decision(benchmark::State& state, bool global) {
  const size_t n = 1000;
  const size_t m = static_cast<size_t>(state.range(0));
  ClockPlatform platform;
  std::vector<std::vector<EdfScheduler::Entry>> heaps(m, std::vector<EdfScheduler::Entry>(n));
  std::vector<std::unique_ptr<EdfScheduler>> owned;
  std::vector<Scheduler*> scheds;
  for (size_t c = 0; c < m; ++c) {
    owned.push_back(std::make_unique<EdfScheduler>(Span<EdfScheduler::Entry>(heaps[c].data(), n)));
    scheds.push_back(owned.back().get());
  }
  std::vector<CpuId> domains(global ? m : 0, 0);
  auto cpus = std::make_unique<CpuState[]>(m);
  auto threads = std::make_unique<Thread[]>(n);
  auto scs = std::make_unique<SchedContext[]>(n);
  Fwp fwps[1];
  FwpTemplate templates[1];
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus.get(), m);
  storage.schedulers = Span<Scheduler* const>(scheds.data(), m);
  storage.threads = Span<Thread>(threads.get(), n);
  storage.sched_contexts = Span<SchedContext>(scs.get(), n);
  storage.fwps = Span<Fwp>(fwps, 1);
  storage.templates = Span<FwpTemplate>(templates, 1);
  storage.domains = Span<const CpuId>(domains.data(), domains.size());
  KernelOptions options;
  options.check_invariants = false;
  Kernel<ClockPlatform> k(platform, storage, options);
  const FwpId fwp = *k.fwp_spawn(*k.template_create({}));
  Rng rng(3);
  for (size_t i = 0; i < n; ++i) {
    ThreadParams p;
    p.fwp = fwp;
    p.cpu = static_cast<CpuId>(i % m);
    p.release = ReleaseKind::kSporadic;
    p.period = 1_ms;
    p.relative_deadline = Duration::infinite();  // no deadline timers: only the decision
    p.sched.relative_deadline = Duration::microseconds(rng.between(100, 100'000));
    const ThreadId id = *k.thread_create(p);
    (void)k.release(id, platform.clock);
  }
  size_t cpu = 0;
  for (auto _ : state) {
    platform.clock += 1_us;
    const Thread* cur = k.current(static_cast<CpuId>(cpu));
    k.complete(k.thread_id(*cur), platform.clock).ignore();
    cpu = cpu + 1 == m ? 0 : cpu + 1;
    benchmark::DoNotOptimize(cur);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_PartitionedEdfDecision1k(benchmark::State& s) { edf_decision(s, false); }
void BM_GlobalEdfDecision1k(benchmark::State& s) { edf_decision(s, true); }
BENCHMARK(BM_PartitionedEdfDecision1k)->Arg(4)->Arg(16);
BENCHMARK(BM_GlobalEdfDecision1k)->Arg(4)->Arg(16);

}  // namespace
}  // namespace edgeos::bench

// Kernel-level costs: the scheduling decision with and without budget accounting, and a
// synchronous invocation round trip.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench.hpp"
#include "edgeos/core/kernel.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/simulator/core_sim.hpp"

namespace edgeos::bench {
namespace {

using namespace time_literals;


// N sporadic threads ready on one CPU. One iteration: 1us passes, the running thread completes
// its job and at once takes its next one (complete with a queued arrival), and the kernel picks
// the next thread to run: the pick-next + release path through the whole kernel, including
// accounting, timers and, with budgets, the sporadic-server refill bookkeeping. Every decision
// switches threads: under EDF because the new job's deadline is later, under FP because all
// threads share one priority and rotate in FIFO order.
template <class S>
void kernel_decision(benchmark::State& state, bool budgets) {
  const size_t n = static_cast<size_t>(state.range(0));
  ClockPlatform platform;
  std::vector<EdfScheduler::Entry> heap(n);
  S sched = [&]() -> S {
    if constexpr (std::is_same_v<S, EdfScheduler>) {
      return S(Span<EdfScheduler::Entry>(heap.data(), heap.size()));
    } else {
      return S();
    }
  }();
  Scheduler* scheds[1] = {&sched};
  CpuState cpus[1];
  auto threads = std::make_unique<Thread[]>(n);
  auto scs = std::make_unique<SchedContext[]>(n);
  Fwp fwps[1];
  FwpTemplate templates[1];
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 1);
  storage.schedulers = Span<Scheduler* const>(scheds, 1);
  storage.threads = Span<Thread>(threads.get(), n);
  storage.sched_contexts = Span<SchedContext>(scs.get(), n);
  storage.fwps = Span<Fwp>(fwps, 1);
  storage.templates = Span<FwpTemplate>(templates, 1);
  KernelOptions options;
  options.check_invariants = false;
  Kernel<ClockPlatform> k(platform, storage, options);
  const FwpId fwp = *k.fwp_spawn(*k.template_create({}));
  Rng rng(3);
  std::vector<ThreadId> ids;
  for (size_t i = 0; i < n; ++i) {
    ThreadParams p;
    p.fwp = fwp;
    p.release = ReleaseKind::kSporadic;
    p.period = 1_ms;
    p.relative_deadline = Duration::infinite();  // no deadline timers: only scheduling and budgets
    p.sched.priority = 7;
    p.sched.relative_deadline = Duration::microseconds(rng.between(100, 100'000));
    if (budgets) {
      // Budgets that never run out here, so every decision pays the bookkeeping and none the
      // throttling: the cost measured is the accounting itself.
      p.sched.server = ServerKind::kSporadic;
      p.sched.budget = Duration::seconds(1000);
      p.sched.period = Duration::seconds(1000);
    }
    ids.push_back(*k.thread_create(p));
    (void)k.release(ids.back(), platform.clock);
  }
  for (auto _ : state) {
    platform.clock += 1_us;
    const Thread* cur = k.current(0);
    k.complete(k.thread_id(*cur), platform.clock).ignore();
    benchmark::DoNotOptimize(cur);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_KernelDecisionFp(benchmark::State& s) { kernel_decision<FixedPriorityScheduler>(s, false); }
void BM_KernelDecisionFpBudgets(benchmark::State& s) { kernel_decision<FixedPriorityScheduler>(s, true); }
void BM_KernelDecisionEdf(benchmark::State& s) { kernel_decision<EdfScheduler>(s, false); }
void BM_KernelDecisionEdfBudgets(benchmark::State& s) { kernel_decision<EdfScheduler>(s, true); }
BENCHMARK(BM_KernelDecisionFp)->Arg(1000);
BENCHMARK(BM_KernelDecisionFpBudgets)->Arg(1000);
BENCHMARK(BM_KernelDecisionEdf)->Arg(1000);
BENCHMARK(BM_KernelDecisionEdfBudgets)->Arg(1000);

// Synchronous invocation call + reply, in the core-only simulator's kernel.
void BM_InvocationRoundTrip(benchmark::State& state) {
  sim::SimConfig cfg;
  cfg.check_invariants = false;
  cfg.max_threads = 4;
  cfg.max_fwps = 4;
  CountingSink sink;
  sim::CoreSimulator s(cfg, sink);
  auto& k = s.kernel();
  const TemplateId tmpl = *k.template_create({});
  const FwpId client = *k.fwp_spawn(tmpl);
  const FwpId server = *k.fwp_spawn(tmpl);
  const CapSlot slot = *k.grant_invoke(client, server);
  ThreadParams p;
  p.fwp = client;
  p.release = ReleaseKind::kSporadic;
  p.period = 1_ms;
  p.relative_deadline = 1_s;
  p.sched.relative_deadline = 1_s;
  const ThreadId t = *s.add_thread(p, sim::fixed_cost(1_s), sim::arrival_sequence({}));
  (void)k.release(t, s.now());
  for (auto _ : state) {
    k.call(t, slot).ignore();
    k.reply(t).ignore();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InvocationRoundTrip);

}  // namespace
}  // namespace edgeos::bench

// pick-next + release, the scheduling decision of every job: take the best ready thread, give
// it a new job (a later deadline, or the same priority at the tail) and queue it again, with N
// threads ready. FP should be flat in N, EDF grow like log N.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"

namespace edgeos::bench {
namespace {

struct Threads {
  std::vector<Thread> threads;
  std::vector<SchedContext> scs;
  std::vector<int64_t> periods;
  explicit Threads(size_t n) : threads(n), scs(n), periods(n) {
    Rng rng(1);
    for (size_t i = 0; i < n; ++i) {
      threads[i].slot_index = static_cast<uint32_t>(i);
      threads[i].sc = &scs[i];
      threads[i].ready_list.thread = &threads[i];
      scs[i].thread = &threads[i];
      scs[i].params.priority = static_cast<uint8_t>(rng.below(256));
      periods[i] = rng.between(1'000, 1'000'000);
      scs[i].deadline = Instant::from_ns(periods[i]);
      scs[i].deadline_seq = i;
    }
  }
};

template <class S>
S make(std::vector<EdfScheduler::Entry>&) = delete;
template <>
FixedPriorityScheduler make(std::vector<EdfScheduler::Entry>&) { return FixedPriorityScheduler(); }
template <>
EdfScheduler make(std::vector<EdfScheduler::Entry>& heap) {
  return EdfScheduler(Span<EdfScheduler::Entry>(heap.data(), heap.size()));
}

template <class S>
void run(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Threads ts(n);
  std::vector<EdfScheduler::Entry> heap(n);
  S sched = make<S>(heap);
  for (Thread& t : ts.threads) sched.enqueue(t, Placement::kTail);
  uint64_t seq = n;
  for (auto _ : state) {
    Thread* t = sched.peek();
    sched.dequeue(*t);
    t->sc->deadline += Duration::nanoseconds(ts.periods[t->slot_index]);  // next job's deadline
    t->sc->deadline_seq = seq++;
    sched.enqueue(*t, Placement::kTail);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_FpPickAndRelease(benchmark::State& state) { run<FixedPriorityScheduler>(state); }
void BM_EdfPickAndRelease(benchmark::State& state) { run<EdfScheduler>(state); }

BENCHMARK(BM_FpPickAndRelease)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000);
BENCHMARK(BM_EdfPickAndRelease)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace edgeos::bench

#include "edgeos/schedulers/edf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "edgeos/core/rng.hpp"

namespace edgeos {
namespace {

struct Pool {
  std::vector<Thread> threads;
  std::vector<SchedContext> scs;
  std::vector<EdfScheduler::Entry> heap;
  explicit Pool(size_t n) : threads(n), scs(n), heap(n) {
    for (size_t i = 0; i < n; ++i) {
      threads[i].slot_index = static_cast<uint32_t>(i);
      threads[i].sc = &scs[i];
      scs[i].thread = &threads[i];
    }
  }
  Thread& operator[](size_t i) { return threads[i]; }
  Span<EdfScheduler::Entry> storage() { return Span<EdfScheduler::Entry>(heap.data(), heap.size()); }
};

void set_key(Thread& t, int64_t deadline, uint64_t seq) {
  t.sc->deadline = Instant::from_ns(deadline);
  t.sc->deadline_seq = seq;
}

TEST(Edf, EarliestDeadlineThenReleaseOrderThenThread) {
  Pool p(4);
  EdfScheduler s(p.storage());
  set_key(p[0], 50, 3);
  set_key(p[1], 20, 9);
  set_key(p[2], 50, 1);  // same deadline as 0, released earlier
  set_key(p[3], 50, 1);  // same deadline and sequence as 2: thread index decides
  for (int i = 0; i < 4; ++i) s.enqueue(p[i], Placement::kTail);
  for (int e : {1, 2, 3, 0}) {
    ASSERT_TRUE(s.check());
    ASSERT_EQ(s.peek(), &p[e]);
    s.dequeue(p[e]);
  }
  EXPECT_EQ(s.peek(), nullptr);
}

TEST(Edf, PreemptsOnlyWhenStrictlyEarlierInTheTotalOrder) {
  Pool p(2);
  EdfScheduler s(p.storage());
  set_key(p[0], 10, 5);
  set_key(p[1], 10, 6);
  EXPECT_TRUE(s.preempts(p[0], p[1]));
  EXPECT_FALSE(s.preempts(p[1], p[0]));
  set_key(p[1], 9, 6);
  EXPECT_TRUE(s.preempts(p[1], p[0]));
}

TEST(Edf, RandomOperationsAgreeWithSorting) {
  Pool p(300);
  EdfScheduler s(p.storage());
  Rng rng(11);
  uint64_t seq = 0;
  for (int step = 0; step < 20'000; ++step) {
    Thread& t = p[rng.below(300)];
    if (s.contains(t)) {
      s.dequeue(t);
    } else {
      set_key(t, static_cast<int64_t>(rng.below(50)), seq++);
      s.enqueue(t, Placement::kTail);
    }
    const Thread* best = nullptr;
    for (Thread& c : p.threads) {
      if (s.contains(c) && (best == nullptr || EdfScheduler::before(c, *best))) best = &c;
    }
    ASSERT_EQ(s.peek(), best);
  }
  EXPECT_TRUE(s.check());
}

TEST(Edf, CheckDetectsADeadlineChangedWhileQueued) {
  Pool p(1);
  EdfScheduler s(p.storage());
  set_key(p[0], 5, 0);
  s.enqueue(p[0], Placement::kTail);
  EXPECT_TRUE(s.check());
  set_key(p[0], 6, 0);
  EXPECT_FALSE(s.check());
}

}  // namespace
}  // namespace edgeos

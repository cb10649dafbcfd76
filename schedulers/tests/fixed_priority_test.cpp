#include "edgeos/schedulers/fixed_priority.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "edgeos/core/rng.hpp"

namespace edgeos {
namespace {

struct Pool {
  std::vector<Thread> threads;
  std::vector<SchedContext> scs;
  explicit Pool(size_t n) : threads(n), scs(n) {
    for (size_t i = 0; i < n; ++i) {
      threads[i].slot_index = static_cast<uint32_t>(i);
      threads[i].sc = &scs[i];
      threads[i].ready_list.thread = &threads[i];
      scs[i].thread = &threads[i];
    }
  }
  Thread& operator[](size_t i) { return threads[i]; }
};

TEST(FixedPriority, HighestPriorityFirstFifoWithinALevel) {
  Pool p(4);
  FixedPriorityScheduler s;
  p[0].sc->params.priority = 10;
  p[1].sc->params.priority = 200;
  p[2].sc->params.priority = 10;
  p[3].sc->params.priority = 200;
  for (int i = 0; i < 4; ++i) s.enqueue(p[i], Placement::kTail);
  EXPECT_EQ(s.size(), 4u);
  const int expected[] = {1, 3, 0, 2};
  for (int e : expected) {
    ASSERT_TRUE(s.check());
    Thread* t = s.peek();
    ASSERT_EQ(t, &p[e]);
    s.dequeue(*t);
  }
  EXPECT_EQ(s.peek(), nullptr);
  EXPECT_EQ(s.top_level(), -1);
}

TEST(FixedPriority, PreemptedThreadGoesAheadOfItsEquals) {
  Pool p(3);
  FixedPriorityScheduler s;
  for (int i = 0; i < 3; ++i) p[i].sc->params.priority = 7;
  s.enqueue(p[0], Placement::kTail);
  s.enqueue(p[1], Placement::kTail);
  s.enqueue(p[2], Placement::kHead);
  EXPECT_EQ(s.peek(), &p[2]);
}

TEST(FixedPriority, BitmapCoversEveryLevelAndWordBoundary) {
  Pool p(256);
  FixedPriorityScheduler s;
  for (int level = 0; level < 256; ++level) p[level].sc->params.priority = static_cast<uint8_t>(level);
  for (int level : {0, 63, 64, 127, 128, 191, 192, 255}) {
    s.enqueue(p[level], Placement::kTail);
    EXPECT_EQ(s.top_level(), level);
    EXPECT_EQ(s.peek(), &p[level]);
    s.dequeue(p[level]);
  }
  Rng rng(3);
  for (int round = 0; round < 2000; ++round) {
    const int level = static_cast<int>(rng.below(256));
    if (s.contains(p[level])) {
      s.dequeue(p[level]);
    } else {
      s.enqueue(p[level], Placement::kTail);
    }
    int top = -1;
    for (int l = 255; l >= 0; --l) {
      if (s.contains(p[l])) {
        top = l;
        break;
      }
    }
    ASSERT_EQ(s.top_level(), top);
    ASSERT_TRUE(s.check());
  }
}

TEST(FixedPriority, PreemptsOnlyOnStrictlyHigherPriority) {
  Pool p(3);
  FixedPriorityScheduler s;
  p[0].sc->params.priority = 5;
  p[1].sc->params.priority = 5;
  p[2].sc->params.priority = 6;
  EXPECT_FALSE(s.preempts(p[1], p[0]));
  EXPECT_TRUE(s.preempts(p[2], p[0]));
  EXPECT_FALSE(s.preempts(p[0], p[2]));
}

TEST(FixedPriority, CheckDetectsAPriorityChangedWhileQueued) {
  Pool p(1);
  FixedPriorityScheduler s;
  p[0].sc->params.priority = 3;
  s.enqueue(p[0], Placement::kTail);
  EXPECT_TRUE(s.check());
  p[0].sc->params.priority = 4;
  EXPECT_FALSE(s.check());
  p[0].sc->params.priority = 3;
}

}  // namespace
}  // namespace edgeos

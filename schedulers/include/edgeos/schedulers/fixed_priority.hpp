// Fixed-priority scheduling: 256 levels, FIFO within a level, O(1) in the number of ready threads.
//
// Each level is an intrusive list; a 256-bit bitmap (plus a 4-bit summary of its words) marks the
// non-empty levels, so the best ready thread is found with two count-leading-zeros instructions,
// as in SerenityOS's and NOVA's ready queues. A newly ready thread goes to the tail of its level;
// a preempted one to the head, so it resumes before its equals (POSIX SCHED_FIFO).
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/list.hpp"
#include "edgeos/core/scheduler.hpp"

namespace edgeos {

class FixedPriorityScheduler final : public Scheduler {
 public:
  FixedPriorityScheduler() = default;
  FixedPriorityScheduler(const FixedPriorityScheduler&) = delete;
  FixedPriorityScheduler& operator=(const FixedPriorityScheduler&) = delete;
  ~FixedPriorityScheduler() = default;

  const char* name() const override { return "fp"; }
  void enqueue(Thread& t, Placement where) override;
  void dequeue(Thread& t) override;
  Thread* peek() const override;
  bool preempts(const Thread& candidate, const Thread& running) const override;
  bool orders_by_deadline() const override { return false; }
  size_t size() const override { return size_; }
  bool contains(const Thread& t) const override { return t.ready_list.linked(); }
  bool check() const override;

  // The highest non-empty level, or -1.
  int top_level() const;

 private:
  static constexpr size_t kWords = kNumPriorities / 64;

  List<ReadyListLink> levels_[kNumPriorities];
  uint64_t bitmap_[kWords] = {};
  uint64_t summary_ = 0;  // bit w set <=> bitmap_[w] != 0
  size_t size_ = 0;
};

}  // namespace edgeos

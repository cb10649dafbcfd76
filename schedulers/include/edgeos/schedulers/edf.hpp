// Earliest-deadline-first scheduling, O(log n) worst case in the number of ready threads.
//
// Ready threads sit in a 4-ary min-heap over an array the backend provides at configuration (one
// slot per thread that may become ready on this CPU), so no operation allocates. Each entry holds a
// copy of its thread's key, the absolute deadline of the scheduling context and the sequence
// number given when that deadline was set, so comparisons read only the array; the thread keeps
// its position (Thread::ready_index) for removal from the middle. Four children per node halve the
// depth of a binary heap and keep siblings in one or two cache lines (LaMarca & Ladner, "The
// influence of caches on the performance of heaps", JEA 1996); LITMUS^RT likewise keeps EDF ready
// queues in heaps.
//
// The key (deadline, sequence, thread index) is a strict total order: equal deadlines go to the
// earlier release, then the lower thread index, identically on every backend.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/scheduler.hpp"

namespace edgeos {

class EdfScheduler final : public Scheduler {
 public:
  struct Entry {
    Instant deadline;
    uint64_t seq = 0;
    Thread* thread = nullptr;
  };

  // `storage` bounds how many threads can be ready at once (the thread capacity is always enough).
  explicit EdfScheduler(Span<Entry> storage) : heap_(storage) {}
  EdfScheduler(const EdfScheduler&) = delete;
  EdfScheduler& operator=(const EdfScheduler&) = delete;
  ~EdfScheduler() = default;

  const char* name() const override { return "edf"; }
  void enqueue(Thread& t, Placement where) override;
  void dequeue(Thread& t) override;
  Thread* peek() const override { return size_ == 0 ? nullptr : heap_[0].thread; }
  bool preempts(const Thread& candidate, const Thread& running) const override;
  bool orders_by_deadline() const override { return true; }
  size_t size() const override { return size_; }
  bool contains(const Thread& t) const override { return t.ready_index != kNotQueued; }
  bool check() const override;

  size_t capacity() const { return heap_.size(); }

  // True when `a` comes strictly before `b` in EDF order, by their scheduling contexts' keys.
  static bool before(const Thread& a, const Thread& b);

 private:
  static constexpr size_t kArity = 4;

  static bool less(const Entry& a, const Entry& b) {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    if (a.seq != b.seq) return a.seq < b.seq;
    return a.thread->slot_index < b.thread->slot_index;
  }
  void place(size_t i, const Entry& e) {
    heap_[i] = e;
    e.thread->ready_index = static_cast<uint32_t>(i);
  }
  void sift_up(size_t i, Entry e);
  void sift_down(size_t i, Entry e);

  Span<Entry> heap_;
  size_t size_ = 0;
};

}  // namespace edgeos

#include "edgeos/schedulers/edf.hpp"

namespace edgeos {

// Moves `e` up from hole `i` until its parent is not after it.
void EdfScheduler::sift_up(size_t i, Entry e) {
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!less(e, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

// Moves `e` down from hole `i` until no child comes before it.
void EdfScheduler::sift_down(size_t i, Entry e) {
  for (;;) {
    const size_t first = i * kArity + 1;
    if (first >= size_) break;
    const size_t last = first + kArity < size_ ? first + kArity : size_;
    size_t best = first;
    for (size_t c = first + 1; c < last; ++c) {
      if (less(heap_[c], heap_[best])) best = c;
    }
    if (!less(heap_[best], e)) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, e);
}

void EdfScheduler::enqueue(Thread& t, Placement /*where: EDF order is total*/) {
  EDGEOS_ASSERT(t.ready_index == kNotQueued);
  EDGEOS_ASSERT(size_ < heap_.size());
  sift_up(size_++, Entry{t.sc->deadline, t.sc->deadline_seq, &t});
}

void EdfScheduler::dequeue(Thread& t) {
  const size_t i = t.ready_index;
  EDGEOS_ASSERT(i < size_ && heap_[i].thread == &t);
  t.ready_index = kNotQueued;
  const Entry last = heap_[--size_];
  if (i == size_) return;
  // The last entry fills the hole, then moves whichever way restores the order.
  if (i > 0 && less(last, heap_[(i - 1) / kArity])) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

bool EdfScheduler::before(const Thread& a, const Thread& b) {
  if (a.sc->deadline != b.sc->deadline) return a.sc->deadline < b.sc->deadline;
  if (a.sc->deadline_seq != b.sc->deadline_seq) return a.sc->deadline_seq < b.sc->deadline_seq;
  return a.slot_index < b.slot_index;
}

bool EdfScheduler::preempts(const Thread& candidate, const Thread& running) const {
  return before(candidate, running);
}

bool EdfScheduler::check() const {
  for (size_t i = 0; i < size_; ++i) {
    const Entry& e = heap_[i];
    if (e.thread == nullptr || e.thread->ready_index != i) return false;
    // The copied key must still be the context's: a deadline changed while queued is a bug.
    if (e.deadline != e.thread->sc->deadline || e.seq != e.thread->sc->deadline_seq) return false;
    if (i > 0 && less(e, heap_[(i - 1) / kArity])) return false;
  }
  return true;
}

}  // namespace edgeos

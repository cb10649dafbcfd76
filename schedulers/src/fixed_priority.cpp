#include "edgeos/schedulers/fixed_priority.hpp"

namespace edgeos {

void FixedPriorityScheduler::enqueue(Thread& t, Placement where) {
  const uint16_t level = t.sc->params.priority;
  t.ready_list.level = level;
  List<ReadyListLink>& list = levels_[level];
  if (where == Placement::kHead) {
    list.push_front(t.ready_list);
  } else {
    list.push_back(t.ready_list);
  }
  const size_t w = level / 64;
  bitmap_[w] |= uint64_t{1} << (level % 64);
  summary_ |= uint64_t{1} << w;
  ++size_;
}

void FixedPriorityScheduler::dequeue(Thread& t) {
  const uint16_t level = t.ready_list.level;
  List<ReadyListLink>& list = levels_[level];
  list.remove(t.ready_list);
  if (list.empty()) {
    const size_t w = level / 64;
    bitmap_[w] &= ~(uint64_t{1} << (level % 64));
    if (bitmap_[w] == 0) summary_ &= ~(uint64_t{1} << w);
  }
  --size_;
}

int FixedPriorityScheduler::top_level() const {
  if (summary_ == 0) return -1;
  const int w = std::bit_width(summary_) - 1;
  return w * 64 + std::bit_width(bitmap_[w]) - 1;
}

Thread* FixedPriorityScheduler::peek() const {
  const int level = top_level();
  return level < 0 ? nullptr : levels_[level].front()->thread;
}

bool FixedPriorityScheduler::preempts(const Thread& candidate, const Thread& running) const {
  // Strictly higher only: an equal-priority thread waits for the running one (FIFO).
  return candidate.sc->params.priority > running.sc->params.priority;
}

bool FixedPriorityScheduler::check() const {
  size_t total = 0;
  uint64_t summary = 0;
  for (size_t level = 0; level < kNumPriorities; ++level) {
    const List<ReadyListLink>& list = levels_[level];
    const bool bit = (bitmap_[level / 64] >> (level % 64)) & 1;
    if (bit == list.empty()) return false;
    bool ok = true;
    list.for_each([&](const ReadyListLink& link) {
      if (link.level != level || link.thread->sc->params.priority != level) ok = false;
    });
    if (!ok) return false;
    total += list.size();
  }
  for (size_t w = 0; w < kWords; ++w) {
    if (bitmap_[w] != 0) summary |= uint64_t{1} << w;
  }
  return total == size_ && summary == summary_;
}

}  // namespace edgeos

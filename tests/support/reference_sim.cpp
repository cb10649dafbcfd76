#include "reference_sim.hpp"

#include <algorithm>
#include <limits>

namespace edgeos::testing {

namespace {

struct JobState {
  bool active = false;      // has a released, incomplete job
  int64_t jobs = 0;         // jobs released so far
  int64_t remaining = 0;
  int64_t release = 0;
  int64_t deadline = 0;
  int64_t seq = 0;          // global release order
  bool deadline_armed = false;
  bool release_armed = false;
  int64_t release_at = 0;
  int64_t slice_start = 0;
};

}  // namespace

RefSchedule reference_schedule(const std::vector<RefTask>& tasks, bool edf, uint32_t cpus, int64_t horizon) {
  RefSchedule out;
  const size_t n = tasks.size();
  std::vector<JobState> st(n);
  int64_t seq = 0;
  for (size_t i = 0; i < n; ++i) {
    st[i].release_armed = true;
    st[i].release_at = tasks[i].phase;
  }
  // Per CPU: the ready list in FIFO order, and the running task (-1: idle).
  std::vector<std::vector<size_t>> ready(cpus);
  std::vector<long> running(cpus, -1);

  auto release = [&](size_t i, int64_t at, int64_t /*now*/) {
    JobState& s = st[i];
    ++s.jobs;
    s.active = true;
    s.remaining = tasks[i].wcet;
    s.release = at;
    s.deadline = at + tasks[i].deadline;
    s.seq = seq++;
    s.deadline_armed = true;
    ready[tasks[i].cpu].push_back(i);
  };
  // True if a should run before b.
  auto better = [&](size_t a, size_t b) {
    if (edf) {
      if (st[a].deadline != st[b].deadline) return st[a].deadline < st[b].deadline;
      if (st[a].seq != st[b].seq) return st[a].seq < st[b].seq;
      return a < b;
    }
    return tasks[a].priority > tasks[b].priority;
  };
  auto close = [&](uint32_t cpu, int64_t now, const char* how) {
    const size_t i = static_cast<size_t>(running[cpu]);
    out.slices.push_back(Slice{tasks[i].name, static_cast<uint64_t>(st[i].jobs - 1), cpu, st[i].slice_start, now, how});
    running[cpu] = -1;
  };

  for (int64_t now = 0; now < horizon; ++now) {
    for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
      // 1. A completion at this instant.
      if (running[cpu] >= 0 && st[running[cpu]].remaining == 0) {
        const size_t i = static_cast<size_t>(running[cpu]);
        out.responses.push_back(Response{tasks[i].name, static_cast<uint64_t>(st[i].jobs - 1), now - st[i].release});
        close(cpu, now, "complete");
        st[i].active = false;
        st[i].deadline_armed = false;
        const int64_t next = tasks[i].phase + tasks[i].period * st[i].jobs;
        if (next <= now) {
          release(i, next, now);
        } else {
          st[i].release_armed = true;
          st[i].release_at = next;
        }
      }
      // 2. Timers up to now, in (instant, task) order. A task's one timer is the deadline of its
      //    incomplete job, or, when it has no job, its next release.
      for (;;) {
        long pick = -1;
        int64_t pick_at = std::numeric_limits<int64_t>::max();
        for (size_t i = 0; i < n; ++i) {
          if (tasks[i].cpu != cpu) continue;
          const bool armed = st[i].active ? st[i].deadline_armed : st[i].release_armed;
          const int64_t at = st[i].active ? st[i].deadline : st[i].release_at;
          if (armed && at <= now && at < pick_at) {
            pick = static_cast<long>(i);
            pick_at = at;
          }
        }
        if (pick < 0) break;
        const size_t i = static_cast<size_t>(pick);
        if (st[i].active) {
          st[i].deadline_armed = false;
          out.misses.push_back(Miss{tasks[i].name, static_cast<uint64_t>(st[i].jobs - 1), now});
        } else {
          st[i].release_armed = false;
          release(i, pick_at, now);
        }
      }
      // 3. One scheduling decision.
      std::vector<size_t>& q = ready[cpu];
      long best = -1;
      for (const size_t i : q) {
        if (best < 0 || better(i, static_cast<size_t>(best))) best = static_cast<long>(i);
      }
      if (best >= 0) {
        const bool idle = running[cpu] < 0;
        if (idle || better(static_cast<size_t>(best), static_cast<size_t>(running[cpu]))) {
          if (!idle) {
            const size_t prev = static_cast<size_t>(running[cpu]);
            close(cpu, now, "preempt");
            q.insert(q.begin(), prev);  // a preempted job resumes ahead of its equals
          }
          q.erase(std::find(q.begin(), q.end(), static_cast<size_t>(best)));
          running[cpu] = best;
          st[best].slice_start = now;
        }
      }
      // 4. Run one unit.
      if (running[cpu] >= 0) --st[running[cpu]].remaining;
    }
  }
  for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
    if (running[cpu] >= 0) close(cpu, horizon, "end");
  }
  std::stable_sort(out.slices.begin(), out.slices.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.cpu < b.cpu;
  });
  return out;
}

}  // namespace edgeos::testing

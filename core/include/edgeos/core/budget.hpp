// Budget enforcement: how each server kind spends and regains CPU time.
//
// The Kernel charges the running thread's scheduling context at every event, arms the platform
// timer for the instant its budget runs out, and calls these functions at the points below. They
// are pure bookkeeping on one SchedContext: no queues, no timers, no trace, so each server's rules
// read in one place. All arithmetic is in integer nanoseconds.
//
// Sporadic server (ServerKind::kSporadic). Sprunt, Sha & Lehoczky, "Aperiodic task scheduling for
// hard real-time systems" (RTS 1989), as corrected by Stanovich, Baker, Wang & González Harbour,
// "Defects of the POSIX sporadic server and how to correct them" (RTAS 2010), in the refill-list
// form of seL4 MCS (Lyons et al., "Scheduling-context capabilities", EuroSys 2018):
//
//      refills (sorted by time, at most max_refills):   [t0, a0] -> [t1, a1] -> ... ; sum = B
//      available(now) = sum of the a_i with t_i <= now   (0 if below the minimum budget)
//
//   Execution happens in *pieces*: from a dispatch to the next switch-out. A piece drains the
//   ready refills in order, and when it ends, the amount it used becomes one new refill at
//   (piece start + period). Because a piece consumes at most one unit of budget per unit of time
//   and returns it one period after it began, no window of one period ever sees more than B of
//   consumption (the sliding-window property; tests check it on random runs). A new refill that
//   does not fit, or is smaller than the minimum budget, is merged into the last one, which then
//   moves to the later of the two times: delaying budget is always safe.
//
// Deferrable server (kDeferrable). Strosnider, Lehoczky & Sha, "The deferrable server algorithm
// for enhanced aperiodic responsiveness in hard real-time environments" (IEEE TC 1995): capacity B
// is restored at every period boundary and kept while the thread is idle.
//
// Polling server (kPolling). Lehoczky, Sha & Strosnider (RTSS 1987), as in Buttazzo, "Hard
// Real-Time Computing Systems", ch. 5: capacity B is restored at a period boundary only if the
// thread has work at that instant; the capacity is discharged as soon as the thread becomes idle.
//
// Under EDF, the deferrable and polling servers' deadline is the end of the current period, and
// the sporadic server's is the instant it became ready plus the period (Ghazalie & Baker,
// "Aperiodic servers in a deadline scheduling environment", RTS 1995).
//
// Constant bandwidth server (kCbs, EDF only). Abeni & Buttazzo, "Integrating multimedia
// applications in hard real-time systems" (RTSS 1998), with the wake-up rule of Linux
// SCHED_DEADLINE (Documentation/scheduler/sched-deadline.rst): when the thread gains work, if
// its deadline has passed or remaining / (deadline - now) > Q / T, the deadline becomes now + T
// and the budget is refilled to Q. When the budget runs out it is refilled at once and the
// deadline postponed by T (the original, "soft" CBS; SCHED_DEADLINE's throttling until the
// deadline is not implemented).
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos {

// Initial budget state of a context whose first period starts at `origin`.
void budget_init(SchedContext& sc, Instant origin);

// Rolls deferrable and polling periods forward so that `now` lies in the current one. Crossed
// boundaries restore the capacity (polling: only when `has_work`). Returns the amount restored.
Duration budget_roll(SchedContext& sc, Instant now, bool has_work);

// Budget usable from `now` on; Duration::infinite() for contexts without a budget.
Duration budget_available(const SchedContext& sc, Instant now, Duration min_budget);

// When the budget runs out if the thread runs from `now` on: now + budget_available(...), or never
// for contexts without a budget.
Instant budget_exhaustion(const SchedContext& sc, Instant now, Duration min_budget);

// Whether budget_available(sc, now, min_budget) > 0, answered from the head refill when it
// suffices (the common case: the check runs at every event of a budgeted thread).
bool budget_has(const SchedContext& sc, Instant now, Duration min_budget);

// The thread gains work at `now`: a job released while it was idle (`from_idle`), or a wake-up
// within a job. Applies the CBS wake-up rule and the polling server's idle-period rule. `arrival`
// is when the work arrived (the job's release; `now` for a wake-up): a backend learns of an
// arrival a little after it happens (the kernel's interrupt path), and a polling server polls for
// the work that has arrived, not for the work it has heard of.
void budget_activate(SchedContext& sc, Instant now, bool from_idle, Instant arrival);

// The thread becomes ready with budget at `now`: sets the server's EDF deadline.
void budget_ready(SchedContext& sc, Instant now);

// A piece of execution starts at `now`.
void budget_dispatch(SchedContext& sc, Instant now);

// `used` of CPU time was consumed by the running thread.
void budget_charge(SchedContext& sc, Duration used);

// The piece that started at the last dispatch ends at `now` (preemption, block, completion,
// exhaustion, death): the sporadic server schedules its refill.
void budget_stop(SchedContext& sc, Instant now, Duration min_budget);

// The thread has no more work: the polling server discharges its capacity.
void budget_idle(SchedContext& sc);

// The budget ran out while the thread still has work. CBS refills and postpones its deadline and
// returns the amount refilled; the others return zero (the thread is throttled).
Duration budget_postpone(SchedContext& sc);

// When a throttled context has budget again (at least the minimum budget), or never.
Instant budget_next_replenish(const SchedContext& sc, Instant now, Duration min_budget);

// Deferrable and polling: the next period boundary (their timer while the thread has work).
Instant budget_period_end(const SchedContext& sc);

// Structural checks of the budget state: refills sorted and positive, the sporadic server's
// budget conserved (refills + current piece = B), capacities within [0, B]. For invariant checks.
bool budget_check(const SchedContext& sc);

// --- definitions -----------------------------------------------------------------------------
// Inline: several of these run at every scheduling event of a budgeted thread, and as calls into
// another translation unit they cost as much as the bookkeeping itself.

namespace budget_detail {

// Ring position of the i-th pending refill, counting from the head. The ring is always
// kMaxRefills entries, a power of two, whatever the context's bound on pending refills
// (max_refills bounds refill_count only): a mask wraps it, with nothing loaded from the context.
// This runs several times per scheduling event.
static_assert((kMaxRefills & (kMaxRefills - 1)) == 0, "the refill ring wraps by masking");
inline uint8_t ring_index(const SchedContext& sc, uint8_t i) {
  return static_cast<uint8_t>((unsigned{sc.refill_head} + i) & (kMaxRefills - 1u));
}
inline Refill& refill(SchedContext& sc, uint8_t i) { return sc.refills[ring_index(sc, i)]; }
inline const Refill& refill(const SchedContext& sc, uint8_t i) { return sc.refills[ring_index(sc, i)]; }

inline void pop_head(SchedContext& sc) {
  sc.refill_head = ring_index(sc, 1);
  --sc.refill_count;
}

// Adds `amount` usable from `time`. Refills are created in time order (each at the start of a
// later piece plus the period), so appending keeps the list sorted. A refill that would overflow
// the list or is below the minimum budget is merged into the last one, which moves to the later
// time: the merged budget only ever becomes available later than it would have, never earlier.
inline void schedule_refill(SchedContext& sc, Instant time, Duration amount, Duration min_budget) {
  ++sc.replenishments;
  if (sc.refill_count > 0) {
    Refill& tail = refill(sc, static_cast<uint8_t>(sc.refill_count - 1));
    if (sc.refill_count == sc.params.max_refills || amount < min_budget || time <= tail.time) {
      tail.time = max(tail.time, time);
      tail.amount.accumulate(amount);
      return;
    }
  }
  ++sc.refill_count;
  refill(sc, static_cast<uint8_t>(sc.refill_count - 1)) = Refill{time, amount};
}

inline bool is_periodic_server(const SchedContext& sc) {
  return sc.params.server == ServerKind::kDeferrable || sc.params.server == ServerKind::kPolling;
}

}  // namespace budget_detail

inline void budget_init(SchedContext& sc, Instant origin) {
  const Duration b = sc.params.budget;
  switch (sc.params.server) {
    case ServerKind::kNone:
      break;
    case ServerKind::kSporadic:
      sc.refill_head = 0;
      sc.refill_count = 1;
      sc.refills[0] = Refill{origin, b};
      sc.piece_start = origin;
      sc.piece_used = Duration::zero();
      break;
    case ServerKind::kDeferrable:
      sc.period_start = origin;
      sc.capacity = b;
      break;
    case ServerKind::kPolling:
      // Restored only if the thread has work at the start of a period (budget_activate).
      sc.period_start = origin;
      sc.capacity = Duration::zero();
      break;
    case ServerKind::kCbs:
      // An expired deadline: the first activation takes the wake-up rule's reset.
      sc.capacity = Duration::zero();
      sc.deadline = origin;
      break;
  }
}

inline Duration budget_roll(SchedContext& sc, Instant now, bool has_work) {
  if (!budget_detail::is_periodic_server(sc)) return Duration::zero();
  const Duration t = sc.params.period;
  if (now < sc.period_start + t) return Duration::zero();
  sc.period_start = sc.period_start + t * ((now - sc.period_start) / t);
  const Duration before = sc.capacity;
  const bool restore = sc.params.server == ServerKind::kDeferrable || has_work;
  sc.capacity = restore ? sc.params.budget : Duration::zero();
  if (sc.capacity <= before) return Duration::zero();
  ++sc.replenishments;
  return sc.capacity - before;
}

EDGEOS_HOT_INLINE Duration budget_available(const SchedContext& sc, Instant now, Duration min_budget) {
  Duration available = Duration::zero();
  switch (sc.params.server) {
    case ServerKind::kNone:
      return Duration::infinite();
    case ServerKind::kSporadic:
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = budget_detail::refill(sc, i);
        if (r.time > now) break;
        available.accumulate(r.amount);
      }
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      available = sc.capacity;
      break;
  }
  return available < min_budget ? Duration::zero() : available;
}

EDGEOS_HOT_INLINE Instant budget_exhaustion(const SchedContext& sc, Instant now, Duration min_budget) {
  if (!sc.has_budget()) return Instant::never();
  return now.plus_finite(budget_available(sc, now, min_budget));  // a server's budget is finite
}

EDGEOS_HOT_INLINE bool budget_has(const SchedContext& sc, Instant now, Duration min_budget) {
  if (sc.params.server == ServerKind::kSporadic && sc.refill_count > 0) {
    const Refill& head = budget_detail::refill(sc, 0);
    if (head.time <= now && head.amount > Duration::zero() && head.amount >= min_budget) return true;
  }
  return budget_available(sc, now, min_budget) > Duration::zero();
}

EDGEOS_HOT_INLINE void budget_activate(SchedContext& sc, Instant now, bool from_idle, Instant arrival) {
  switch (sc.params.server) {
    case ServerKind::kCbs: {
      // remaining / (deadline - now) > Q / T  <=>  remaining * T > (deadline - now) * Q, exactly.
      const Duration q = sc.params.budget;
      const Duration t = sc.params.period;
      const bool expired = sc.deadline <= now;
      const bool overflow = !expired && static_cast<int128_t>(sc.capacity.ns()) * t.ns() >
                                            static_cast<int128_t>((sc.deadline - now).ns()) * q.ns();
      if (expired || overflow) {
        sc.deadline = now + t;
        sc.capacity = q;
      }
      break;
    }
    case ServerKind::kPolling:
      if (from_idle) {
        // Boundaries crossed while idle found no work: their capacity was discharged. Work that
        // arrived exactly at the last boundary (or, heard of late, before it) is there when the
        // server polls.
        budget_roll(sc, now, /*has_work=*/false);
        if (arrival <= sc.period_start) sc.capacity = sc.params.budget;
      } else {
        budget_roll(sc, now, /*has_work=*/true);
      }
      break;
    case ServerKind::kDeferrable:
      budget_roll(sc, now, /*has_work=*/true);
      break;
    case ServerKind::kNone:
    case ServerKind::kSporadic:
      break;
  }
}

inline void budget_ready(SchedContext& sc, Instant now) {
  switch (sc.params.server) {
    case ServerKind::kSporadic:
      sc.deadline = now.plus_finite(sc.params.period);
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
      sc.deadline = sc.period_start + sc.params.period;
      break;
    case ServerKind::kNone:
    case ServerKind::kCbs:
      break;
  }
}

EDGEOS_HOT_INLINE void budget_dispatch(SchedContext& sc, Instant now) {
  if (sc.params.server == ServerKind::kSporadic) {
    sc.piece_start = now;  // piece_used is zero between pieces: budget_init and budget_stop leave it so
  }
}

EDGEOS_HOT_INLINE void budget_charge(SchedContext& sc, Duration used) {
  switch (sc.params.server) {
    case ServerKind::kNone:
      break;
    case ServerKind::kSporadic:
      // Drain the ready refills in order. The kernel's budget timer stops the thread when they are
      // used up; anything beyond (a late timer on real hardware) is not taken from later refills.
      while (used > Duration::zero() && sc.refill_count > 0) {
        Refill& head = budget_detail::refill(sc, 0);
        const Duration take = min(head.amount, used);
        head.amount.deduct(take);  // finite: a server's amounts add up to its finite budget
        used.deduct(take);
        sc.piece_used.accumulate(take);
        if (head.amount == Duration::zero()) budget_detail::pop_head(sc);
      }
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      sc.capacity = used >= sc.capacity ? Duration::zero() : sc.capacity - used;
      break;
  }
}

EDGEOS_HOT_INLINE void budget_stop(SchedContext& sc, Instant now, Duration min_budget) {
  if (sc.params.server != ServerKind::kSporadic) return;
  if (sc.piece_used > Duration::zero()) {
    budget_detail::schedule_refill(sc, sc.piece_start.plus_finite(sc.params.period), sc.piece_used, min_budget);
    sc.piece_used = Duration::zero();
  }
  // A ready remainder below the minimum budget would only buy a uselessly short run: fold it
  // into the next refill (later, so safe).
  if (sc.refill_count >= 2) {
    Refill& head = budget_detail::refill(sc, 0);
    if (head.time <= now && head.amount < min_budget) {
      budget_detail::refill(sc, 1).amount.accumulate(head.amount);
      budget_detail::pop_head(sc);
    }
  }
}

inline void budget_idle(SchedContext& sc) {
  if (sc.params.server == ServerKind::kPolling) sc.capacity = Duration::zero();
}

inline Duration budget_postpone(SchedContext& sc) {
  if (sc.params.server != ServerKind::kCbs) return Duration::zero();
  const Duration refilled = sc.params.budget - sc.capacity;
  ++sc.replenishments;
  sc.capacity = sc.params.budget;
  sc.deadline = sc.deadline + sc.params.period;
  return refilled;
}

inline Instant budget_next_replenish(const SchedContext& sc, Instant now, Duration min_budget) {
  switch (sc.params.server) {
    case ServerKind::kSporadic: {
      // The first instant at which the refills ready by then add up to the minimum budget.
      Duration sum = Duration::zero();
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = budget_detail::refill(sc, i);
        sum += r.amount;
        if (sum >= min_budget) return max(r.time, now);
      }
      return Instant::never();
    }
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
      return budget_period_end(sc);
    case ServerKind::kNone:
    case ServerKind::kCbs:
      break;
  }
  return Instant::never();
}

inline Instant budget_period_end(const SchedContext& sc) { return sc.period_start + sc.params.period; }


}  // namespace edgeos

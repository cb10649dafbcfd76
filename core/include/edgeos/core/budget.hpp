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

// The thread gains work at `now`: a job released while it was idle (`from_idle`), or a wake-up
// within a job. Applies the CBS wake-up rule and the polling server's idle-period rule.
void budget_activate(SchedContext& sc, Instant now, bool from_idle);

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

}  // namespace edgeos

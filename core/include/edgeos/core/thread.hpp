// Threads: the unit the schedulers order. A thread lives in one FWP (its protection domain), is
// bound to one scheduling context and, with partitioned scheduling, to one CPU.
//
// A thread runs a sequence of jobs. A *periodic* thread's jobs are released by the kernel's timer
// at first_release + k * period; a *sporadic* thread's jobs are released by an external event
// (an arrival, an interrupt, a notification). Each job has an absolute deadline, release +
// relative_deadline; the kernel reports a miss at that instant if the job has not completed.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/ipc.hpp"
#include "edgeos/core/list.hpp"
#include "edgeos/core/object_table.hpp"
#include "edgeos/core/rbtree.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos {

struct Fwp;

enum class ThreadState : uint8_t {
  kWaiting,  // no current job: waiting for its next release
  kReady,    // has a job, in its CPU's ready queue
  kRunning,  // has a job, current on its CPU
  kBlocked,    // has a job, blocked (IPC, notification, I/O)
  kThrottled,  // has a job, runnable, but its scheduling context is out of budget
};

const char* thread_state_name(ThreadState s);

enum class ReleaseKind : uint8_t {
  kPeriodic,  // released by the kernel timer every `period`
  kSporadic,  // released by `Kernel::release` (external arrivals)
};

struct ThreadParams {
  FwpId fwp;
  CpuId cpu = 0;
  SchedParams sched;
  ReleaseKind release = ReleaseKind::kPeriodic;
  // Periodic: the release separation. Sporadic: the declared minimum inter-arrival time (used by
  // analysis; the kernel does not police it, budgets do).
  Duration period = Duration::infinite();
  // Job deadline relative to release; infinite for jobs without a deadline.
  Duration relative_deadline = Duration::infinite();
  // Periodic: the first release (phase).
  Instant first_release = Instant::epoch();
};

// A thread's timer entry (TimerEntry, sched_context.hpp) means what the thread's state says:
// while the thread has an incomplete job it is that job's deadline (so a miss is reported when it
// happens); while a periodic thread waits it is its next release. A thread never needs both at
// once, and with implicit deadlines (D = T) they are the same instant: a job that completes in
// time leaves the entry where it is, for the next release.

// Hooks a scheduling policy may use to queue the thread; a thread is on at most one ready queue.
// Policies with FIFO levels use the list link; array-based queues (heaps) keep the thread's
// position in `ready_index`.
struct ReadyListLink : ListNode {
  Thread* thread = nullptr;
  uint16_t level = 0;
};

inline constexpr uint32_t kNotQueued = 0xffff'ffffu;

struct FwpMemberLink : ListNode {
  Thread* thread = nullptr;
};

struct Thread : Slot {
  Fwp* fwp = nullptr;     // its home: the tenant it belongs to and whose accounting it carries
  Fwp* domain = nullptr;  // where it executes now: its home, or the callee of its last call
  SchedContext* sc = nullptr;
  CpuId cpu = 0;
  ThreadState state = ThreadState::kWaiting;
  ReleaseKind release_kind = ReleaseKind::kPeriodic;
  Duration period = Duration::infinite();
  Duration relative_deadline = Duration::infinite();
  Instant first_release = Instant::epoch();

  // The current job (or, in kWaiting, the last one).
  uint64_t jobs_released = 0;  // the current job's index is jobs_released - 1
  Instant release = Instant::never();
  Instant deadline = Instant::never();
  Duration job_exec = Duration::zero();  // CPU time the current job has used
  bool job_started = false;              // dispatched at least once: start vs resume
  bool job_missed = false;               // a deadline miss was reported for it

  // Totals.
  Duration exec_total = Duration::zero();
  uint64_t jobs_completed = 0;
  uint64_t deadline_misses = 0;

  // Synchronous invocation: the calls it is in the middle of.
  InvocationFrame frames[kMaxCallDepth];
  uint8_t call_depth = 0;
  bool call_aborted = false;  // its last call ended because the callee was terminated

  // Notifications: the one it is blocked on, and the one bound to release its jobs.
  WaitLink wait;
  Notification* waiting_on = nullptr;
  Notification* bound_notification = nullptr;

  // Links.
  TimerEntry timer;
  ReadyListLink ready_list;
  uint32_t ready_index = kNotQueued;
  FwpMemberLink member;

  bool has_job() const { return state != ThreadState::kWaiting; }
  uint64_t job() const { return jobs_released == 0 ? 0 : jobs_released - 1; }
};

}  // namespace edgeos

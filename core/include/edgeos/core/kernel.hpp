// The Kernel: edgeos's event state machine, the same on every backend.
//
// A backend feeds the kernel events — a timer expired, a job was released, the running job
// completed, blocked or was woken — and the kernel updates its state and tells the backend, through
// the Platform contract (platform.hpp), which thread runs on each CPU and when the next timer must
// fire. Nothing here knows whether it is simulated.
//
// Every event follows the same steps on the CPU it concerns:
//   1. account   charge the time since the last event on that CPU to the running thread and its
//                scheduling context (budget.hpp);
//   2. handle    apply the event (a completion is recorded before anything else happens at the
//                same instant, so a job that completes exactly at its deadline meets it);
//   3. budget    if the running thread's budget is used up, throttle it (or, for CBS, refill and
//                postpone its deadline);
//   4. expire    process the CPU's timer queue up to now: replenishments first, then each
//                thread's single entry, its job's deadline (a miss) or its next release, in
//                (instant, thread) order;
//   5. schedule  ask the CPU's policy for the best ready thread, preempt if it beats the running
//                one, dispatch, and re-arm the platform timer for the earliest of the timer queue
//                and the running thread's budget exhaustion.
//
// Scheduling is partitioned by default: each thread belongs to one CPU, each CPU has its own
// policy instance and timer queue, and an event touches only its thread's CPU (FWP termination
// touches each CPU that ran one of its threads).
//
// A backend may instead group CPUs into scheduling *domains* (KernelStorage::domains): global
// scheduling is one domain of all the CPUs of a server, clustered scheduling a domain per cluster,
// and partitioned scheduling a domain per CPU (the default, whose behaviour and traces do not
// change). The CPUs of a domain share one policy instance (one ready queue) and one timer queue,
// both kept by the domain's *leader*, its lowest-numbered CPU, whose platform timer fires for the
// domain's releases, deadlines and replenishments; a budget timer stays with the CPU that runs the
// budgeted thread. Any event on a CPU of a domain takes one decision for the whole domain: it runs
// the m highest-precedence ready threads of the domain on its m CPUs (G-EDF, G-FP, ...). In order:
//   - while the best ready thread exists: if a CPU of the domain is idle, it runs there: on the CPU
//     it last ran on if that one is idle, else on the lowest-numbered idle CPU; otherwise it
//     preempts the CPU running the domain's lowest-precedence thread if it beats that thread
//     (the lowest-numbered such CPU among equals), else the decision ends;
//   - precedence is the policy's: its `preempts` order (EDF: deadline, then when the deadline was
//     set, then thread index; FP: priority, FIFO within a level, a running thread keeps its CPU
//     against an equal).
// A thread that resumes on another CPU than the one it last ran on is traced as `migrate` (cpu =
// destination, value = source) just before its `resume`. Its scheduling context goes with it:
// budgets are charged on whichever CPU runs it, and servers keep their semantics. The kernel
// backend drives a domain as the simulators do: the platform's switch_to may name another CPU
// than the one whose event is being handled (an IPI on hardware).
//
// All storage comes from the backend at construction (KernelStorage); nothing here allocates,
// throws, or uses floating point.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/budget.hpp"
#include "edgeos/core/fwp.hpp"
#include "edgeos/core/ipc.hpp"
#include "edgeos/core/object_table.hpp"
#include "edgeos/core/platform.hpp"
#include "edgeos/core/rbtree.hpp"
#include "edgeos/core/result.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/scheduler.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos {

// Per-CPU kernel state.
struct CpuState {
  CpuId id = 0;
  // Its scheduling domain: the leader (lowest-numbered CPU of the domain, this CPU when
  // partitioned), the next CPU of the domain in increasing order (kNoCpu after the last), and
  // whether the domain has more than one CPU. `sched` is the leader's policy instance.
  CpuId leader = 0;
  CpuId next_in_domain = kNoCpu;
  bool shared = false;
  Scheduler* sched = nullptr;
  bool by_deadline = false;  // sched->orders_by_deadline(), fixed for the policy
  // The thread running now: it has a job and is in state kRunning. nullptr: idle.
  Thread* current = nullptr;
  // What the platform was last told to run (switch_to), to skip redundant idle switches.
  Thread* dispatched = nullptr;
  // The timer queue of the domain: used by the leader only, empty on the other CPUs of a domain.
  RbTree<TimerEntry, TimerLess> timers;
  // When the running thread's budget runs out, if it has one.
  Instant budget_expiry = Instant::never();
  Instant armed = Instant::never();  // what the platform timer is armed for
  bool resched_pending = false;      // set by operations that touch several CPUs

  // CPU-time accounting. At every event: busy + idle == accounted_to - accounting_start, and
  // busy == the CPU time charged to the threads on this CPU (live ones, plus `retired` for those
  // destroyed). The invariant checker verifies both.
  Instant accounting_start = Instant::epoch();
  Instant accounted_to = Instant::epoch();
  Duration busy = Duration::zero();
  Duration idle = Duration::zero();
  Duration retired = Duration::zero();
};

// The memory the kernel runs in, provided once by the backend. The sizes of the spans are the
// kernel's capacities; `schedulers` has one policy instance per CPU (same size as `cpus`).
struct KernelStorage {
  Span<CpuState> cpus;
  Span<Scheduler* const> schedulers;
  Span<Thread> threads;
  Span<SchedContext> sched_contexts;
  Span<Fwp> fwps;
  Span<FwpTemplate> templates;
  Span<Notification> notifications;  // may be empty: no notifications
  Span<Ring> rings;                  // may be empty: no rings
  // Scheduling domains: for each CPU, the lowest-numbered CPU of its domain (so domains[l] == l
  // for a leader, and domains[i] <= i). Empty: every CPU is its own domain (partitioned). The CPUs
  // of a domain use the leader's scheduler; the other CPUs' entries of `schedulers` are unused
  // and may be nullptr.
  Span<const CpuId> domains = {};
};

struct KernelOptions {
  // Check every invariant after every event and panic on a violation. O(threads) per event: on
  // by default in debug builds, and in every test.
  bool check_invariants = kDebugBuild;
  // The smallest budget worth running on (seL4 MCS sets it from the kernel's worst-case
  // execution time): budgets below it are refused, smaller remainders are folded into later
  // refills or left unused.
  Duration min_budget = Duration::microseconds(1);
};

// The first broken invariant found, or `what == nullptr` when all hold.
struct InvariantViolation {
  const char* what = nullptr;
  uint32_t cpu = kNoIndex;
  uint32_t thread = kNoIndex;

  bool ok() const { return what == nullptr; }
};

template <Platform P>
class Kernel {
 public:
  Kernel(P& platform, const KernelStorage& storage, KernelOptions options = {});
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // --- FWP templates and FWPs (see fwp.hpp for the life cycle) -------------------------------

  Result<TemplateId> template_create(const TemplateParams& params);
  // Instantiates a new FWP from the template (the slow path). The FWP is Idle.
  Result<FwpId> fwp_create(TemplateId tmpl);
  // Instantiates `count` FWPs into the template's pool (at most its pool_limit in all).
  Status fwp_prefill(TemplateId tmpl, uint32_t count);
  // Idle -> Active.
  Status fwp_activate(FwpId fwp);
  // Takes an FWP from the template's pool (O(1)), or creates one if the pool is empty, and
  // activates it: the fast path a manager uses to start a tenant.
  Result<FwpId> fwp_spawn(TemplateId tmpl);
  // Destroys the FWP's threads and marks it Dying; it is recycled into its template's pool (or
  // released) once nothing references it.
  Status fwp_terminate(FwpId fwp);
  // Holds the FWP's id valid (its slot is not reused) until the matching release.
  Status fwp_retain(FwpId fwp);
  Status fwp_release(FwpId fwp);

  // --- threads --------------------------------------------------------------------------------

  // Creates a thread, and its scheduling context, in an Active FWP. A periodic thread's first
  // release is armed on its CPU's timer; a sporadic thread waits for `release`. A server's
  // periods start at `first_release`. Errors: kInvalidArgument (see validate() and the fields of
  // ThreadParams; a budget below the minimum budget), kUnsupported (CBS on a CPU whose policy does
  // not order by deadline), kOutOfCapacity, and the FWP lookup errors.
  Result<ThreadId> thread_create(const ThreadParams& params);

  // --- capabilities (ipc.hpp) --------------------------------------------------------------------

  // Each returns the slot of `holder`'s capability table that now holds the capability, or
  // kOutOfCapacity when the table is full. A ring has one producer and one consumer FWP: granting
  // the other end to a second FWP fails with kBusy.
  Result<CapSlot> grant_invoke(FwpId holder, FwpId callee);
  Result<CapSlot> grant_notification(FwpId holder, NotificationId n, CapKind kind);  // send or receive
  Result<CapSlot> grant_ring(FwpId holder, RingId r, CapKind kind);                  // send or receive
  Status revoke(FwpId holder, CapSlot slot);

  // --- synchronous invocation -------------------------------------------------------------------

  // The running thread calls, through capability `slot` of the domain it executes in, into
  // another FWP: it continues there on its own scheduling context. Errors (nothing changes):
  // kBadState (thread not running, callee not active), kInvalidArgument (slot out of range),
  // kDenied (no invoke capability there), kStale/kNotFound (callee gone), kOutOfCapacity (calls
  // nested kMaxCallDepth deep).
  Status call(ThreadId thread, CapSlot slot);
  // Returns from the innermost call to the domain it was made from. kBadState if not in a call.
  Status reply(ThreadId thread);

  // --- notifications ------------------------------------------------------------------------------

  Result<NotificationId> notification_create();
  // Binds a notification to a sporadic thread: each signal releases one of its jobs (counted while
  // the thread is busy, released as it completes).
  Status notification_bind(NotificationId n, ThreadId thread);
  // The running thread signals through capability `slot` (kNotifySend).
  Status notify(ThreadId sender, CapSlot slot);
  // Signals each of `ns` at one instant, by the notifications' ids, then takes one scheduling
  // decision: for a backend that holds the authority itself (the x86-64 kernel's driver FWP
  // releases the tenants it delivered a batch of datagrams to, kernel_backend/README.md).
  // kNotFound / kStale, signalling none, if any id is not a live notification.
  Status notify_ids(ThreadId sender, Span<const NotificationId> ns);
  // Signal from interrupt context: no running thread needed.
  Status notify_irq(NotificationId n);
  // The running thread waits through capability `slot` (kNotifyReceive): true if a signal was
  // pending and consumed at once; false if the thread blocked until the next signal.
  Result<bool> wait(ThreadId receiver, CapSlot slot);

  // --- rings ------------------------------------------------------------------------------------

  // A ring of `slots` slots of up to `slot_size` bytes in `storage` (at least
  // slots * (4 + slot_size) bytes, kept by the caller for the ring's life), signalling `notify`
  // (if valid) when a payload lands in an empty ring.
  Result<RingId> ring_create(Span<uint8_t> storage, uint32_t slot_size, uint32_t slots,
                             NotificationId notify = NotificationId{});
  // Copies `len` bytes from `data` into the ring through capability `slot` (kRingSend) of the
  // running thread's domain. kWouldBlock if the ring is full (nothing is overwritten),
  // kInvalidArgument if `len` exceeds the slot size. (The kernel backend validates user pointers
  // before calling; `data` is kernel-readable here.)
  Status ring_send(ThreadId sender, CapSlot slot, const void* data, size_t len);
  // Copies the oldest payload into `buf` (capacity `cap`) and returns its length. kWouldBlock if
  // the ring is empty; kInvalidArgument, consuming nothing, if the payload does not fit.
  Result<size_t> ring_receive(ThreadId receiver, CapSlot slot, void* buf, size_t cap);
  // ring_send and ring_receive by the ring's id, for a backend that holds the authority itself
  // (see notify_id).
  Status ring_send_id(ThreadId sender, RingId ring, const void* data, size_t len);
  Result<size_t> ring_receive_id(ThreadId receiver, RingId ring, void* buf, size_t cap);
  Result<const Ring*> ring(RingId id) const;

  // --- events ---------------------------------------------------------------------------------

  // A job of sporadic thread `thread` arrived at `arrival` (<= now). kBusy if its previous job
  // has not completed: the caller queues arrivals, as a device driver would. A request may carry
  // its own relative `deadline` (> 0), which then replaces the thread's for this job, for miss
  // detection and for a plain context's EDF deadline.
  Status release(ThreadId thread, Instant arrival, Duration deadline = Duration::zero());
  // The running thread completed its job ("wait for next release"). A sporadic thread whose next
  // job already arrived (a server that finds another request queued) passes its arrival time as
  // `next_arrival` (<= now), and optionally its deadline, and continues with that job in the
  // same event.
  Status complete(ThreadId thread, Instant next_arrival = Instant::never(), Duration next_deadline = Duration::zero());
  // The running thread blocks; `wakeup` makes it ready again.
  Status block(ThreadId thread);
  Status wakeup(ThreadId thread);
  // The running thread gives its CPU to a ready thread of equal or higher precedence, going
  // behind its equals (POSIX sched_yield); without one it keeps running. Traced as a preemption.
  Status yield(ThreadId thread);
  // The platform timer of `cpu` fired.
  void timer_expired(CpuId cpu);
  // Charges the time up to now on every CPU, e.g. at the end of a run before reading totals.
  void sync();
  // Starts the CPU-time accounting afresh at the platform's now, for a backend whose clock
  // restarts once the scenario's objects exist (the x86-64 kernel makes that moment time zero).
  // Only before any thread has run.
  void restart_accounting();

  // --- observation ------------------------------------------------------------------------------

  size_t num_cpus() const { return cpus_.size(); }
  const CpuState& cpu(CpuId id) const { return cpus_[id]; }
  const Thread* current(CpuId id) const { return cpus_[id].current; }
  Result<const Thread*> thread(ThreadId id) const;
  Result<const Fwp*> fwp(FwpId id) const;
  ThreadId thread_id(const Thread& t) const { return threads_.id_of(t); }
  FwpId fwp_id(const Fwp& f) const { return fwps_.id_of(f); }
  TemplateId template_id(const FwpTemplate& t) const { return templates_.id_of(t); }
  size_t live_threads() const { return threads_.live(); }
  size_t live_fwps() const { return fwps_.live(); }
  size_t thread_capacity() const { return threads_.capacity(); }
  const KernelOptions& options() const { return options_; }

  // Checks every invariant of the kernel's state, O(threads + FWPs).
  InvariantViolation check_invariants() const;

 private:
  Result<Thread*> lookup_thread(ThreadId id) const { return threads_.lookup(id); }
  // The thread, if it is the one running on its CPU (what every call a thread makes on its own
  // behalf requires); kBadState otherwise.
  Result<Thread*> lookup_running(ThreadId id) const {
    Result<Thread*> r = threads_.lookup(id);
    if (r && (*r)->state != ThreadState::kRunning) return Error::kBadState;
    return r;
  }

  void account(CpuState& c, Instant now);
  // The start of an event on thread `t`'s CPU: that CPU's time accounted up to `now` (the
  // platform's clock, or the instant the event read to check its arguments). Every event ends with
  // finish_event on the CPUs it changed, or finish_invocation.
  struct EventCpu {
    CpuState& c;
    Instant now;
  };
  EventCpu begin_event(const Thread& t) { return begin_event(t, platform_.now()); }
  EventCpu begin_event(const Thread& t, Instant now) {
    CpuState& c = cpus_[t.cpu];
    account(c, now);
    return EventCpu{c, now};
  }
  void release_job(CpuState& c, Thread& t, Instant release, Instant now, bool from_idle,
                   Duration deadline = Duration::zero());
  void make_runnable(CpuState& c, Thread& t, Instant now);
  void finish_job(CpuState& c, Thread& t, Instant now, Instant next_arrival, Duration next_deadline);
  void stop_running(CpuState& c, Thread& t, Instant now);
  void check_budget(CpuState& c, Instant now);
  void expire_timers(CpuState& c, Instant now);
  void context_timer(CpuState& c, SchedContext& sc, Instant now);
  void reschedule(CpuState& c, Instant now);
  void reschedule_domain(CpuState& c, Instant now);
  void preempt(CpuState& c, Thread& by, Instant now);
  void dispatch(CpuState& c, Thread& t, Instant now);
  void finish_domain_event(CpuState& c, Instant now, bool leader_timer);
  RbTree<TimerEntry, TimerLess>& timer_queue(CpuState& c) { return cpus_[c.leader].timers; }
  void set_timer(CpuState& c, TimerEntry& e, Instant when);
  void clear_timer(CpuState& c, TimerEntry& e);
  void sync_context_timer(CpuState& c, const Thread& t, Instant now);
  Instant wanted_context_timer(const Thread& t, Instant now) const;
  void update_timer(CpuState& c);
  void new_deadline(SchedContext& sc, Instant deadline);
  void kill_thread(Thread& t, Instant now);
  void maybe_recycle(Fwp& f);
  Result<Fwp*> create_fwp(FwpTemplate& tmpl);
  void activate(Fwp& f);
  void finish_event(CpuState& c, Instant now);
  Result<CapSlot> grant(Fwp& holder, Capability cap);
  Result<Fwp*> domain_cap(Thread& t, CapSlot slot, CapKind kind, Capability* out);
  void unwind_calls(Thread& t, uint8_t to_depth, Instant now);
  CpuState* signal(Notification& n, Instant now);
  void signal_and_finish(CpuState& c, Notification& n, Instant now);
  Status ring_put(Thread& t, Ring& ring, const void* data, size_t len);
  Result<size_t> ring_take(Ring& ring, void* buf, size_t cap);
  void wake(CpuState& c, Thread& t, Instant now);
  void detach_rings(Fwp& f);

  void emit(Instant now, const CpuState& c, const Thread& t, TraceEvent e, int64_t value) {
    TraceRecord r;
    r.time_ns = now.ns();
    r.value = value;
    r.job = t.job();
    r.fwp = t.fwp->slot_index;
    r.thread = t.slot_index;
    // The thread's CPU: the one it runs or last ran on. Partitioned, that is always `c`; in a
    // domain, events handled by the leader's timer queue are recorded on the thread's CPU.
    r.cpu = static_cast<uint16_t>(t.cpu);
    (void)c;
    r.event = e;
    platform_.trace(r);
  }
  void emit_global(Instant now, uint32_t fwp, TraceEvent e, int64_t value) {
    TraceRecord r;
    r.time_ns = now.ns();
    r.value = value;
    r.fwp = fwp;
    r.cpu = kNoCpu;
    r.event = e;
    platform_.trace(r);
  }
  void emit_fwp(Instant now, const Fwp& f, TraceEvent e) {
    TraceRecord r;
    r.time_ns = now.ns();
    r.value = f.tmpl->slot_index;
    r.fwp = f.slot_index;
    r.cpu = kNoCpu;
    r.event = e;
    platform_.trace(r);
  }
  // The end of a call or reply: the thread keeps its CPU and its scheduling context (the caller
  // pays), so no ready queue, priority, deadline or timer changed and there is no decision to
  // take. Timers or a budget running out at this very instant are the timer's event, which comes
  // next at the same instant (the simulator orders a segment's end before a timer at the same
  // instant; on hardware the interrupt is pending): the same records in the same order as if
  // this event had looked (the golden traces check it). This is the invocation fast path.
  void finish_invocation() { debug_check(); }
  void debug_check() const {
    if (options_.check_invariants) {
      const InvariantViolation v = check_invariants();
      if (!v.ok()) panic(v.what, __FILE__, __LINE__);
    }
  }

  P& platform_;
  KernelOptions options_;
  Span<CpuState> cpus_;
  ObjectTable<Thread, ThreadId> threads_;
  ObjectTable<SchedContext, ScId> scs_;
  ObjectTable<Fwp, FwpId> fwps_;
  ObjectTable<FwpTemplate, TemplateId> templates_;
  ObjectTable<Notification, NotificationId> notifications_;
  ObjectTable<Ring, RingId> rings_;
  // Orders equal EDF deadlines by when they were set; global so the order is total.
  uint64_t next_deadline_seq_ = 0;
};

// ===============================================================================================
// Implementation. A template because the Platform is chosen at compile time per backend; each
// backend instantiates it once.
// ===============================================================================================

template <Platform P>
Kernel<P>::Kernel(P& platform, const KernelStorage& storage, KernelOptions options)
    : platform_(platform), options_(options), cpus_(storage.cpus) {
  EDGEOS_ASSERT(storage.cpus.size() == storage.schedulers.size());
  EDGEOS_ASSERT(storage.cpus.size() > 0 && storage.cpus.size() < kNoCpu);
  EDGEOS_ASSERT(storage.sched_contexts.size() >= storage.threads.size());
  EDGEOS_ASSERT(options.min_budget > Duration::zero());
  const Instant now = platform_.now();
  EDGEOS_ASSERT(storage.domains.empty() || storage.domains.size() == storage.cpus.size());
  for (size_t i = 0; i < cpus_.size(); ++i) {
    CpuState& c = cpus_[i];
    c.id = static_cast<CpuId>(i);
    c.leader = storage.domains.empty() ? c.id : storage.domains[i];
    EDGEOS_ASSERT(c.leader <= c.id && (c.leader == c.id || cpus_[c.leader].leader == c.leader));
    c.next_in_domain = kNoCpu;
    c.shared = false;
    if (c.leader != c.id) {
      // Appended to its domain's list, which is in increasing CPU order.
      CpuState* last = &cpus_[c.leader];
      while (last->next_in_domain != kNoCpu) last = &cpus_[last->next_in_domain];
      last->next_in_domain = c.id;
      c.shared = true;
      cpus_[c.leader].shared = true;
    }
    c.sched = storage.schedulers[c.leader];
    EDGEOS_ASSERT(c.sched != nullptr);
    c.by_deadline = c.sched->orders_by_deadline();
    c.accounting_start = now;
    c.accounted_to = now;
  }
  threads_.init(storage.threads);
  scs_.init(storage.sched_contexts);
  fwps_.init(storage.fwps);
  templates_.init(storage.templates);
  notifications_.init(storage.notifications);
  rings_.init(storage.rings);
}

// --- FWPs ---------------------------------------------------------------------------------------

template <Platform P>
Result<TemplateId> Kernel<P>::template_create(const TemplateParams& params) {
  Result<FwpTemplate*> r = templates_.alloc();
  if (!r) return r.error();
  FwpTemplate& t = **r;
  t.params = params;
  return templates_.id_of(t);
}

template <Platform P>
Result<Fwp*> Kernel<P>::create_fwp(FwpTemplate& tmpl) {
  if (tmpl.params.max_instances != 0 && tmpl.instances >= tmpl.params.max_instances) {
    return Error::kOutOfCapacity;
  }
  Result<Fwp*> r = fwps_.alloc();
  if (!r) return r.error();
  Fwp& f = **r;
  f.tmpl = &tmpl;
  f.state = FwpState::kIdle;
  if (const Status s = platform_.fwp_instantiate(f, tmpl); !s) {
    fwps_.free(f);
    return s.error();
  }
  ++tmpl.instances;
  emit_fwp(platform_.now(), f, TraceEvent::kFwpCreate);
  return &f;
}

template <Platform P>
Result<FwpId> Kernel<P>::fwp_create(TemplateId tmpl) {
  Result<FwpTemplate*> t = templates_.lookup(tmpl);
  if (!t) return t.error();
  Result<Fwp*> f = create_fwp(**t);
  if (!f) return f.error();
  return fwps_.id_of(**f);
}

template <Platform P>
Status Kernel<P>::fwp_prefill(TemplateId tmpl, uint32_t count) {
  Result<FwpTemplate*> r = templates_.lookup(tmpl);
  if (!r) return r.error();
  FwpTemplate& t = **r;
  if (t.pool.size() + count > t.params.pool_limit) return Error::kInvalidArgument;
  for (uint32_t i = 0; i < count; ++i) {
    Result<Fwp*> f = create_fwp(t);
    if (!f) return f.error();
    t.pool.push_back(**f);
  }
  return Status::ok();
}

template <Platform P>
void Kernel<P>::activate(Fwp& f) {
  if (f.linked()) f.tmpl->pool.remove(f);
  f.state = FwpState::kActive;
  emit_fwp(platform_.now(), f, TraceEvent::kFwpActivate);
}

template <Platform P>
Status Kernel<P>::fwp_activate(FwpId id) {
  Result<Fwp*> r = fwps_.lookup(id);
  if (!r) return r.error();
  if ((*r)->state != FwpState::kIdle) return Error::kBadState;
  activate(**r);
  return Status::ok();
}

template <Platform P>
Result<FwpId> Kernel<P>::fwp_spawn(TemplateId tmpl) {
  Result<FwpTemplate*> r = templates_.lookup(tmpl);
  if (!r) return r.error();
  FwpTemplate& t = **r;
  Fwp* f = t.pool.front();
  if (f == nullptr) {
    Result<Fwp*> created = create_fwp(t);
    if (!created) return created.error();
    f = *created;
  }
  activate(*f);
  return fwps_.id_of(*f);
}

template <Platform P>
Status Kernel<P>::fwp_terminate(FwpId id) {
  Result<Fwp*> r = fwps_.lookup(id);
  if (!r) return r.error();
  Fwp& f = **r;
  if (f.state == FwpState::kDying) return Error::kBadState;
  const Instant now = platform_.now();
  if (f.linked()) f.tmpl->pool.remove(f);
  f.threads.for_each([&](FwpMemberLink& link) { kill_thread(*link.thread, now); });
  // Threads of other FWPs executing in this one return to where they called from.
  while (InvocationFrame* frame = f.visitors.front()) unwind_calls(*frame->thread, frame->depth, now);
  detach_rings(f);
  for (Capability& cap : f.caps) cap = Capability{};
  f.state = FwpState::kDying;
  emit_fwp(now, f, TraceEvent::kFwpDestroy);
  for (CpuState& c : cpus_) {
    if (c.resched_pending) {
      c.resched_pending = false;
      reschedule(c, now);
    }
  }
  maybe_recycle(f);
  debug_check();
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::fwp_retain(FwpId id) {
  Result<Fwp*> r = fwps_.lookup(id);
  if (!r) return r.error();
  ++(*r)->retained;
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::fwp_release(FwpId id) {
  Result<Fwp*> r = fwps_.lookup(id);
  if (!r) return r.error();
  Fwp& f = **r;
  if (f.retained == 0) return Error::kBadState;
  --f.retained;
  maybe_recycle(f);
  return Status::ok();
}

template <Platform P>
void Kernel<P>::maybe_recycle(Fwp& f) {
  if (f.state != FwpState::kDying || !f.threads.empty() || f.retained != 0) return;
  FwpTemplate& tmpl = *f.tmpl;
  if (tmpl.pool.size() < tmpl.params.pool_limit && platform_.fwp_reset(f, tmpl).is_ok()) {
    fwps_.renew(f);  // the terminated tenant's ids become stale
    f.state = FwpState::kIdle;
    tmpl.pool.push_back(f);
    emit_fwp(platform_.now(), f, TraceEvent::kFwpRecycle);
    return;
  }
  platform_.fwp_release(f);
  --tmpl.instances;
  fwps_.free(f);
}

template <Platform P>
void Kernel<P>::kill_thread(Thread& t, Instant now) {
  CpuState& c = cpus_[t.cpu];
  account(c, now);
  if (t.state == ThreadState::kReady) {
    c.sched->dequeue(t);
  } else if (t.state == ThreadState::kRunning) {
    c.current = nullptr;
  }
  clear_timer(c, t.timer);
  clear_timer(c, t.sc->timer);
  while (t.call_depth > 0) {  // leave every domain it visits, without tracing returns
    InvocationFrame& frame = t.frames[--t.call_depth];
    frame.callee->visitors.remove(frame);
  }
  if (t.waiting_on != nullptr) t.waiting_on->waiters.remove(t.wait);
  if (t.bound_notification != nullptr) t.bound_notification->bound = nullptr;
  emit(now, c, t, TraceEvent::kThreadExit, static_cast<int64_t>(t.jobs_completed));
  c.retired += t.exec_total;
  c.resched_pending = true;
  t.fwp->threads.remove(t.member);
  scs_.free(*t.sc);
  threads_.free(t);
}

// --- threads ------------------------------------------------------------------------------------

template <Platform P>
Result<ThreadId> Kernel<P>::thread_create(const ThreadParams& params) {
  if (params.cpu >= cpus_.size()) return Error::kInvalidArgument;
  Result<Fwp*> fr = fwps_.lookup(params.fwp);
  if (!fr) return fr.error();
  Fwp& f = **fr;
  if (f.state != FwpState::kActive) return Error::kBadState;
  EDGEOS_TRY(validate(params.sched));
  if (params.period <= Duration::zero() || params.relative_deadline <= Duration::zero()) {
    return Error::kInvalidArgument;
  }
  if (params.release == ReleaseKind::kPeriodic && params.period.is_infinite()) {
    return Error::kInvalidArgument;
  }
  if (params.sched.server != ServerKind::kNone && params.sched.budget < options_.min_budget) {
    return Error::kInvalidArgument;
  }
  CpuState& c = cpus_[params.cpu];
  if (params.sched.server == ServerKind::kCbs && !c.sched->orders_by_deadline()) return Error::kUnsupported;

  Result<SchedContext*> sr = scs_.alloc();
  if (!sr) return sr.error();
  Result<Thread*> tr = threads_.alloc();
  if (!tr) {
    scs_.free(**sr);
    return tr.error();
  }
  SchedContext& sc = **sr;
  Thread& t = **tr;
  sc.params = params.sched;
  sc.thread = &t;
  sc.timer.kind = kTimerContext;
  sc.timer.owner_index = t.slot_index;
  sc.timer.sc = &sc;
  budget_init(sc, params.first_release);
  t.fwp = &f;
  t.domain = &f;
  t.sc = &sc;
  t.cpu = params.cpu;
  t.state = ThreadState::kWaiting;
  t.release_kind = params.release;
  t.period = params.period;
  t.relative_deadline = params.relative_deadline;
  t.first_release = params.first_release;
  t.timer.kind = kTimerThread;
  t.timer.owner_index = t.slot_index;
  t.timer.thread = &t;
  t.ready_list.thread = &t;
  t.member.thread = &t;
  t.wait.thread = &t;
  for (InvocationFrame& frame : t.frames) frame.thread = &t;
  f.threads.push_back(t.member);

  if (t.release_kind == ReleaseKind::kPeriodic) {
    // Only armed here: the release itself happens when the timer fires, so that all threads
    // released at one instant are released together, in thread order.
    set_timer(c, t.timer, t.first_release);
    update_timer(cpus_[c.leader]);
  }
  debug_check();
  return threads_.id_of(t);
}

// --- capabilities -------------------------------------------------------------------------------

template <Platform P>
Result<CapSlot> Kernel<P>::grant(Fwp& holder, Capability cap) {
  for (CapSlot i = 0; i < kCapSlots; ++i) {
    if (holder.caps[i].kind == CapKind::kEmpty) {
      holder.caps[i] = cap;
      return i;
    }
  }
  return Error::kOutOfCapacity;
}

template <Platform P>
Result<CapSlot> Kernel<P>::grant_invoke(FwpId holder, FwpId callee) {
  Result<Fwp*> h = fwps_.lookup(holder);
  if (!h) return h.error();
  Result<Fwp*> c = fwps_.lookup(callee);
  if (!c) return c.error();
  if ((*h)->state == FwpState::kDying || (*c)->state == FwpState::kDying) return Error::kBadState;
  return grant(**h, Capability{CapKind::kInvoke, callee.index, callee.generation});
}

template <Platform P>
Result<CapSlot> Kernel<P>::grant_notification(FwpId holder, NotificationId n, CapKind kind) {
  if (kind != CapKind::kNotifySend && kind != CapKind::kNotifyReceive) return Error::kInvalidArgument;
  Result<Fwp*> h = fwps_.lookup(holder);
  if (!h) return h.error();
  if ((*h)->state == FwpState::kDying) return Error::kBadState;
  Result<Notification*> r = notifications_.lookup(n);
  if (!r) return r.error();
  return grant(**h, Capability{kind, n.index, n.generation});
}

template <Platform P>
Result<CapSlot> Kernel<P>::grant_ring(FwpId holder, RingId id, CapKind kind) {
  if (kind != CapKind::kRingSend && kind != CapKind::kRingReceive) return Error::kInvalidArgument;
  Result<Fwp*> h = fwps_.lookup(holder);
  if (!h) return h.error();
  Fwp& f = **h;
  if (f.state == FwpState::kDying) return Error::kBadState;
  Result<Ring*> r = rings_.lookup(id);
  if (!r) return r.error();
  Ring& ring = **r;
  Fwp*& end = kind == CapKind::kRingSend ? ring.producer : ring.consumer;
  if (end != nullptr && end != &f) return Error::kBusy;  // single producer, single consumer
  Result<CapSlot> slot = grant(f, Capability{kind, id.index, id.generation});
  if (slot) end = &f;
  return slot;
}

template <Platform P>
Status Kernel<P>::revoke(FwpId holder, CapSlot slot) {
  Result<Fwp*> h = fwps_.lookup(holder);
  if (!h) return h.error();
  if (slot >= kCapSlots) return Error::kInvalidArgument;
  Capability& cap = (*h)->caps[slot];
  if (cap.kind == CapKind::kRingSend || cap.kind == CapKind::kRingReceive) {
    if (Result<Ring*> r = rings_.lookup(RingId{cap.index, cap.generation}); r) {
      Fwp*& end = cap.kind == CapKind::kRingSend ? (*r)->producer : (*r)->consumer;
      if (end == *h) end = nullptr;
    }
  }
  cap = Capability{};
  return Status::ok();
}

template <Platform P>
void Kernel<P>::detach_rings(Fwp& f) {
  for (const Capability& cap : f.caps) {
    if (cap.kind != CapKind::kRingSend && cap.kind != CapKind::kRingReceive) continue;
    if (Result<Ring*> r = rings_.lookup(RingId{cap.index, cap.generation}); r) {
      if ((*r)->producer == &f) (*r)->producer = nullptr;
      if ((*r)->consumer == &f) (*r)->consumer = nullptr;
    }
  }
}

// The capability in `slot` of the domain `t` executes in, if it is of `kind`.
template <Platform P>
Result<Fwp*> Kernel<P>::domain_cap(Thread& t, CapSlot slot, CapKind kind, Capability* out) {
  if (slot >= kCapSlots) return Error::kInvalidArgument;
  const Capability& cap = t.domain->caps[slot];
  if (cap.kind != kind) return Error::kDenied;
  *out = cap;
  return t.domain;
}

// --- synchronous invocation ---------------------------------------------------------------------

template <Platform P>
Status Kernel<P>::call(ThreadId id, CapSlot slot) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  Capability cap;
  if (Result<Fwp*> d = domain_cap(t, slot, CapKind::kInvoke, &cap); !d) return d.error();
  Result<Fwp*> callee = fwps_.lookup(FwpId{cap.index, cap.generation});
  if (!callee) return callee.error();
  if ((*callee)->state != FwpState::kActive) return Error::kBadState;
  if (t.call_depth == kMaxCallDepth) return Error::kOutOfCapacity;
  auto [c, now] = begin_event(t);
  InvocationFrame& frame = t.frames[t.call_depth];
  frame.caller = t.domain;
  frame.callee = *callee;
  frame.depth = t.call_depth;
  (*callee)->visitors.push_back(frame);
  ++t.call_depth;
  t.domain = *callee;
  t.call_aborted = false;
  emit(now, c, t, TraceEvent::kIpcCall, (*callee)->slot_index);
  platform_.charge_overhead(c.id, Overhead::kInvocation);
  finish_invocation();
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::reply(ThreadId id) {
  Result<Thread*> r = lookup_thread(id);
  if (!r) return r.error();
  Thread& t = **r;
  if (t.state != ThreadState::kRunning || t.call_depth == 0) return Error::kBadState;
  auto [c, now] = begin_event(t);
  InvocationFrame& frame = t.frames[--t.call_depth];
  frame.callee->visitors.remove(frame);
  t.domain = frame.caller;
  emit(now, c, t, TraceEvent::kIpcReply, t.domain->slot_index);
  platform_.charge_overhead(c.id, Overhead::kInvocation);
  finish_invocation();
  return Status::ok();
}

// Pops `t`'s calls down to depth `to_depth` (its callee is being terminated): the thread is back
// in the domain that made that call, which sees the call fail.
template <Platform P>
void Kernel<P>::unwind_calls(Thread& t, uint8_t to_depth, Instant now) {
  EDGEOS_ASSERT(to_depth < t.call_depth);
  while (t.call_depth > to_depth) {
    InvocationFrame& frame = t.frames[--t.call_depth];
    frame.callee->visitors.remove(frame);
    t.domain = frame.caller;
  }
  t.call_aborted = true;
  emit(now, cpus_[t.cpu], t, TraceEvent::kIpcReply, t.domain->slot_index);
}

// --- notifications ------------------------------------------------------------------------------

template <Platform P>
Result<NotificationId> Kernel<P>::notification_create() {
  Result<Notification*> r = notifications_.alloc();
  if (!r) return r.error();
  return notifications_.id_of(**r);
}

template <Platform P>
Status Kernel<P>::notification_bind(NotificationId nid, ThreadId tid) {
  Result<Notification*> n = notifications_.lookup(nid);
  if (!n) return n.error();
  Result<Thread*> t = lookup_thread(tid);
  if (!t) return t.error();
  if ((*t)->release_kind != ReleaseKind::kSporadic) return Error::kUnsupported;
  if ((*n)->bound != nullptr || !(*n)->waiters.empty() || (*t)->bound_notification != nullptr) {
    return Error::kBusy;
  }
  (*n)->bound = *t;
  (*t)->bound_notification = *n;
  return Status::ok();
}

// Delivers one signal; returns the CPU whose state changed (a thread released or woken), if any.
template <Platform P>
CpuState* Kernel<P>::signal(Notification& n, Instant now) {
  if (Thread* b = n.bound; b != nullptr) {
    if (b->state != ThreadState::kWaiting) {
      ++n.count;  // released when its current job completes
      return nullptr;
    }
    CpuState& c = cpus_[b->cpu];
    account(c, now);
    release_job(c, *b, now, now, /*from_idle=*/true);
    return &c;
  }
  if (WaitLink* w = n.waiters.pop_front(); w != nullptr) {
    Thread& t = *w->thread;
    t.waiting_on = nullptr;
    CpuState& c = cpus_[t.cpu];
    wake(c, t, now);
    return &c;
  }
  ++n.count;
  return nullptr;
}

template <Platform P>
Status Kernel<P>::notify(ThreadId id, CapSlot slot) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  Capability cap;
  if (Result<Fwp*> d = domain_cap(t, slot, CapKind::kNotifySend, &cap); !d) return d.error();
  Result<Notification*> n = notifications_.lookup(NotificationId{cap.index, cap.generation});
  if (!n) return n.error();
  auto [c, now] = begin_event(t);
  emit(now, c, t, TraceEvent::kNotify, (*n)->slot_index);
  signal_and_finish(c, **n, now);
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::notify_ids(ThreadId id, Span<const NotificationId> ns) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  for (const NotificationId nid : ns) {
    if (Result<Notification*> n = notifications_.lookup(nid); !n) return n.error();
  }
  auto [c, now] = begin_event(t);
  for (const NotificationId nid : ns) {
    Notification& n = **notifications_.lookup(nid);
    emit(now, c, t, TraceEvent::kNotify, n.slot_index);
    CpuState* woken = signal(n, now);
    if (woken != nullptr && woken != &c) finish_event(*woken, now);
  }
  finish_event(c, now);
  return Status::ok();
}

// The end of an event on CPU `c` that signals `n`: the CPU the signal released or woke a thread
// on decides first, then `c`.
template <Platform P>
void Kernel<P>::signal_and_finish(CpuState& c, Notification& n, Instant now) {
  CpuState* woken = signal(n, now);
  if (woken != nullptr && woken != &c) finish_event(*woken, now);
  finish_event(c, now);
}

template <Platform P>
Status Kernel<P>::notify_irq(NotificationId nid) {
  Result<Notification*> n = notifications_.lookup(nid);
  if (!n) return n.error();
  const Instant now = platform_.now();
  emit_global(now, kNoIndex, TraceEvent::kNotify, (*n)->slot_index);
  if (CpuState* woken = signal(**n, now); woken != nullptr) finish_event(*woken, now);
  return Status::ok();
}

template <Platform P>
Result<bool> Kernel<P>::wait(ThreadId id, CapSlot slot) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  Capability cap;
  if (Result<Fwp*> d = domain_cap(t, slot, CapKind::kNotifyReceive, &cap); !d) return d.error();
  Result<Notification*> nr = notifications_.lookup(NotificationId{cap.index, cap.generation});
  if (!nr) return nr.error();
  Notification& n = **nr;
  if (n.bound != nullptr) return Error::kBadState;  // its signals release the bound thread's jobs
  if (n.count > 0) {
    --n.count;
    return true;
  }
  auto [c, now] = begin_event(t);
  emit(now, c, t, TraceEvent::kBlock, n.slot_index);
  stop_running(c, t, now);
  t.state = ThreadState::kBlocked;
  t.waiting_on = &n;
  n.waiters.push_back(t.wait);
  finish_event(c, now);
  return false;
}

// --- rings --------------------------------------------------------------------------------------

template <Platform P>
Result<RingId> Kernel<P>::ring_create(Span<uint8_t> storage, uint32_t slot_size, uint32_t slots,
                                      NotificationId notify) {
  if (slot_size == 0 || slots == 0 || storage.data() == nullptr) return Error::kInvalidArgument;
  const uint64_t need = static_cast<uint64_t>(slots) * (4 + static_cast<uint64_t>(slot_size));
  if (need / slots != 4 + static_cast<uint64_t>(slot_size) || storage.size() < need) return Error::kInvalidArgument;
  if (slots > (uint32_t{1} << 31)) return Error::kInvalidArgument;  // head/tail arithmetic
  Notification* n = nullptr;
  if (notify.valid()) {
    Result<Notification*> nr = notifications_.lookup(notify);
    if (!nr) return nr.error();
    n = *nr;
  }
  Result<Ring*> r = rings_.alloc();
  if (!r) return r.error();
  Ring& ring = **r;
  ring.storage = storage.data();
  ring.slot_size = slot_size;
  ring.slots = slots;
  ring.notify = n;
  return rings_.id_of(ring);
}

template <Platform P>
Status Kernel<P>::ring_send(ThreadId id, CapSlot slot, const void* data, size_t len) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  Capability cap;
  if (Result<Fwp*> d = domain_cap(t, slot, CapKind::kRingSend, &cap); !d) return d.error();
  Result<Ring*> rr = rings_.lookup(RingId{cap.index, cap.generation});
  if (!rr) return rr.error();
  return ring_put(t, **rr, data, len);
}

template <Platform P>
Status Kernel<P>::ring_send_id(ThreadId id, RingId ring_id, const void* data, size_t len) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Result<Ring*> rr = rings_.lookup(ring_id);
  if (!rr) return rr.error();
  return ring_put(**r, **rr, data, len);
}

template <Platform P>
Status Kernel<P>::ring_put(Thread& t, Ring& ring, const void* data, size_t len) {
  if (len > ring.slot_size || (len > 0 && data == nullptr)) return Error::kInvalidArgument;
  if (ring.full()) {
    ++ring.refused;
    return Error::kWouldBlock;
  }
  const bool was_empty = ring.empty();
  uint8_t* p = ring.storage + static_cast<size_t>(ring.tail % ring.slots) * ring.slot_bytes();
  const uint32_t n = static_cast<uint32_t>(len);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(n >> (8 * i));  // little-endian length
  if (len > 0) __builtin_memcpy(p + 4, data, len);
  ++ring.tail;
  ++ring.sent;
  if (was_empty && ring.notify != nullptr) {
    auto [c, now] = begin_event(t);
    signal_and_finish(c, *ring.notify, now);
  }
  return Status::ok();
}

template <Platform P>
Result<size_t> Kernel<P>::ring_receive(ThreadId id, CapSlot slot, void* buf, size_t cap_bytes) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  Capability cap;
  if (Result<Fwp*> d = domain_cap(t, slot, CapKind::kRingReceive, &cap); !d) return d.error();
  Result<Ring*> rr = rings_.lookup(RingId{cap.index, cap.generation});
  if (!rr) return rr.error();
  return ring_take(**rr, buf, cap_bytes);
}

template <Platform P>
Result<size_t> Kernel<P>::ring_receive_id(ThreadId id, RingId ring_id, void* buf, size_t cap_bytes) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Result<Ring*> rr = rings_.lookup(ring_id);
  if (!rr) return rr.error();
  return ring_take(**rr, buf, cap_bytes);
}

template <Platform P>
Result<size_t> Kernel<P>::ring_take(Ring& ring, void* buf, size_t cap_bytes) {
  if (ring.empty()) return Error::kWouldBlock;
  const uint8_t* p = ring.storage + static_cast<size_t>(ring.head % ring.slots) * ring.slot_bytes();
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(p[i]) << (8 * i);
  if (n > cap_bytes || (n > 0 && buf == nullptr)) return Error::kInvalidArgument;
  if (n > 0) __builtin_memcpy(buf, p + 4, n);
  ++ring.head;
  ++ring.received;
  return static_cast<size_t>(n);
}

template <Platform P>
Result<const Ring*> Kernel<P>::ring(RingId id) const {
  Result<Ring*> r = rings_.lookup(id);
  if (!r) return r.error();
  return static_cast<const Ring*>(*r);
}

// --- events -------------------------------------------------------------------------------------

template <Platform P>
Status Kernel<P>::release(ThreadId id, Instant arrival, Duration deadline) {
  Result<Thread*> r = lookup_thread(id);
  if (!r) return r.error();
  Thread& t = **r;
  if (t.release_kind != ReleaseKind::kSporadic) return Error::kUnsupported;
  if (t.state != ThreadState::kWaiting) return Error::kBusy;
  const Instant now = platform_.now();
  if (arrival > now || deadline < Duration::zero()) return Error::kInvalidArgument;
  CpuState& c = begin_event(t, now).c;
  release_job(c, t, arrival, now, /*from_idle=*/true, deadline);
  finish_event(c, now);
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::complete(ThreadId id, Instant next_arrival, Duration next_deadline) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  const Instant now = platform_.now();
  if (!next_arrival.is_never() && (t.release_kind != ReleaseKind::kSporadic || next_arrival > now)) {
    return Error::kInvalidArgument;
  }
  if (next_deadline < Duration::zero()) return Error::kInvalidArgument;
  CpuState& c = begin_event(t, now).c;
  finish_job(c, t, now, next_arrival, next_deadline);
  finish_event(c, now);
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::block(ThreadId id) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  auto [c, now] = begin_event(t);
  emit(now, c, t, TraceEvent::kBlock, 0);
  stop_running(c, t, now);
  t.state = ThreadState::kBlocked;
  finish_event(c, now);
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::yield(ThreadId id) {
  Result<Thread*> r = lookup_running(id);
  if (!r) return r.error();
  Thread& t = **r;
  auto [c, now] = begin_event(t);
  const Thread* best = c.sched->peek();
  if (best != nullptr && !c.sched->preempts(t, *best)) {
    emit(now, c, t, TraceEvent::kPreempt, best->slot_index);
    stop_running(c, t, now);
    t.state = ThreadState::kReady;
    c.sched->enqueue(t, Placement::kTail);
  }
  finish_event(c, now);
  return Status::ok();
}

template <Platform P>
Status Kernel<P>::wakeup(ThreadId id) {
  Result<Thread*> r = lookup_thread(id);
  if (!r) return r.error();
  Thread& t = **r;
  if (t.state != ThreadState::kBlocked) return Error::kBadState;
  if (t.waiting_on != nullptr) return Error::kBadState;  // woken by its notification only
  const Instant now = platform_.now();
  CpuState& c = cpus_[t.cpu];
  wake(c, t, now);
  finish_event(c, now);
  return Status::ok();
}

template <Platform P>
void Kernel<P>::wake(CpuState& c, Thread& t, Instant now) {
  account(c, now);
  emit(now, c, t, TraceEvent::kWakeup, 0);
  if (t.sc->has_budget()) {
    const Instant before = t.sc->deadline;
    budget_activate(*t.sc, now, /*from_idle=*/false, now);
    if (t.sc->deadline != before) new_deadline(*t.sc, t.sc->deadline);
  }
  make_runnable(c, t, now);
}

template <Platform P>
void Kernel<P>::timer_expired(CpuId id) {
  if (id >= cpus_.size()) return;
  CpuState& c = cpus_[id];
  const Instant now = platform_.now();
  account(c, now);
  platform_.charge_overhead(c.id, Overhead::kTimer);
  c.armed = Instant::never();  // the one-shot timer is spent; re-arm whatever comes next
  if (c.shared) {
    finish_domain_event(c, now, /*leader_timer=*/c.leader == c.id);
    return;
  }
  finish_event(c, now);
}

template <Platform P>
void Kernel<P>::restart_accounting() {
  const Instant now = platform_.now();
  for (CpuState& c : cpus_) {
    EDGEOS_ASSERT(c.current == nullptr);
    c.accounting_start = now;
    c.accounted_to = now;
    c.busy = Duration::zero();
    c.idle = Duration::zero();
  }
}

template <Platform P>
void Kernel<P>::sync() {
  const Instant now = platform_.now();
  for (CpuState& c : cpus_) account(c, now);
}

template <Platform P>
void Kernel<P>::finish_event(CpuState& c, Instant now) {
  if (c.shared) {
    finish_domain_event(c, now, /*leader_timer=*/false);
    return;
  }
  check_budget(c, now);
  expire_timers(c, now);
  reschedule(c, now);
  debug_check();
}

// An event on a CPU of a shared domain: the running thread of that CPU has its budget looked at,
// the domain's timer queue is processed if the event is the leader's timer, and one decision is
// taken for the whole domain (which first brings every CPU of the domain to now).
//
// Only the leader's timer event processes the domain's timers. Another CPU's event at the same
// instant must not: a job completing on a third CPU at that very instant has not been reported yet
// (its CPU's event comes next), and it would be found missing its deadline or be preempted with
// its work done. The leader's platform timer is armed for the earliest entry and fires at that
// instant after the other events of the instant (the simulators order timers after segment ends;
// on hardware the interrupt is pending), as in the partitioned invocation fast path.
template <Platform P>
void Kernel<P>::finish_domain_event(CpuState& c, Instant now, bool leader_timer) {
  check_budget(c, now);
  if (leader_timer) expire_timers(c, now);
  reschedule_domain(c, now);
  debug_check();
}

// --- the machinery ------------------------------------------------------------------------------

template <Platform P>
void Kernel<P>::account(CpuState& c, Instant now) {
  if (now <= c.accounted_to) return;
  const Duration d = now - c.accounted_to;
  if (Thread* t = c.current; t != nullptr) {
    t->exec_total.accumulate(d);
    t->job_exec.accumulate(d);
    t->sc->consumed.accumulate(d);
    if (t->sc->has_budget()) budget_charge(*t->sc, d);
    c.busy.accumulate(d);
  } else {
    c.idle.accumulate(d);
  }
  c.accounted_to = now;
}

template <Platform P>
void Kernel<P>::new_deadline(SchedContext& sc, Instant deadline) {
  sc.deadline = deadline;
  sc.deadline_seq = next_deadline_seq_++;
}

template <Platform P>
void Kernel<P>::release_job(CpuState& c, Thread& t, Instant release, Instant now, bool from_idle, Duration deadline) {
  ++t.jobs_released;
  t.release = release;
  t.deadline = release + (deadline > Duration::zero() ? deadline : t.relative_deadline);
  t.job_exec = Duration::zero();
  t.job_started = false;
  t.job_missed = false;
  SchedContext& sc = *t.sc;
  if (sc.has_budget()) {
    const Instant before = sc.deadline;
    budget_activate(sc, now, from_idle, release);
    if (sc.deadline != before) new_deadline(sc, sc.deadline);
  } else {
    new_deadline(sc, release + (deadline > Duration::zero() ? deadline : sc.params.relative_deadline));
  }
  emit(now, c, t, TraceEvent::kRelease, t.deadline.is_never() ? -1 : t.deadline.ns());
  platform_.charge_overhead(c.id, Overhead::kRelease);
  make_runnable(c, t, now);
  if (t.deadline.is_never()) {
    clear_timer(c, t.timer);
  } else {
    set_timer(c, t.timer, t.deadline);
  }
}

// A thread with a job that is neither running nor blocked: ready if its context has budget,
// throttled until the budget comes back otherwise.
template <Platform P>
void Kernel<P>::make_runnable(CpuState& c, Thread& t, Instant now) {
  SchedContext& sc = *t.sc;
  if (sc.has_budget()) {
    if (!budget_has(sc, now, options_.min_budget)) {
      // CBS never waits for budget: with work and none left, it recharges and postpones.
      if (const Duration refilled = budget_postpone(sc); refilled > Duration::zero()) {
        new_deadline(sc, sc.deadline);
        emit(now, c, t, TraceEvent::kReplenish, refilled.ns());
      } else {
        t.state = ThreadState::kThrottled;
        sync_context_timer(c, t, now);
        return;
      }
    }
    if (c.by_deadline) {  // a server's deadline matters only to EDF
      const Instant before = sc.deadline;
      budget_ready(sc, now);
      if (sc.deadline != before) new_deadline(sc, sc.deadline);
    }
  }
  t.state = ThreadState::kReady;
  c.sched->enqueue(t, Placement::kTail);
  // Deferrable and polling servers keep a period timer while their thread has work. (A sporadic
  // server's timer is armed only while throttled, and a ready thread is not.)
  if (sc.params.server == ServerKind::kDeferrable || sc.params.server == ServerKind::kPolling) {
    sync_context_timer(c, t, now);
  }
}

// The running thread leaves the CPU: its context's current piece of execution ends.
template <Platform P>
void Kernel<P>::stop_running(CpuState& c, Thread& t, Instant now) {
  EDGEOS_ASSERT(c.current == &t);
  c.current = nullptr;
  if (t.sc->has_budget()) budget_stop(*t.sc, now, options_.min_budget);
}

template <Platform P>
void Kernel<P>::finish_job(CpuState& c, Thread& t, Instant now, Instant next_arrival, Duration next_deadline) {
  emit(now, c, t, TraceEvent::kComplete, (now - t.release).ns());
  ++t.jobs_completed;
  stop_running(c, t, now);
  t.state = ThreadState::kWaiting;
  if (t.release_kind == ReleaseKind::kPeriodic) {
    // Nominal release times (first + k * period) do not drift when jobs finish late.
    const Instant next = t.first_release + t.period * static_cast<int64_t>(t.jobs_released);
    if (next <= now) {
      release_job(c, t, next, now, /*from_idle=*/false);  // backlogged: the next job is already due
      return;
    }
    set_timer(c, t.timer, next);  // with D = T the entry is already there: no queue operation
  } else if (!next_arrival.is_never()) {
    release_job(c, t, next_arrival, now, /*from_idle=*/false, next_deadline);
    return;
  } else if (Notification* n = t.bound_notification; n != nullptr && n->count > 0) {
    --n->count;  // a signal arrived while this job ran: its job is released now
    release_job(c, t, now, now, /*from_idle=*/false);
    return;
  } else {
    clear_timer(c, t.timer);
  }
  if (t.sc->has_budget()) {
    budget_idle(*t.sc);
    sync_context_timer(c, t, now);
  }
}

// After an event, the running thread may have used up its budget.
template <Platform P>
void Kernel<P>::check_budget(CpuState& c, Instant now) {
  Thread* t = c.current;
  if (t == nullptr || !t->sc->has_budget()) return;
  SchedContext& sc = *t->sc;
  // A deferrable or polling server that reaches a period boundary while running gets its
  // capacity back before it could be found exhausted.
  if (const Duration restored = budget_roll(sc, now, /*has_work=*/true); restored > Duration::zero()) {
    emit(now, c, *t, TraceEvent::kReplenish, restored.ns());
  }
  if (budget_has(sc, now, options_.min_budget)) return;
  budget_stop(sc, now, options_.min_budget);
  if (budget_has(sc, now, options_.min_budget)) {
    // A sporadic server whose piece's own refill is due at once (budget == period): carry on.
    budget_dispatch(sc, now);
    return;
  }
  emit(now, c, *t, TraceEvent::kBudgetExhausted, sc.params.budget.ns());
  c.current = nullptr;
  if (const Duration refilled = budget_postpone(sc); refilled > Duration::zero()) {
    // CBS: budget refilled, deadline postponed; the thread competes again with its new deadline.
    new_deadline(sc, sc.deadline);
    emit(now, c, *t, TraceEvent::kReplenish, refilled.ns());
    t->state = ThreadState::kReady;
    c.sched->enqueue(*t, Placement::kTail);
  } else {
    t->state = ThreadState::kThrottled;
  }
  sync_context_timer(c, *t, now);
}

// Timers go to the queue of the CPU's domain (the leader's; the CPU's own when partitioned).
template <Platform P>
void Kernel<P>::set_timer(CpuState& c, TimerEntry& e, Instant when) {
  RbTree<TimerEntry, TimerLess>& q = timer_queue(c);
  if (e.linked()) {
    if (e.when == when) return;
    q.erase(e);
  }
  e.when = when;
  q.insert(e);
}

template <Platform P>
void Kernel<P>::clear_timer(CpuState& c, TimerEntry& e) {
  if (e.linked()) timer_queue(c).erase(e);
}

// A context's timer: a throttled sporadic server's next refill; a deferrable or polling server's
// next period boundary while its thread has work.
template <Platform P>
Instant Kernel<P>::wanted_context_timer(const Thread& t, Instant now) const {
  const SchedContext& sc = *t.sc;
  switch (sc.params.server) {
    case ServerKind::kSporadic:
      return t.state == ThreadState::kThrottled ? budget_next_replenish(sc, now, options_.min_budget)
                                                : Instant::never();
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
      return t.has_job() ? budget_period_end(sc) : Instant::never();
    case ServerKind::kNone:
    case ServerKind::kCbs:
      break;
  }
  return Instant::never();
}

template <Platform P>
void Kernel<P>::sync_context_timer(CpuState& c, const Thread& t, Instant now) {
  const Instant when = wanted_context_timer(t, now);
  if (when.is_never()) {
    clear_timer(c, t.sc->timer);
  } else {
    set_timer(c, t.sc->timer, when);
  }
}

template <Platform P>
void Kernel<P>::expire_timers(CpuState& c, Instant now) {
  while (TimerEntry* e = c.timers.min()) {
    if (e->when > now) break;
    c.timers.erase(*e);
    if (e->kind == kTimerContext) {
      context_timer(c, *e->sc, now);
      continue;
    }
    Thread& t = *e->thread;
    if (t.has_job()) {
      // The entry is this job's deadline and the job has not completed: it misses now. Its
      // successor, if periodic, is released when it completes.
      t.job_missed = true;
      ++t.deadline_misses;
      emit(now, c, t, TraceEvent::kDeadlineMiss, e->when.ns());
    } else {
      release_job(c, t, e->when, now, /*from_idle=*/true);
    }
  }
}

// A replenishment (sporadic) or a period boundary (deferrable, polling) of a context's budget.
template <Platform P>
void Kernel<P>::context_timer(CpuState& c, SchedContext& sc, Instant now) {
  Thread& t = *sc.thread;
  Duration restored = budget_roll(sc, now, t.has_job());
  if (sc.params.server == ServerKind::kSporadic && t.state == ThreadState::kThrottled) {
    restored = budget_available(sc, now, options_.min_budget);
  }
  if (restored > Duration::zero()) {
    emit(now, c, t, TraceEvent::kReplenish, restored.ns());
  }
  if (t.state == ThreadState::kThrottled) {
    if (budget_has(sc, now, options_.min_budget)) make_runnable(c, t, now);
  } else if ((t.state == ThreadState::kReady || t.state == ThreadState::kRunning) && c.by_deadline) {
    // A new server period: under EDF the deadline moves with it, and a queued thread is re-queued.
    const Instant before = sc.deadline;
    const bool queued = t.state == ThreadState::kReady;
    budget_ready(sc, now);
    if (sc.deadline != before) {
      if (queued) c.sched->dequeue(t);
      new_deadline(sc, sc.deadline);
      if (queued) c.sched->enqueue(t, Placement::kTail);
    }
  }
  sync_context_timer(c, t, now);
}

template <Platform P>
void Kernel<P>::preempt(CpuState& c, Thread& by, Instant now) {
  Thread* cur = c.current;
  emit(now, c, *cur, TraceEvent::kPreempt, by.slot_index);
  stop_running(c, *cur, now);
  if (cur->sc->has_budget() && !budget_has(*cur->sc, now, options_.min_budget)) {
    // Ending the piece can push a sporadic server's remaining budget later (a full refill
    // list merges the piece's refill into the last one): it waits for it, throttled.
    cur->state = ThreadState::kThrottled;
    sync_context_timer(c, *cur, now);
  } else {
    cur->state = ThreadState::kReady;
    c.sched->enqueue(*cur, Placement::kHead);
  }
}

template <Platform P>
void Kernel<P>::reschedule(CpuState& c, Instant now) {
  if (c.shared) {
    reschedule_domain(c, now);
    return;
  }
  platform_.charge_overhead(c.id, Overhead::kSchedule);
  Thread* best = c.sched->peek();
  if (Thread* cur = c.current; cur != nullptr) {
    if (best != nullptr && c.sched->preempts(*best, *cur)) {
      preempt(c, *best, now);
      dispatch(c, *best, now);
    }
  } else if (best != nullptr) {
    dispatch(c, *best, now);
  } else if (c.dispatched != nullptr) {
    c.dispatched = nullptr;
    platform_.switch_to(c.id, nullptr);
  }
  const Thread* run = c.current;
  c.budget_expiry = run != nullptr ? budget_exhaustion(*run->sc, now, options_.min_budget) : Instant::never();
  update_timer(c);
}

// One decision for a shared domain (the rules are in the comment at the top of this file).
// O(m) per thread placed, m the domain's CPUs.
template <Platform P>
void Kernel<P>::reschedule_domain(CpuState& c, Instant now) {
  platform_.charge_overhead(c.id, Overhead::kSchedule);
  const CpuId first = c.leader;
  for (CpuId i = first; i != kNoCpu; i = cpus_[i].next_in_domain) account(cpus_[i], now);
  Scheduler& sched = *c.sched;
  while (Thread* best = sched.peek()) {
    CpuState* target = nullptr;
    if (cpus_[best->cpu].current == nullptr && cpus_[best->cpu].leader == first) {
      target = &cpus_[best->cpu];
    } else {
      for (CpuId i = first; i != kNoCpu; i = cpus_[i].next_in_domain) {
        if (cpus_[i].current == nullptr) {
          target = &cpus_[i];
          break;
        }
      }
    }
    if (target == nullptr) {
      // Every CPU is busy: the one running the lowest-precedence thread (strictly lower replaces,
      // so the lowest-numbered among equals stays).
      for (CpuId i = first; i != kNoCpu; i = cpus_[i].next_in_domain) {
        CpuState& m = cpus_[i];
        if (target == nullptr || sched.preempts(*target->current, *m.current)) target = &m;
      }
      if (!sched.preempts(*best, *target->current)) break;
      preempt(*target, *best, now);
    }
    dispatch(*target, *best, now);
  }
  for (CpuId i = first; i != kNoCpu; i = cpus_[i].next_in_domain) {
    CpuState& m = cpus_[i];
    if (m.current == nullptr && m.dispatched != nullptr) {
      m.dispatched = nullptr;
      platform_.switch_to(m.id, nullptr);
    }
    const Thread* run = m.current;
    m.budget_expiry = run != nullptr ? budget_exhaustion(*run->sc, now, options_.min_budget) : Instant::never();
    update_timer(m);
  }
}

template <Platform P>
void Kernel<P>::dispatch(CpuState& c, Thread& t, Instant now) {
  c.sched->dequeue(t);
  if (t.cpu != c.id) {
    // Only in a shared domain: the thread moves to this CPU. The CPU it left is told first if the
    // platform still runs it there.
    CpuState& from = cpus_[t.cpu];
    if (from.dispatched == &t) {
      from.dispatched = nullptr;
      platform_.switch_to(from.id, nullptr);
    }
    t.cpu = c.id;
    emit(now, c, t, TraceEvent::kMigrate, from.id);
    platform_.charge_overhead(c.id, Overhead::kMigration);
  }
  t.state = ThreadState::kRunning;
  c.current = &t;
  if (t.sc->has_budget()) budget_dispatch(*t.sc, now);
  emit(now, c, t, t.job_started ? TraceEvent::kResume : TraceEvent::kStart, 0);
  t.job_started = true;
  if (c.dispatched != &t) platform_.charge_overhead(c.id, Overhead::kContextSwitch);
  c.dispatched = &t;
  platform_.switch_to(c.id, &t);
}

template <Platform P>
void Kernel<P>::update_timer(CpuState& c) {
  const TimerEntry* e = c.timers.min();
  const Instant next = min(e != nullptr ? e->when : Instant::never(), c.budget_expiry);
  if (next != c.armed) {
    c.armed = next;
    platform_.arm_timer(c.id, next);
  }
}

// --- observation --------------------------------------------------------------------------------

template <Platform P>
Result<const Thread*> Kernel<P>::thread(ThreadId id) const {
  Result<Thread*> r = threads_.lookup(id);
  if (!r) return r.error();
  return static_cast<const Thread*>(*r);
}

template <Platform P>
Result<const Fwp*> Kernel<P>::fwp(FwpId id) const {
  Result<Fwp*> r = fwps_.lookup(id);
  if (!r) return r.error();
  return static_cast<const Fwp*>(*r);
}

template <Platform P>
InvariantViolation Kernel<P>::check_invariants() const {
  InvariantViolation v;
  auto fail = [&](const char* what, uint32_t cpu, uint32_t thread) {
    if (v.ok()) v = InvariantViolation{what, cpu, thread};
  };

  for (const CpuState& c : cpus_) {
    if (!c.sched->check()) fail("ready queue order broken", c.id, kNoIndex);
    if (!c.timers.check()) fail("timer queue order broken", c.id, kNoIndex);
    if (c.leader != c.id && !c.timers.empty()) fail("timer queue on a CPU that is not its domain's leader", c.id, kNoIndex);
    if (c.busy + c.idle != c.accounted_to - c.accounting_start) {
      fail("CPU time not conserved (busy + idle != elapsed)", c.id, kNoIndex);
    }
    Instant expiry = Instant::never();
    if (const Thread* cur = c.current; cur != nullptr) {
      if (cur->state != ThreadState::kRunning || cur->cpu != c.id) {
        fail("current thread not running on this CPU", c.id, cur->slot_index);
      }
      if (c.sched->contains(*cur)) fail("running thread on the ready queue", c.id, cur->slot_index);
      if (c.dispatched != cur) fail("platform runs another thread", c.id, cur->slot_index);
      const Thread* best = c.sched->peek();
      if (best != nullptr && c.sched->preempts(*best, *cur)) {
        fail("a ready thread should have preempted the running one", c.id, best->slot_index);
      }
      if (cur->sc->has_budget()) {
        // The budget timer may be early (a sporadic refill became ready while the thread ran:
        // the kernel finds budget left when it fires), never late: never past the end of the
        // budget itself. A piece may run into its last min_budget: an event that looks
        // (check_budget) leaves such a remainder unused, but a call or reply does not look
        // (finish_invocation), and the piece runs on to its timer (found by tests/fuzz).
        const Duration left = budget_available(*cur->sc, c.accounted_to, Duration::zero());
        if (c.budget_expiry.is_never() || c.budget_expiry > c.accounted_to + left) {
          fail("budget timer later than the budget runs out", c.id, cur->slot_index);
        }
        expiry = c.budget_expiry;
      }
    } else if (c.sched->size() != 0) {
      fail("CPU idle while a thread is ready", c.id, kNoIndex);
    }
    if (c.budget_expiry != expiry) fail("budget timer set without a budgeted thread running", c.id, kNoIndex);
    const TimerEntry* first = c.timers.min();
    const Instant expected = min(first != nullptr ? first->when : Instant::never(), expiry);
    if (c.armed != expected) fail("platform timer not armed for the earliest event", c.id, kNoIndex);
  }

  // Per-CPU tallies, kept on the stack for up to 64 CPUs; beyond that the per-CPU sums are
  // checked on the first 64 only (the per-thread checks still cover every thread).
  constexpr size_t kTally = 64;
  size_t ready[kTally] = {};
  Duration exec[kTally] = {};

  threads_.for_each_live([&](const Thread& t) {
    const uint32_t id = t.slot_index;
    if (t.cpu >= cpus_.size()) {
      fail("thread on a CPU that does not exist", kNoIndex, id);
      return;
    }
    const CpuState& c = cpus_[t.cpu];
    const CpuId home = c.leader;  // tallies are per domain: a thread may run on any of its CPUs
    const SchedContext& sc = *t.sc;
    if (t.sc == nullptr || sc.thread != &t) fail("scheduling context not bound", t.cpu, id);
    if (t.fwp == nullptr || t.fwp->state != FwpState::kActive) fail("thread in an inactive FWP", t.cpu, id);
    if (t.ready_list.linked() && t.ready_index != kNotQueued) fail("thread on two ready queues", t.cpu, id);
    const bool queued = c.sched->contains(t);
    if (queued != (t.state == ThreadState::kReady)) fail("ready-queue membership disagrees with state", t.cpu, id);
    if (t.state == ThreadState::kRunning && c.current != &t) fail("running thread is not current", t.cpu, id);
    if (home < kTally) {
      if (queued) ++ready[home];
      exec[home] += t.exec_total;
    }
    // The single timer entry: a pending periodic release, or the deadline of an incomplete job.
    if (t.state == ThreadState::kWaiting) {
      const bool want = t.release_kind == ReleaseKind::kPeriodic;
      const Instant next = t.first_release + t.period * static_cast<int64_t>(t.jobs_released);
      if (t.timer.linked() != want || (want && t.timer.when != next)) {
        fail("waiting thread's release timer wrong", t.cpu, id);
      }
    } else {
      const bool want = !t.deadline.is_never() && !t.job_missed;
      if (t.timer.linked() != want) fail("job's deadline timer missing or stray", t.cpu, id);
      if (want && t.timer.when != t.deadline) fail("job's deadline timer wrong", t.cpu, id);
    }
    // Invocation: the domain is the innermost callee, and every frame is a visitor of its callee.
    const Fwp* domain = t.call_depth == 0 ? t.fwp : t.frames[t.call_depth - 1].callee;
    if (t.domain != domain) fail("thread executes in the wrong domain", t.cpu, id);
    for (uint8_t d = 0; d < t.call_depth; ++d) {
      const InvocationFrame& frame = t.frames[d];
      if (!frame.linked() || frame.depth != d || frame.callee->state != FwpState::kActive ||
          frame.caller != (d == 0 ? t.fwp : t.frames[d - 1].callee)) {
        fail("invocation frame broken", t.cpu, id);
      }
    }
    if ((t.waiting_on != nullptr) != t.wait.linked() || (t.waiting_on != nullptr && t.state != ThreadState::kBlocked)) {
      fail("notification wait inconsistent", t.cpu, id);
    }
    if (t.bound_notification != nullptr && t.bound_notification->bound != &t) fail("notification binding broken", t.cpu, id);
    // Budgets.
    if (!budget_check(sc)) fail("budget state inconsistent", t.cpu, id);
    if (t.state == ThreadState::kThrottled && !sc.has_budget()) fail("throttled without a budget", t.cpu, id);
    // In a shared domain, a timer of this thread's that is due now may not have been processed
    // yet: only the leader's timer event processes them, and it comes after the other events of
    // the instant. Until then the budget state is the one before that timer.
    const bool due = c.shared && ((t.timer.linked() && t.timer.when <= c.accounted_to) ||
                                  (sc.timer.linked() && sc.timer.when <= c.accounted_to));
    if (sc.has_budget() && !due) {
      const Duration left = budget_available(sc, c.accounted_to, options_.min_budget);
      if (t.state == ThreadState::kThrottled && left > Duration::zero()) {
        fail("throttled thread has budget", t.cpu, id);
      }
      if (t.state == ThreadState::kReady && left == Duration::zero()) fail("ready thread has no budget", t.cpu, id);
      const Instant want = wanted_context_timer(t, c.accounted_to);
      if (sc.timer.linked() != !want.is_never() || (sc.timer.linked() && sc.timer.when != want)) {
        fail("replenishment timer wrong", t.cpu, id);
      }
    } else if (!sc.has_budget() && sc.timer.linked()) {
      fail("replenishment timer without a budget", t.cpu, id);
    }
  });

  for (const CpuState& c : cpus_) {
    if (c.id >= kTally) break;
    if (c.leader != c.id) continue;
    if (ready[c.id] != c.sched->size()) fail("ready-queue size disagrees with ready threads", c.id, kNoIndex);
    Duration retired = Duration::zero();
    Duration busy = Duration::zero();
    for (CpuId i = c.id; i != kNoCpu; i = cpus_[i].next_in_domain) {
      retired += cpus_[i].retired;
      busy += cpus_[i].busy;
    }
    if (exec[c.id] + retired != busy) fail("thread CPU time does not add up to busy time", c.id, kNoIndex);
  }

  fwps_.for_each_live([&](const Fwp& f) {
    if (f.state == FwpState::kIdle && !f.threads.empty()) fail("idle FWP has threads", kNoIndex, kNoIndex);
    if (f.linked() && f.state != FwpState::kIdle) fail("non-idle FWP in a pool", kNoIndex, kNoIndex);
    if (f.state == FwpState::kDying && f.threads.empty() && f.retained == 0) {
      fail("unreferenced FWP not recycled", kNoIndex, kNoIndex);
    }
    if (f.state != FwpState::kActive && !f.visitors.empty()) fail("threads visit an inactive FWP", kNoIndex, kNoIndex);
  });
  rings_.for_each_live([&](const Ring& ring) {
    if (ring.used() > ring.slots) fail("ring holds more than its slots", kNoIndex, kNoIndex);
  });
  return v;
}

}  // namespace edgeos

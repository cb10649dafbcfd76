// The Kernel's event interface on a hand-driven platform: argument validation, state errors,
// blocking, timers and accounting, and a random walk over the whole API with every invariant
// checked after every event.
#include <gtest/gtest.h>

#include "edgeos/core/rng.hpp"
#include "test_platform.hpp"

namespace edgeos::testing {
namespace {

using namespace time_literals;

struct Fixture {
  TestKernel tk;
  FwpId fwp;
  explicit Fixture(size_t cpus = 1, bool edf = false, size_t max_threads = 16) : tk(cpus, edf, max_threads) {
    fwp = *tk.k().fwp_spawn(*tk.k().template_create({}));
  }
  ThreadParams periodic(uint8_t prio, Duration period, Duration deadline = Duration::zero(), CpuId cpu = 0) {
    ThreadParams p;
    p.fwp = fwp;
    p.cpu = cpu;
    p.sched.priority = prio;
    p.period = period;
    p.relative_deadline = deadline == Duration::zero() ? period : deadline;
    p.sched.relative_deadline = p.relative_deadline;
    return p;
  }
  ThreadParams sporadic(uint8_t prio, Duration deadline, CpuId cpu = 0) {
    ThreadParams p = periodic(prio, deadline, deadline, cpu);
    p.release = ReleaseKind::kSporadic;
    return p;
  }
  void at(Duration t) { tk.platform.clock = Instant::epoch() + t; }
};

TEST(Kernel, ThreadCreateRejectsImpossibleParameters) {
  Fixture f(2);
  auto k = [&]() -> Kernel<ManualPlatform>& { return f.tk.k(); };
  ThreadParams p = f.periodic(1, 10_ms);
  p.cpu = 2;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "no CPU 2";
  p = f.periodic(1, 10_ms);
  p.period = Duration::zero();
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "T <= 0";
  p = f.periodic(1, 10_ms);
  p.period = Duration::infinite();
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "periodic without a period";
  p = f.periodic(1, 10_ms);
  p.relative_deadline = -(1_ms);
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "D <= 0";
  p = f.periodic(1, 10_ms);
  p.sched.relative_deadline = Duration::zero();
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "scheduling deadline <= 0";
  p = f.periodic(1, 10_ms);
  p.sched.budget = 2_ms;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "a budget needs a server kind";
  p.sched.server = ServerKind::kSporadic;
  p.sched.period = 1_ms;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "budget > period";
  p.sched.period = 10_ms;
  p.sched.max_refills = 0;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "refill count 0";
  p.sched.max_refills = kMaxRefills + 1;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "refill count above the bound";
  p.sched.max_refills = 4;
  p.sched.budget = 500_ns;
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "budget below the minimum budget";
  p.sched.budget = 2_ms;
  p.sched.server = static_cast<ServerKind>(42);
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "unknown server kind";
  p.sched.server = ServerKind::kCbs;
  EXPECT_EQ(k().thread_create(p).error(), Error::kUnsupported) << "CBS needs a deadline-ordered policy";
  p.sched.server = ServerKind::kSporadic;
  p.sched.period = Duration::zero();
  EXPECT_EQ(k().thread_create(p).error(), Error::kInvalidArgument) << "zero period";
  p = f.periodic(1, 10_ms);
  p.fwp = FwpId{3, 9};
  EXPECT_NE(k().thread_create(p).error(), Error::kOk);
  EXPECT_EQ(k().live_threads(), 0u) << "no failed creation leaves an object behind";
}

TEST(Kernel, ThreadCapacityIsAnErrorValue) {
  Fixture f(1, false, /*max_threads=*/3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.tk.k().thread_create(f.periodic(1, 10_ms)).is_ok());
  EXPECT_EQ(f.tk.k().thread_create(f.periodic(1, 10_ms)).error(), Error::kOutOfCapacity);
}

TEST(Kernel, PeriodicReleaseHappensWhenTheTimerFires) {
  Fixture f;
  ThreadParams p = f.periodic(5, 10_ms);
  p.first_release = Instant::epoch() + 3_ms;
  const ThreadId t = *f.tk.k().thread_create(p);
  EXPECT_EQ(f.tk.platform.timers[0], Instant::epoch() + 3_ms);
  EXPECT_EQ(f.tk.platform.count(TraceEvent::kRelease), 0u);
  f.at(3_ms);
  f.tk.fire(0);
  EXPECT_EQ(f.tk.platform.count(TraceEvent::kRelease), 1u);
  EXPECT_EQ(f.tk.k().current(0), *f.tk.k().thread(t));
  EXPECT_EQ(f.tk.platform.running[0], *f.tk.k().thread(t));
  EXPECT_EQ(f.tk.platform.timers[0], Instant::epoch() + 13_ms) << "armed for the job's deadline";
  f.at(5_ms);
  ASSERT_TRUE(f.tk.k().complete(t).is_ok());
  EXPECT_EQ(f.tk.platform.records.back().event, TraceEvent::kComplete);
  EXPECT_EQ(f.tk.platform.records.back().value, (2_ms).ns()) << "response time";
  EXPECT_EQ(f.tk.platform.timers[0], Instant::epoch() + 13_ms) << "armed for the next release";
  EXPECT_EQ(f.tk.platform.running[0], nullptr);
  EXPECT_EQ((*f.tk.k().thread(t))->exec_total, 2_ms);
}

TEST(Kernel, EventsOnTheWrongStateAreRefused) {
  Fixture f;
  const ThreadId per = *f.tk.k().thread_create(f.periodic(5, 10_ms));
  const ThreadId spo = *f.tk.k().thread_create(f.sporadic(9, 4_ms));
  auto& k = f.tk.k();
  EXPECT_EQ(k.complete(per).error(), Error::kBadState) << "not running";
  EXPECT_EQ(k.block(per).error(), Error::kBadState);
  EXPECT_EQ(k.wakeup(per).error(), Error::kBadState);
  EXPECT_EQ(k.release(per, Instant::epoch()).error(), Error::kUnsupported) << "periodic threads are timer-released";
  f.at(1_ms);
  EXPECT_EQ(k.release(spo, Instant::epoch() + 2_ms).error(), Error::kInvalidArgument) << "arrival in the future";
  ASSERT_TRUE(k.release(spo, Instant::epoch() + 1_ms).is_ok());
  EXPECT_EQ(k.release(spo, Instant::epoch() + 1_ms).error(), Error::kBusy);
  EXPECT_EQ(k.complete(spo, Instant::epoch() + 5_ms).error(), Error::kInvalidArgument) << "next arrival in the future";
  EXPECT_EQ(k.complete(ThreadId{99, 0}).error(), Error::kNotFound);
  EXPECT_EQ(k.complete(ThreadId{}).error(), Error::kNotFound);
  k.timer_expired(57);  // a CPU that does not exist: ignored
}

TEST(Kernel, BlockAndWakeup) {
  Fixture f;
  auto& k = f.tk.k();
  const ThreadId hi = *k.thread_create(f.sporadic(9, 10_ms));
  const ThreadId lo = *k.thread_create(f.periodic(1, 100_ms));
  f.tk.fire(0);
  ASSERT_EQ(k.current(0), *k.thread(lo));
  ASSERT_TRUE(k.release(hi, Instant::epoch()).is_ok());
  ASSERT_EQ(k.current(0), *k.thread(hi)) << "preempts";
  f.at(1_ms);
  ASSERT_TRUE(k.block(hi).is_ok());
  EXPECT_EQ(k.current(0), *k.thread(lo)) << "the low thread resumes while the high one is blocked";
  EXPECT_EQ(f.tk.platform.records.back().event, TraceEvent::kResume);
  EXPECT_EQ(k.block(hi).error(), Error::kBadState);
  f.at(2_ms);
  ASSERT_TRUE(k.wakeup(hi).is_ok());
  EXPECT_EQ(k.current(0), *k.thread(hi));
  EXPECT_EQ(f.tk.platform.records.back().event, TraceEvent::kResume) << "same job: resume, not start";
  EXPECT_EQ((*k.thread(hi))->job_exec, 1_ms);
}

// sched_yield semantics (POSIX): the CPU goes to an equal or higher-priority ready thread, the
// yielder to the back of its level; a lower-priority ready thread does not get it.
TEST(Kernel, YieldGoesBehindEqualsOnly) {
  Fixture f;
  auto& k = f.tk.k();
  const ThreadId a = *k.thread_create(f.periodic(5, 10_ms));
  const ThreadId b = *k.thread_create(f.periodic(5, 10_ms));
  const ThreadId lo = *k.thread_create(f.periodic(1, 10_ms));
  f.tk.fire(0);
  ASSERT_EQ(k.current(0), *k.thread(a)) << "FIFO within a level: a was released first";
  f.at(1_ms);
  ASSERT_TRUE(k.yield(a).is_ok());
  EXPECT_EQ(k.current(0), *k.thread(b));
  EXPECT_EQ(f.tk.platform.records.back().event, TraceEvent::kStart);
  ASSERT_TRUE(k.yield(b).is_ok());
  EXPECT_EQ(k.current(0), *k.thread(a)) << "b went behind a";
  EXPECT_EQ(k.yield(b).error(), Error::kBadState) << "only the running thread yields";
  f.at(2_ms);
  ASSERT_TRUE(k.complete(a).is_ok());
  ASSERT_EQ(k.current(0), *k.thread(b));
  ASSERT_TRUE(k.complete(b).is_ok());
  ASSERT_EQ(k.current(0), *k.thread(lo));
  ASSERT_TRUE(k.yield(lo).is_ok());
  EXPECT_EQ(k.current(0), *k.thread(lo)) << "nobody of equal or higher priority is ready";
  EXPECT_EQ(f.tk.platform.count(TraceEvent::kPreempt), 2u) << "one per yield that gave the CPU away";
}

TEST(Kernel, BlockedJobMissesAtItsDeadline) {
  Fixture f;
  auto& k = f.tk.k();
  const ThreadId t = *k.thread_create(f.sporadic(9, 4_ms));
  ASSERT_TRUE(k.release(t, Instant::epoch()).is_ok());
  f.at(1_ms);
  ASSERT_TRUE(k.block(t).is_ok());
  EXPECT_EQ(f.tk.platform.timers[0], Instant::epoch() + 4_ms);
  f.at(4_ms);
  f.tk.fire(0);
  ASSERT_EQ(f.tk.platform.count(TraceEvent::kDeadlineMiss), 1u);
  EXPECT_EQ(f.tk.platform.records.back().time_ns, (4_ms).ns());
  EXPECT_EQ(f.tk.platform.timers[0], Instant::never());
}

TEST(Kernel, LatePeriodicJobReleasesItsSuccessorOnCompletion) {
  Fixture f;
  auto& k = f.tk.k();
  const ThreadId t = *k.thread_create(f.periodic(1, 10_ms));
  f.tk.fire(0);
  f.at(25_ms);  // ran 25ms: missed its deadline at 10 (the timer fires there)
  f.tk.fire(0);
  ASSERT_TRUE(k.complete(t).is_ok());
  // Job 1 was due at 10 and job 2 at 20: job 1 is released now, at its nominal release time.
  const Thread& th = **k.thread(t);
  EXPECT_EQ(th.job(), 1u);
  EXPECT_EQ(th.release, Instant::epoch() + 10_ms);
  EXPECT_EQ(th.deadline, Instant::epoch() + 20_ms);
  // Its deadline has passed already, so the miss is reported at once.
  EXPECT_EQ(f.tk.platform.count(TraceEvent::kDeadlineMiss), 2u);
  EXPECT_EQ(k.current(0), &th);
}

TEST(Kernel, SyncChargesTimeUpToNow) {
  Fixture f(2);
  auto& k = f.tk.k();
  const ThreadId t = *k.thread_create(f.periodic(1, 10_ms));
  f.tk.fire(0);
  f.at(7_ms);
  k.sync();
  EXPECT_EQ((*k.thread(t))->exec_total, 7_ms);
  EXPECT_EQ(k.cpu(0).busy, 7_ms);
  EXPECT_EQ(k.cpu(1).idle, 7_ms);
  EXPECT_TRUE(k.check_invariants().ok());
}

// A random walk over the whole API: FWPs spawned and terminated (also mid-call), threads of every
// server kind created, jobs completed, threads blocked and woken, calls and replies through random
// capability slots, notifications signalled from threads and interrupts and waited on, time
// passing with timers firing in order. The kernel checks all its invariants after every event and
// panics on a violation; here we also check that the platform always runs what the kernel says.
TEST(Kernel, RandomWalkKeepsEveryInvariant) {
  for (const bool edf : {false, true}) {
    TestKernel tk(3, edf, /*max_threads=*/24, /*max_fwps=*/6, /*max_templates=*/2);
    auto& k = tk.k();
    TemplateParams tp;
    tp.pool_limit = 2;
    const TemplateId tmpl = *k.template_create(tp);
    std::vector<FwpId> fwps;
    std::vector<ThreadId> threads;
    std::vector<NotificationId> notes;
    for (int i = 0; i < 3; ++i) notes.push_back(*k.notification_create());
    Rng rng(edf ? 7 : 8);
    uint64_t calls = 0, waits = 0;
    for (int step = 0; step < 40'000; ++step) {
      switch (rng.below(12)) {
        case 0:
          if (const Result<FwpId> f = k.fwp_spawn(tmpl); f) {
            fwps.push_back(*f);
            for (const FwpId other : fwps) (void)k.grant_invoke(*f, other), (void)k.grant_invoke(other, *f);
            const NotificationId n = notes[rng.below(notes.size())];
            (void)k.grant_notification(*f, n, CapKind::kNotifySend);
            (void)k.grant_notification(*f, n, CapKind::kNotifyReceive);
          }
          break;
        case 1:
          if (!fwps.empty() && rng.below(4) == 0) {
            const size_t i = rng.below(fwps.size());
            EXPECT_TRUE(k.fwp_terminate(fwps[i]).is_ok());
            fwps.erase(fwps.begin() + static_cast<long>(i));
          }
          break;
        case 2:
          if (!fwps.empty()) {
            ThreadParams p;
            p.fwp = fwps[rng.below(fwps.size())];
            p.cpu = static_cast<CpuId>(rng.below(3));
            p.sched.priority = static_cast<uint8_t>(rng.below(8));
            p.period = Duration::microseconds(rng.between(50, 400));
            p.relative_deadline = Duration::microseconds(rng.between(20, 400));
            p.sched.relative_deadline = p.relative_deadline;
            p.release = rng.below(2) == 0 ? ReleaseKind::kPeriodic : ReleaseKind::kSporadic;
            p.first_release = tk.platform.clock + Duration::microseconds(rng.between(0, 100));
            const uint64_t kind = rng.below(5);
            if (kind != 0 && !(kind == 4 && !edf)) {
              p.sched.server = static_cast<ServerKind>(kind);
              p.sched.period = Duration::microseconds(rng.between(20, 300));
              p.sched.budget = Duration::microseconds(rng.between(1, p.sched.period.ns() / 1000));
              p.sched.max_refills = static_cast<uint8_t>(rng.between(1, kMaxRefills));
            }
            if (const Result<ThreadId> t = k.thread_create(p); t) threads.push_back(*t);
          }
          break;
        case 3:
        case 4: {  // the running thread of some CPU completes, blocks, waits, calls or replies
          const CpuId cpu = static_cast<CpuId>(rng.below(3));
          if (const Thread* cur = k.current(cpu); cur != nullptr) {
            const ThreadId id = k.thread_id(*cur);
            switch (rng.below(6)) {
              case 0:
                EXPECT_TRUE(k.block(id).is_ok());
                break;
              case 1: {
                CapSlot slot = static_cast<CapSlot>(rng.below(kCapSlots));
                for (CapSlot i = 0; i < kCapSlots; ++i) {
                  if (cur->domain->caps[i].kind == CapKind::kNotifyReceive) slot = i;
                }
                if (const Result<bool> r = k.wait(id, slot); r) ++waits;
                break;
              }
              case 2:
                if (k.call(id, static_cast<CapSlot>(rng.below(kCapSlots))).is_ok()) ++calls;
                break;
              case 3:
                (void)k.reply(id);
                break;
              default:
                EXPECT_TRUE(k.complete(id).is_ok());
                break;
            }
          }
          break;
        }
        case 5:
          if (!threads.empty()) {
            const ThreadId id = threads[rng.below(threads.size())];
            if (const Result<const Thread*> t = k.thread(id); t) {
              if ((*t)->state == ThreadState::kBlocked && (*t)->waiting_on == nullptr) {
                EXPECT_TRUE(k.wakeup(id).is_ok());
              } else if ((*t)->release_kind == ReleaseKind::kSporadic && (*t)->state == ThreadState::kWaiting) {
                EXPECT_TRUE(k.release(id, tk.platform.clock).is_ok());
              }
            }
          }
          break;
        case 6:
          EXPECT_TRUE(k.notify_irq(notes[rng.below(notes.size())]).is_ok());
          break;
        default: {  // time passes; due timers fire in order
          const Instant target = tk.platform.clock + Duration::microseconds(rng.between(1, 120));
          for (;;) {
            CpuId due = 0;
            Instant first = Instant::never();
            for (CpuId c = 0; c < 3; ++c) {
              if (tk.platform.timers[c] < first) {
                first = tk.platform.timers[c];
                due = c;
              }
            }
            if (first > target) break;
            tk.platform.clock = max(tk.platform.clock, first);
            tk.fire(due);
          }
          tk.platform.clock = target;
          break;
        }
      }
      for (CpuId c = 0; c < 3; ++c) {
        ASSERT_EQ(tk.platform.running[c], k.current(c)) << "step " << step;
      }
    }
    k.sync();
    const InvariantViolation v = k.check_invariants();
    EXPECT_TRUE(v.ok()) << v.what;
    EXPECT_GT(tk.platform.count(TraceEvent::kComplete), 1000u) << "the walk exercised the kernel";
    EXPECT_GT(tk.platform.count(TraceEvent::kFwpRecycle), 10u);
    EXPECT_GT(tk.platform.count(TraceEvent::kBudgetExhausted), 100u);
    EXPECT_GT(calls, 100u);
    EXPECT_GT(waits, 100u);
    EXPECT_GT(tk.platform.count(TraceEvent::kIpcReply), 100u);
  }
}

}  // namespace
}  // namespace edgeos::testing

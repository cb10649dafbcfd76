// Synchronous invocation, notifications and rings on a hand-driven platform. Every kernel
// invariant (including invocation frames, visitors and waits) is checked after every event.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>

#include "test_platform.hpp"

namespace edgeos::testing {
namespace {

using namespace time_literals;

struct World {
  TestKernel tk{2, /*use_edf=*/false, /*max_threads=*/32, /*max_fwps=*/12, /*max_templates=*/2};
  TemplateId tmpl = *tk.k().template_create({});
  Kernel<ManualPlatform>& k() { return tk.k(); }
  FwpId spawn() { return *k().fwp_spawn(tmpl); }
  void at(Duration t) { tk.platform.clock = Instant::epoch() + t; }

  // A sporadic thread of `fwp`, released now so that it runs (priority decides who runs first).
  ThreadId running_thread(FwpId fwp, uint8_t prio = 5, CpuId cpu = 0, SchedParams sched = {}) {
    ThreadParams p;
    p.fwp = fwp;
    p.cpu = cpu;
    p.release = ReleaseKind::kSporadic;
    p.period = 1_ms;
    p.relative_deadline = 100_ms;
    p.sched = sched;
    p.sched.priority = prio;
    p.sched.relative_deadline = 100_ms;
    const ThreadId t = *k().thread_create(p);
    EXPECT_TRUE(k().release(t, tk.platform.clock).is_ok());
    return t;
  }
  const Thread& th(ThreadId id) { return **k().thread(id); }
  size_t count(TraceEvent e) { return tk.platform.count(e); }
};

// --- invocation -----------------------------------------------------------------------------------

TEST(Invocation, CallerThreadRunsInTheCalleeAndPays) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  SchedParams budgeted;
  budgeted.server = ServerKind::kSporadic;
  budgeted.budget = 10_ms;
  budgeted.period = 20_ms;
  const ThreadId t = w.running_thread(a, 5, 0, budgeted);
  const CapSlot to_b = *w.k().grant_invoke(a, b);
  w.at(1_ms);
  ASSERT_TRUE(w.k().call(t, to_b).is_ok());
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(b));
  EXPECT_EQ(w.th(t).fwp, *w.k().fwp(a)) << "still a thread of tenant a";
  EXPECT_EQ(w.tk.platform.records.back().event, TraceEvent::kIpcCall);
  EXPECT_EQ(w.tk.platform.records.back().value, b.index);
  w.at(4_ms);  // 3ms of service inside b
  ASSERT_TRUE(w.k().reply(t).is_ok());
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(a));
  EXPECT_EQ(w.tk.platform.records.back().event, TraceEvent::kIpcReply);
  EXPECT_EQ(w.tk.platform.records.back().value, a.index);
  // The caller's scheduling context paid for the whole 4ms, including the 3ms in b.
  EXPECT_EQ(w.th(t).sc->consumed, 4_ms);
  EXPECT_EQ(w.th(t).exec_total, 4_ms);
  EXPECT_EQ((*w.k().fwp(b))->threads.size(), 0u) << "b has no thread of its own: nothing else to charge";
}

TEST(Invocation, CallerBudgetRunsOutInsideTheCallee) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  SchedParams budgeted;
  budgeted.server = ServerKind::kSporadic;
  budgeted.budget = 2_ms;
  budgeted.period = 10_ms;
  const ThreadId t = w.running_thread(a, 5, 0, budgeted);
  ASSERT_TRUE(w.k().call(t, *w.k().grant_invoke(a, b)).is_ok());
  EXPECT_EQ(w.tk.platform.timers[0], Instant::epoch() + 2_ms) << "armed for the caller's budget";
  w.at(2_ms);
  w.tk.fire(0);
  EXPECT_EQ(w.th(t).state, ThreadState::kThrottled);
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(b)) << "throttled where it was: inside the callee";
  EXPECT_EQ(w.count(TraceEvent::kBudgetExhausted), 1u);
}

TEST(Invocation, CallInTheLastMicrosecondOfTheBudgetRunsOnToTheTimer) {
  // Less than the minimum budget (1us) is left at the call: an invocation takes no decision, so
  // the piece runs on to the budget timer, where the thread is throttled (found by tests/fuzz:
  // the invariant check used to call this timer late).
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  SchedParams budgeted;
  budgeted.server = ServerKind::kSporadic;
  budgeted.budget = 1_ms;
  budgeted.period = 10_ms;
  const ThreadId t = w.running_thread(a, 5, 0, budgeted);
  const CapSlot to_b = *w.k().grant_invoke(a, b);
  w.at(Duration::nanoseconds(999'500));
  ASSERT_TRUE(w.k().call(t, to_b).is_ok());
  EXPECT_EQ(w.th(t).state, ThreadState::kRunning);
  ASSERT_TRUE(w.k().reply(t).is_ok());
  EXPECT_EQ(w.tk.platform.timers[0], Instant::epoch() + 1_ms);
  w.at(1_ms);
  w.tk.fire(0);
  EXPECT_EQ(w.th(t).state, ThreadState::kThrottled);
  EXPECT_EQ(w.count(TraceEvent::kBudgetExhausted), 1u);
}

TEST(Invocation, NestedCallsUseTheCurrentDomainsCapabilitiesAndAreBounded) {
  World w;
  std::vector<FwpId> chain;
  for (int i = 0; i <= kMaxCallDepth + 1; ++i) chain.push_back(w.spawn());
  std::vector<CapSlot> next;  // chain[i] may call chain[i + 1]
  for (size_t i = 0; i + 1 < chain.size(); ++i) next.push_back(*w.k().grant_invoke(chain[i], chain[i + 1]));
  const ThreadId t = w.running_thread(chain[0]);
  // chain[0] holds a capability to chain[1] only: from inside chain[1] that slot is chain[1]'s.
  const CapSlot a_to_c = *w.k().grant_invoke(chain[0], chain[2]);
  ASSERT_TRUE(w.k().call(t, next[0]).is_ok());
  EXPECT_EQ(w.k().call(t, a_to_c).error(), Error::kDenied) << "chain[1] has no capability in that slot";
  for (int d = 1; d < kMaxCallDepth; ++d) ASSERT_TRUE(w.k().call(t, next[d]).is_ok()) << d;
  EXPECT_EQ(w.th(t).call_depth, kMaxCallDepth);
  const Fwp* deepest = w.th(t).domain;
  EXPECT_EQ(w.k().call(t, next[kMaxCallDepth]).error(), Error::kOutOfCapacity) << "call depth overflow";
  EXPECT_EQ(w.th(t).domain, deepest) << "a refused call changes nothing";
  for (int d = kMaxCallDepth; d > 0; --d) ASSERT_TRUE(w.k().reply(t).is_ok());
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(chain[0]));
  EXPECT_EQ(w.k().reply(t).error(), Error::kBadState) << "reply outside a call";
}

TEST(Invocation, TerminatingTheCalleeReturnsTheCallerWithAnError) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  const FwpId c = w.spawn();
  const ThreadId t = w.running_thread(a);
  const ThreadId b_own = w.running_thread(b, 1);  // b's own thread, ready behind t
  ASSERT_TRUE(w.k().call(t, *w.k().grant_invoke(a, b)).is_ok());
  ASSERT_TRUE(w.k().call(t, *w.k().grant_invoke(b, c)).is_ok());
  ASSERT_EQ(w.th(t).call_depth, 2);
  w.at(1_ms);
  ASSERT_TRUE(w.k().fwp_terminate(b).is_ok());  // mid-call: t is in c, called from b
  // t is back in a, where the call into b was made, and learns the call failed.
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(a));
  EXPECT_EQ(w.th(t).call_depth, 0);
  EXPECT_TRUE(w.th(t).call_aborted);
  EXPECT_EQ(w.th(t).state, ThreadState::kRunning) << "t itself is not harmed";
  EXPECT_EQ(w.k().thread(b_own).error(), Error::kStale) << "b's own thread died with b";
  EXPECT_TRUE((*w.k().fwp(c))->visitors.empty());
  // Calling into the dead FWP fails at once instead of hanging.
  const Result<CapSlot> stale = w.k().grant_invoke(a, b);
  EXPECT_FALSE(stale.is_ok());
}

TEST(Invocation, CallIntoADyingOrRecycledFwpIsAnError) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  const ThreadId t = w.running_thread(a);
  const CapSlot to_b = *w.k().grant_invoke(a, b);
  ASSERT_TRUE(w.k().fwp_retain(b).is_ok());
  ASSERT_TRUE(w.k().fwp_terminate(b).is_ok());
  EXPECT_EQ(w.k().call(t, to_b).error(), Error::kBadState) << "dying, still referenced";
  ASSERT_TRUE(w.k().fwp_release(b).is_ok());
  EXPECT_EQ(w.k().call(t, to_b).error(), Error::kStale) << "recycled: the capability names nothing";
  EXPECT_EQ(w.th(t).domain, *w.k().fwp(a));
}

TEST(Invocation, HomeTerminatedWhileVisitingLeavesNoFrameBehind) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  const ThreadId t = w.running_thread(a);
  ASSERT_TRUE(w.k().call(t, *w.k().grant_invoke(a, b)).is_ok());
  ASSERT_TRUE(w.k().fwp_terminate(a).is_ok());
  EXPECT_EQ(w.k().thread(t).error(), Error::kStale);
  EXPECT_TRUE((*w.k().fwp(b))->visitors.empty());
  EXPECT_TRUE(w.k().check_invariants().ok());
}

TEST(Invocation, BadArgumentsAreErrorValues) {
  World w;
  const FwpId a = w.spawn();
  const ThreadId t = w.running_thread(a);
  const ThreadId idle = w.running_thread(a, 1);  // ready, not running
  EXPECT_EQ(w.k().call(t, kCapSlots).error(), Error::kInvalidArgument);
  EXPECT_EQ(w.k().call(t, 0xffff'ffffu).error(), Error::kInvalidArgument);
  EXPECT_EQ(w.k().call(t, 3).error(), Error::kDenied) << "empty slot";
  EXPECT_EQ(w.k().call(idle, 0).error(), Error::kBadState) << "only the running thread calls";
  EXPECT_EQ(w.k().call(ThreadId{999, 0}, 0).error(), Error::kNotFound);
  const NotificationId n = *w.k().notification_create();
  const CapSlot send = *w.k().grant_notification(a, n, CapKind::kNotifySend);
  EXPECT_EQ(w.k().call(t, send).error(), Error::kDenied) << "a notification capability is not an invoke one";
  EXPECT_EQ(w.k().grant_notification(a, n, CapKind::kInvoke).error(), Error::kInvalidArgument);
  for (uint32_t i = 1; i < kCapSlots; ++i) (void)w.k().grant_invoke(a, a);
  EXPECT_EQ(w.k().grant_invoke(a, a).error(), Error::kOutOfCapacity) << "capability table full";
  EXPECT_TRUE(w.k().revoke(a, send).is_ok());
  EXPECT_EQ(w.k().notify(t, send).error(), Error::kDenied) << "revoked";
}

// --- notifications ----------------------------------------------------------------------------------

TEST(Notification, SignalsAreCountedAndConsumed) {
  World w;
  const FwpId a = w.spawn();
  const ThreadId t = w.running_thread(a);
  const NotificationId n = *w.k().notification_create();
  const CapSlot send = *w.k().grant_notification(a, n, CapKind::kNotifySend);
  const CapSlot recv = *w.k().grant_notification(a, n, CapKind::kNotifyReceive);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w.k().notify(t, send).is_ok());
  EXPECT_EQ(w.count(TraceEvent::kNotify), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(*w.k().wait(t, recv)) << "pending signal " << i;
  const Result<bool> blocked = w.k().wait(t, recv);
  ASSERT_TRUE(blocked.is_ok());
  EXPECT_FALSE(*blocked);
  EXPECT_EQ(w.th(t).state, ThreadState::kBlocked);
  EXPECT_EQ(w.k().wakeup(t).error(), Error::kBadState) << "only its notification wakes it";
  ASSERT_TRUE(w.k().notify_irq(n).is_ok());
  EXPECT_EQ(w.th(t).state, ThreadState::kRunning) << "woken from interrupt context";
}

TEST(Notification, ASignalWakesOneWaiterInArrivalOrder) {
  World w;
  const FwpId a = w.spawn();
  const NotificationId n = *w.k().notification_create();
  const CapSlot recv = *w.k().grant_notification(a, n, CapKind::kNotifyReceive);
  const ThreadId first = w.running_thread(a, 5, 0);
  ASSERT_FALSE(*w.k().wait(first, recv));
  const ThreadId second = w.running_thread(a, 5, 1);  // another CPU
  ASSERT_FALSE(*w.k().wait(second, recv));
  ASSERT_TRUE(w.k().notify_irq(n).is_ok());
  EXPECT_EQ(w.th(first).state, ThreadState::kRunning);
  EXPECT_EQ(w.th(second).state, ThreadState::kBlocked);
  ASSERT_TRUE(w.k().notify_irq(n).is_ok());
  EXPECT_EQ(w.th(second).state, ThreadState::kRunning) << "woken on CPU 1";
  EXPECT_EQ(w.k().current(1), &w.th(second));
}

TEST(Notification, BoundNotificationReleasesJobsAndCountsWhileBusy) {
  World w;
  const FwpId a = w.spawn();
  ThreadParams p;
  p.fwp = a;
  p.release = ReleaseKind::kSporadic;
  p.period = 1_ms;
  p.relative_deadline = 10_ms;
  p.sched.relative_deadline = 10_ms;
  const ThreadId driver = *w.k().thread_create(p);
  const NotificationId irq = *w.k().notification_create();
  ASSERT_TRUE(w.k().notification_bind(irq, driver).is_ok());
  ASSERT_TRUE(w.k().notify_irq(irq).is_ok());
  EXPECT_EQ(w.th(driver).state, ThreadState::kRunning);
  EXPECT_EQ(w.th(driver).job(), 0u);
  ASSERT_TRUE(w.k().notify_irq(irq).is_ok());  // busy: counted
  ASSERT_TRUE(w.k().notify_irq(irq).is_ok());
  w.at(1_ms);
  ASSERT_TRUE(w.k().complete(driver).is_ok());
  EXPECT_EQ(w.th(driver).job(), 1u) << "the next signal's job is released on completion";
  ASSERT_TRUE(w.k().complete(driver).is_ok());
  EXPECT_EQ(w.th(driver).job(), 2u);
  ASSERT_TRUE(w.k().complete(driver).is_ok());
  EXPECT_EQ(w.th(driver).state, ThreadState::kWaiting) << "three signals, three jobs";
  EXPECT_EQ(w.k().notification_bind(irq, driver).error(), Error::kBusy);
  const CapSlot recv = *w.k().grant_notification(a, irq, CapKind::kNotifyReceive);
  const ThreadId other = w.running_thread(a, 9);
  EXPECT_EQ(w.k().wait(other, recv).error(), Error::kBadState) << "a bound notification is not waited on";
}

TEST(Notification, TerminationRemovesWaiters) {
  World w;
  const FwpId a = w.spawn();
  const FwpId b = w.spawn();
  const NotificationId n = *w.k().notification_create();
  const ThreadId t = w.running_thread(a);
  ASSERT_FALSE(*w.k().wait(t, *w.k().grant_notification(a, n, CapKind::kNotifyReceive)));
  ASSERT_TRUE(w.k().fwp_terminate(a).is_ok());
  ASSERT_TRUE(w.k().notify_irq(n).is_ok());  // nobody to wake: counted, no crash
  const ThreadId u = w.running_thread(b);
  EXPECT_TRUE(*w.k().wait(u, *w.k().grant_notification(b, n, CapKind::kNotifyReceive)));
}

// --- rings ----------------------------------------------------------------------------------------

struct RingWorld : World {
  std::array<uint8_t, 4 * (4 + 16)> storage{};
  FwpId producer = spawn();
  FwpId consumer = spawn();
  RingId ring = *k().ring_create(Span<uint8_t>(storage.data(), storage.size()), 16, 4);
  CapSlot send = *k().grant_ring(producer, ring, CapKind::kRingSend);
  CapSlot recv = *k().grant_ring(consumer, ring, CapKind::kRingReceive);
  ThreadId p = running_thread(producer, 5, 0);
  ThreadId c = running_thread(consumer, 5, 1);

  Status put(const std::string& s) { return k().ring_send(p, send, s.data(), s.size()); }
  std::string get() {
    char buf[16];
    const Result<size_t> n = k().ring_receive(c, recv, buf, sizeof buf);
    return n ? std::string(buf, *n) : std::string("<") + error_name(n.error()) + ">";
  }
};

TEST(Ring, FullAndEmptyEdges) {
  RingWorld w;
  EXPECT_EQ(w.get(), "<would_block>") << "empty";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(w.put("m" + std::to_string(i)).is_ok());
  EXPECT_EQ(w.put("overflow").error(), Error::kWouldBlock) << "full: back-pressure, no overwrite";
  EXPECT_EQ((*w.k().ring(w.ring))->refused, 1u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(w.get(), "m" + std::to_string(i));
  EXPECT_EQ(w.get(), "<would_block>");
}

TEST(Ring, WrapsAroundInOrder) {
  RingWorld w;
  int sent = 0, received = 0;
  for (int round = 0; round < 100; ++round) {
    const int burst = round % 5;  // 0..4 messages per round
    for (int i = 0; i < burst; ++i) {
      if (w.put(std::string(static_cast<size_t>(sent % 17), 'a' + static_cast<char>(sent % 26))).is_ok()) ++sent;
    }
    for (int i = 0; i < (round % 3) + 1 && received < sent; ++i) {
      EXPECT_EQ(w.get(), std::string(static_cast<size_t>(received % 17), 'a' + static_cast<char>(received % 26)));
      ++received;
    }
  }
  while (received < sent) {
    EXPECT_EQ(w.get(), std::string(static_cast<size_t>(received % 17), 'a' + static_cast<char>(received % 26)));
    ++received;
  }
  EXPECT_GT(sent, 100);
  EXPECT_GT((*w.k().ring(w.ring))->tail, 4u * 20) << "wrapped many times";
}

TEST(Ring, PayloadIsCopiedNotShared) {
  RingWorld w;
  char message[16] = "original";
  ASSERT_TRUE(w.k().ring_send(w.p, w.send, message, 8).is_ok());
  std::memcpy(message, "changed!", 8);  // the sender reuses its buffer
  EXPECT_EQ(w.get(), "original");
}

TEST(Ring, SizesAndRolesAreChecked) {
  RingWorld w;
  EXPECT_EQ(w.put(std::string(17, 'x')).error(), Error::kInvalidArgument) << "larger than a slot";
  ASSERT_TRUE(w.put("sixteen bytes!!!").is_ok());
  char small[4];
  EXPECT_EQ(w.k().ring_receive(w.c, w.recv, small, sizeof small).error(), Error::kInvalidArgument);
  EXPECT_EQ(w.get(), "sixteen bytes!!!") << "nothing was consumed by the failed receive";
  EXPECT_EQ(w.k().ring_send(w.c, w.recv, "x", 1).error(), Error::kDenied) << "the consumer cannot send";
  const FwpId intruder = w.spawn();
  EXPECT_EQ(w.k().grant_ring(intruder, w.ring, CapKind::kRingSend).error(), Error::kBusy) << "single producer";
  ASSERT_TRUE(w.k().fwp_terminate(w.producer).is_ok());
  EXPECT_TRUE(w.k().grant_ring(intruder, w.ring, CapKind::kRingSend).is_ok()) << "the dead producer's end is free";
  uint8_t tiny[8];
  EXPECT_EQ(w.k().ring_create(Span<uint8_t>(tiny, 8), 16, 4).error(), Error::kInvalidArgument) << "storage too small";
  EXPECT_EQ(w.k().ring_create(Span<uint8_t>(tiny, 8), 0, 1).error(), Error::kInvalidArgument);
  EXPECT_EQ(w.k().ring_create(Span<uint8_t>(tiny, 8), 4, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(w.k().ring_create(Span<uint8_t>(nullptr, 0), 4, 1).error(), Error::kInvalidArgument);
}

TEST(Ring, ArrivalInAnEmptyRingSignalsItsNotification) {
  World w;
  std::array<uint8_t, 2 * (4 + 8)> storage{};
  const FwpId prod = w.spawn();
  const FwpId cons = w.spawn();
  const NotificationId n = *w.k().notification_create();
  const RingId r = *w.k().ring_create(Span<uint8_t>(storage.data(), storage.size()), 8, 2, n);
  const CapSlot send = *w.k().grant_ring(prod, r, CapKind::kRingSend);
  const CapSlot recv = *w.k().grant_ring(cons, r, CapKind::kRingReceive);
  const CapSlot wait_slot = *w.k().grant_notification(cons, n, CapKind::kNotifyReceive);
  const ThreadId c = w.running_thread(cons, 5, 1);
  ASSERT_FALSE(*w.k().wait(c, wait_slot));
  const ThreadId p = w.running_thread(prod, 5, 0);
  ASSERT_TRUE(w.k().ring_send(p, send, "pkt", 3).is_ok());
  EXPECT_EQ(w.th(c).state, ThreadState::kRunning) << "the consumer on CPU 1 was woken";
  char buf[8];
  EXPECT_EQ(*w.k().ring_receive(c, recv, buf, sizeof buf), 3u);
}

}  // namespace
}  // namespace edgeos::testing

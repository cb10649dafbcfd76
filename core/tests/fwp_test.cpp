// The FWP life cycle: templates, pools, quotas, termination, recycling and stale ids.
#include <gtest/gtest.h>

#include "test_platform.hpp"

namespace edgeos::testing {
namespace {

using namespace time_literals;

ThreadParams periodic_in(FwpId fwp, uint8_t prio, Duration period, CpuId cpu = 0) {
  ThreadParams p;
  p.fwp = fwp;
  p.cpu = cpu;
  p.sched.priority = prio;
  p.sched.relative_deadline = period;
  p.period = period;
  p.relative_deadline = period;
  return p;
}

TEST(Fwp, SpawnCreatesAnActiveFwpAndTracesIt) {
  TestKernel tk;
  const TemplateId tmpl = *tk.k().template_create({});
  const Result<FwpId> f = tk.k().fwp_spawn(tmpl);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ((*tk.k().fwp(*f))->state, FwpState::kActive);
  EXPECT_EQ(tk.platform.instantiations, 1);
  EXPECT_EQ(tk.platform.count(TraceEvent::kFwpCreate), 1u);
  EXPECT_EQ(tk.platform.count(TraceEvent::kFwpActivate), 1u);
}

TEST(Fwp, TableExhaustionIsAnErrorNotACrash) {
  TestKernel tk(1, false, 16, /*max_fwps=*/4);
  const TemplateId tmpl = *tk.k().template_create({});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  const Result<FwpId> f = tk.k().fwp_spawn(tmpl);
  EXPECT_EQ(f.error(), Error::kOutOfCapacity);
  EXPECT_EQ(tk.k().live_fwps(), 4u);
}

TEST(Fwp, TemplateQuotaLimitsInstances) {
  TestKernel tk(1, false, 16, 4);
  TemplateParams tp;
  tp.max_instances = 2;
  const TemplateId tmpl = *tk.k().template_create(tp);
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  EXPECT_EQ(tk.k().fwp_spawn(tmpl).error(), Error::kOutOfCapacity);
  const TemplateId other = *tk.k().template_create({});
  EXPECT_TRUE(tk.k().fwp_spawn(other).is_ok()) << "the quota is per template";
}

TEST(Fwp, SpawnFromPoolDoesNotInstantiate) {
  TestKernel tk(1, false, 16, 4);
  TemplateParams tp;
  tp.pool_limit = 2;
  const TemplateId tmpl = *tk.k().template_create(tp);
  ASSERT_TRUE(tk.k().fwp_prefill(tmpl, 2).is_ok());
  EXPECT_EQ(tk.platform.instantiations, 2);
  EXPECT_EQ(tk.k().fwp_prefill(tmpl, 1).error(), Error::kInvalidArgument) << "beyond pool_limit";
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  EXPECT_EQ(tk.platform.instantiations, 2) << "both came from the pool";
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  EXPECT_EQ(tk.platform.instantiations, 3) << "empty pool: instantiated";
}

TEST(Fwp, TerminatedFwpIsRecycledWithANewIdentity) {
  TestKernel tk(1, false, 16, 4);
  TemplateParams tp;
  tp.pool_limit = 1;
  const TemplateId tmpl = *tk.k().template_create(tp);
  const FwpId a = *tk.k().fwp_spawn(tmpl);
  ASSERT_TRUE(tk.k().fwp_terminate(a).is_ok());
  EXPECT_EQ(tk.platform.resets, 1);
  EXPECT_EQ(tk.platform.count(TraceEvent::kFwpRecycle), 1u);
  EXPECT_EQ(tk.k().fwp(a).error(), Error::kStale) << "the old tenant's id must not name the recycled FWP";
  const FwpId b = *tk.k().fwp_spawn(tmpl);
  EXPECT_EQ(b.index, a.index) << "activated from the pool";
  EXPECT_NE(b.generation, a.generation);
  EXPECT_EQ(tk.platform.instantiations, 1);
}

TEST(Fwp, TerminatedFwpIsReleasedWhenThePoolIsFull) {
  TestKernel tk(1, false, 16, 4);
  const TemplateId tmpl = *tk.k().template_create({});  // pool_limit 0
  const FwpId a = *tk.k().fwp_spawn(tmpl);
  ASSERT_TRUE(tk.k().fwp_terminate(a).is_ok());
  EXPECT_EQ(tk.platform.releases, 1);
  EXPECT_EQ(tk.k().live_fwps(), 0u);
  EXPECT_EQ(tk.k().fwp(a).error(), Error::kStale);
  EXPECT_EQ(tk.k().fwp_terminate(a).error(), Error::kStale);
}

TEST(Fwp, RetainedIdIsNotReusedUntilReleased) {
  TestKernel tk(1, false, 16, /*max_fwps=*/2);
  const TemplateId tmpl = *tk.k().template_create({});
  const FwpId a = *tk.k().fwp_spawn(tmpl);
  ASSERT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
  ASSERT_TRUE(tk.k().fwp_retain(a).is_ok());
  ASSERT_TRUE(tk.k().fwp_terminate(a).is_ok());
  // Still referenced: dying, still named by its id, and its slot is not handed out.
  ASSERT_TRUE(tk.k().fwp(a).is_ok());
  EXPECT_EQ((*tk.k().fwp(a))->state, FwpState::kDying);
  EXPECT_EQ(tk.k().fwp_spawn(tmpl).error(), Error::kOutOfCapacity);
  EXPECT_EQ(tk.k().fwp_terminate(a).error(), Error::kBadState);
  ASSERT_TRUE(tk.k().fwp_release(a).is_ok());
  EXPECT_EQ(tk.k().fwp(a).error(), Error::kStale);
  const FwpId c = *tk.k().fwp_spawn(tmpl);
  EXPECT_EQ(c.index, a.index);
  EXPECT_NE(c, a);
  EXPECT_EQ(tk.k().fwp_release(c).error(), Error::kBadState) << "release without retain";
}

TEST(Fwp, TerminateKillsItsThreadsAndTheCpuMovesOn) {
  TestKernel tk(2, false);
  const TemplateId tmpl = *tk.k().template_create({});
  const FwpId victim = *tk.k().fwp_spawn(tmpl);
  const FwpId other = *tk.k().fwp_spawn(tmpl);
  const ThreadId v0 = *tk.k().thread_create(periodic_in(victim, 9, 10_ms, 0));
  const ThreadId v1 = *tk.k().thread_create(periodic_in(victim, 9, 10_ms, 1));
  const ThreadId o0 = *tk.k().thread_create(periodic_in(other, 1, 10_ms, 0));
  tk.fire(0);
  tk.fire(1);
  ASSERT_EQ(tk.k().current(0), *tk.k().thread(v0));
  ASSERT_EQ(tk.k().current(1), *tk.k().thread(v1));

  tk.platform.clock = Instant::epoch() + 1_ms;
  ASSERT_TRUE(tk.k().fwp_terminate(victim).is_ok());
  EXPECT_EQ(tk.k().thread(v0).error(), Error::kStale);
  EXPECT_EQ(tk.k().thread(v1).error(), Error::kStale);
  EXPECT_EQ(tk.platform.count(TraceEvent::kThreadExit), 2u);
  EXPECT_EQ(tk.k().current(0), *tk.k().thread(o0)) << "the other tenant gets CPU 0";
  EXPECT_EQ(tk.platform.running[0], *tk.k().thread(o0));
  EXPECT_EQ(tk.k().current(1), nullptr);
  EXPECT_EQ(tk.platform.running[1], nullptr);
  // CPU time of the dead threads is kept: busy time is conserved.
  EXPECT_EQ(tk.k().cpu(0).busy, 1_ms);
  EXPECT_EQ(tk.k().cpu(0).retired, 1_ms);
}

TEST(Fwp, FailedInstantiationLeavesNoTrace) {
  TestKernel tk;
  const TemplateId tmpl = *tk.k().template_create({});
  tk.platform.instantiate_result = Error::kOutOfCapacity;
  EXPECT_EQ(tk.k().fwp_spawn(tmpl).error(), Error::kOutOfCapacity);
  EXPECT_EQ(tk.k().live_fwps(), 0u);
  EXPECT_EQ(tk.platform.count(TraceEvent::kFwpCreate), 0u);
  tk.platform.instantiate_result = Status::ok();
  EXPECT_TRUE(tk.k().fwp_spawn(tmpl).is_ok());
}

TEST(Fwp, LifeCycleStateErrors) {
  TestKernel tk;
  const TemplateId tmpl = *tk.k().template_create({});
  const FwpId idle = *tk.k().fwp_create(tmpl);
  EXPECT_EQ(tk.k().thread_create(periodic_in(idle, 1, 1_ms)).error(), Error::kBadState) << "not active yet";
  ASSERT_TRUE(tk.k().fwp_activate(idle).is_ok());
  EXPECT_EQ(tk.k().fwp_activate(idle).error(), Error::kBadState);
  EXPECT_TRUE(tk.k().thread_create(periodic_in(idle, 1, 1_ms)).is_ok());
  EXPECT_EQ(tk.k().fwp_spawn(TemplateId{7, 0}).error(), Error::kNotFound);
}

}  // namespace
}  // namespace edgeos::testing

// Properties of budget enforcement on random runs of the core-only simulator, each checked
// against something computed independently of the kernel:
//
//  - the sliding-window property of sporadic servers: in no window of one period does a context
//    consume more than its budget (checked on the execution slices of the trace);
//  - temporal isolation: a tenant that overruns (10x its reservation, or forever) makes no
//    other tenant miss, as long as the reservations pass the analysis done here (response-time
//    analysis under FP, the utilisation bound under EDF). A control run without the server shows
//    that the same overruns do cause misses, so the property is not vacuous.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../support/schedule.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/simulator/core_sim.hpp"

namespace edgeos::testing {
namespace {

using namespace time_literals;

struct Interval {
  int64_t start, end;
};

// The largest total length of `iv` (sorted, disjoint) inside any window [s, s + len). The maximum
// is reached with the window starting at an interval's start or ending at an interval's end.
int64_t max_window(const std::vector<Interval>& iv, int64_t len) {
  std::vector<int64_t> prefix(iv.size() + 1, 0);
  for (size_t i = 0; i < iv.size(); ++i) prefix[i + 1] = prefix[i] + (iv[i].end - iv[i].start);
  auto covered = [&](int64_t s) {
    const int64_t e = s + len;
    // Intervals ending after s, starting before e.
    const size_t lo = std::upper_bound(iv.begin(), iv.end(), s, [](int64_t v, const Interval& x) { return v < x.end; }) - iv.begin();
    const size_t hi = std::lower_bound(iv.begin(), iv.end(), e, [](const Interval& x, int64_t v) { return x.start < v; }) - iv.begin();
    if (lo >= hi) return int64_t{0};
    int64_t sum = prefix[hi] - prefix[lo];
    sum -= std::max<int64_t>(0, s - iv[lo].start);
    sum -= std::max<int64_t>(0, iv[hi - 1].end - e);
    return sum;
  };
  int64_t best = 0;
  for (const Interval& x : iv) best = std::max({best, covered(x.start), covered(x.end - len)});
  return best;
}

TEST(SlidingWindow, CheckerAgreesWithBruteForce) {
  Rng rng(5);
  for (int round = 0; round < 300; ++round) {
    std::vector<Interval> iv;
    int64_t t = 0;
    for (int i = 0; i < 12; ++i) {
      t += rng.between(0, 6);
      const int64_t len = rng.between(1, 5);
      iv.push_back({t, t + len});
      t += len;
    }
    const int64_t window = rng.between(1, 20);
    int64_t brute = 0;
    for (int64_t s = -window; s <= t; ++s) {
      int64_t sum = 0;
      for (const Interval& x : iv) sum += std::max<int64_t>(0, std::min(x.end, s + window) - std::max(x.start, s));
      brute = std::max(brute, sum);
    }
    ASSERT_EQ(max_window(iv, window), brute);
  }
}

std::map<uint32_t, std::vector<Interval>> slices_by_thread(const std::vector<TraceRecord>& records) {
  std::map<uint32_t, std::vector<Interval>> out;
  std::map<uint32_t, int64_t> open;  // by CPU: start of the running slice
  std::map<uint32_t, uint32_t> who;
  for (const TraceRecord& r : records) {
    switch (r.event) {
      case TraceEvent::kStart:
      case TraceEvent::kResume:
        open[r.cpu] = r.time_ns;
        who[r.cpu] = r.thread;
        break;
      case TraceEvent::kPreempt:
      case TraceEvent::kComplete:
      case TraceEvent::kBlock:
      case TraceEvent::kBudgetExhausted:
      case TraceEvent::kThreadExit:
        if (open.count(r.cpu) != 0 && who[r.cpu] == r.thread) {
          if (r.time_ns > open[r.cpu]) out[r.thread].push_back({open[r.cpu], r.time_ns});
          open.erase(r.cpu);
        }
        break;
      default:
        break;
    }
  }
  return out;
}

// Random sporadic-server workloads, overloaded on purpose so that budgets run out all the time,
// with higher-priority interference so that pieces are fragmented, and refill bounds from 1 to 8
// so that refills merge. Stops after 10^5 replenishments.
TEST(SlidingWindow, SporadicServersNeverExceedTheirBudgetInAnyWindow) {
  uint64_t replenishments = 0;
  uint64_t windows_checked = 0;
  for (uint64_t seed = 0; replenishments < 100'000; ++seed) {
    ASSERT_LT(seed, 200u) << "too few replenishments per run";
    Rng rng = Rng::derive(seed, 77);
    sim::SimConfig cfg;
    cfg.num_cpus = 2;
    cfg.policy = seed % 2 == 0 ? sim::Policy::kFixedPriority : sim::Policy::kEdf;
    cfg.check_invariants = true;
    cfg.max_threads = 32;
    TraceBuffer buf;
    sim::CoreSimulator s(cfg, buf);
    const FwpId fwp = *s.kernel().fwp_spawn(*s.kernel().template_create({}));
    struct Server {
      ThreadId id;
      Duration budget, period;
    };
    std::vector<Server> servers;
    for (uint32_t i = 0; i < 10; ++i) {
      ThreadParams p;
      p.fwp = fwp;
      p.cpu = i % 2;
      p.sched.priority = static_cast<uint8_t>(rng.below(8));
      const bool server = rng.below(4) != 0;
      const Duration period = Duration::microseconds(rng.between(200, 3000));
      p.relative_deadline = period;
      p.sched.relative_deadline = period;
      p.period = period;
      if (server) {
        p.sched.server = ServerKind::kSporadic;
        p.sched.budget = Duration::microseconds(rng.between(5, period.ns() / 1000));
        p.sched.period = period;
        p.sched.max_refills = static_cast<uint8_t>(rng.between(1, kMaxRefills));
      }
      // Costs well above the budget; sporadic arrivals far more often than the period.
      const Duration lo = Duration::microseconds(rng.between(1, 400));
      sim::CostFn cost = sim::uniform_cost(lo, lo * 4, Rng::derive(seed, 1000 + i));
      Result<ThreadId> id = Error::kInvalidArgument;
      if (rng.below(2) == 0) {
        p.release = ReleaseKind::kSporadic;
        id = s.add_thread(p, std::move(cost),
                          sim::sporadic_arrivals(Instant::epoch() + Duration::microseconds(rng.between(0, 500)),
                                                 Duration::microseconds(rng.between(10, 300)),
                                                 Duration::microseconds(rng.between(0, 600)), Rng::derive(seed, 2000 + i)));
      } else {
        id = s.add_thread(p, std::move(cost));
      }
      ASSERT_TRUE(id.is_ok()) << error_name(id.error());
      if (server) servers.push_back({*id, p.sched.budget, p.sched.period});
    }
    s.run_until(Instant::epoch() + 300_ms);
    const auto slices = slices_by_thread(buf.records());
    for (const Server& srv : servers) {
      const Thread& t = **s.kernel().thread(srv.id);
      replenishments += t.sc->replenishments;
      const auto it = slices.find(srv.id.index);
      if (it == slices.end()) continue;
      ++windows_checked;
      const int64_t worst = max_window(it->second, srv.period.ns());
      ASSERT_LE(worst, srv.budget.ns()) << "seed " << seed << ": thread " << srv.id.index << " consumed " << worst
                                         << "ns in a window of " << srv.period.ns() << "ns with budget "
                                         << srv.budget.ns() << "ns";
    }
  }
  RecordProperty("replenishments", static_cast<int>(replenishments));
  EXPECT_GE(replenishments, 100'000u);
  EXPECT_GT(windows_checked, 50u);
}

// --- temporal isolation ---------------------------------------------------------------------------

struct Task {
  int64_t c, t;  // microseconds
};

// Exact response-time analysis (Joseph & Pandya 1986; Audsley et al. 1993) of task `i` under
// fixed priorities, tasks sorted by decreasing priority; implicit deadlines.
bool rta_schedulable(const std::vector<Task>& by_priority, size_t i) {
  int64_t r = by_priority[i].c;
  for (;;) {
    int64_t next = by_priority[i].c;
    for (size_t j = 0; j < i; ++j) next += (r + by_priority[j].t - 1) / by_priority[j].t * by_priority[j].c;
    if (next > by_priority[i].t) return false;
    if (next == r) return true;
    r = next;
  }
}

enum class Offender { kTenTimes, kSpinsForever };

struct IsolationResult {
  uint64_t good_misses = 0;
  uint64_t good_jobs = 0;
};

// One CPU: `good` periodic tasks (plain contexts) and one offending tenant whose reservation is
// (budget, period), enforced by `server` (or not at all with kNone, the control run).
IsolationResult run_isolation(const std::vector<Task>& good, Task reservation, ServerKind server, bool edf,
                              Offender offender, const std::vector<uint8_t>& priorities, uint8_t bad_priority) {
  sim::SimConfig cfg;
  cfg.policy = edf ? sim::Policy::kEdf : sim::Policy::kFixedPriority;
  cfg.check_invariants = true;
  cfg.max_threads = 16;
  TraceBuffer buf;
  sim::CoreSimulator s(cfg, buf);
  auto& k = s.kernel();
  const TemplateId tmpl = *k.template_create({});
  const FwpId good_fwp = *k.fwp_spawn(tmpl);
  const FwpId bad_fwp = *k.fwp_spawn(tmpl);
  for (size_t i = 0; i < good.size(); ++i) {
    ThreadParams p;
    p.fwp = good_fwp;
    p.period = Duration::microseconds(good[i].t);
    p.relative_deadline = p.period;
    p.sched.relative_deadline = p.period;
    p.sched.priority = priorities[i];
    EXPECT_TRUE(s.add_thread(p, sim::fixed_cost(Duration::microseconds(good[i].c))).is_ok());
  }
  ThreadParams bad;
  bad.fwp = bad_fwp;
  bad.period = Duration::microseconds(reservation.t);
  bad.relative_deadline = bad.period;
  bad.sched.relative_deadline = bad.period;
  bad.sched.priority = bad_priority;
  bad.sched.server = server;
  if (server != ServerKind::kNone) {
    bad.sched.budget = Duration::microseconds(reservation.c);
    bad.sched.period = Duration::microseconds(reservation.t);
  }
  const Duration cost = offender == Offender::kTenTimes ? Duration::microseconds(10 * reservation.c) : 1_s * 3600;
  EXPECT_TRUE(s.add_thread(bad, sim::fixed_cost(cost)).is_ok());
  s.run_until(Instant::epoch() + 2_s);
  IsolationResult r;
  for (const TraceRecord& rec : buf.records()) {
    if (rec.fwp != good_fwp.index) continue;
    if (rec.event == TraceEvent::kDeadlineMiss) ++r.good_misses;
    if (rec.event == TraceEvent::kComplete) ++r.good_jobs;
  }
  return r;
}

std::vector<Task> random_tasks(Rng& rng, int n, int64_t period_lo, int64_t period_hi, int64_t util_permille) {
  std::vector<Task> out;
  for (int i = 0; i < n; ++i) {
    Task t;
    t.t = rng.between(period_lo, period_hi);
    t.c = std::max<int64_t>(1, t.t * util_permille / 1000 / n);
    t.c = std::max<int64_t>(1, rng.between(t.c / 2, t.c));
    out.push_back(t);
  }
  return out;
}

TEST(TemporalIsolation, FixedPriorityWithASporadicServer) {
  int admitted = 0;
  uint64_t control_misses = 0;
  for (uint64_t seed = 0; admitted < 60; ++seed) {
    ASSERT_LT(seed, 5000u);
    Rng rng = Rng::derive(seed, 3);
    std::vector<Task> good = random_tasks(rng, static_cast<int>(rng.between(2, 4)), 500, 5000, 650);
    Task res;
    res.t = rng.between(500, 5000);
    res.c = std::max<int64_t>(5, res.t * rng.between(10, 30) / 100);
    // Rate-monotonic priorities over the good tasks and the reservation (as a periodic task).
    std::vector<Task> all = good;
    all.push_back(res);
    std::vector<size_t> order(all.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all[a].t < all[b].t; });
    std::vector<Task> by_priority;
    for (size_t i : order) by_priority.push_back(all[i]);
    bool ok = true;
    for (size_t i = 0; i < by_priority.size(); ++i) {
      if (order[i] < good.size()) ok = ok && rta_schedulable(by_priority, i);
    }
    if (!ok) continue;
    ++admitted;
    std::vector<uint8_t> prio(all.size());
    for (size_t rank = 0; rank < order.size(); ++rank) prio[order[rank]] = static_cast<uint8_t>(200 - rank);
    const std::vector<uint8_t> good_prio(prio.begin(), prio.end() - 1);
    for (const Offender o : {Offender::kTenTimes, Offender::kSpinsForever}) {
      const IsolationResult r =
          run_isolation(good, res, ServerKind::kSporadic, false, o, good_prio, prio.back());
      ASSERT_EQ(r.good_misses, 0u) << "seed " << seed;
      ASSERT_GT(r.good_jobs, 100u);
    }
    control_misses += run_isolation(good, res, ServerKind::kNone, false, Offender::kTenTimes, good_prio, prio.back()).good_misses;
  }
  EXPECT_GT(control_misses, 0u) << "without the server the overrun must hurt someone";
}

void edf_isolation(ServerKind server) {
  int admitted = 0;
  uint64_t control_misses = 0;
  for (uint64_t seed = 0; admitted < 60; ++seed) {
    ASSERT_LT(seed, 5000u);
    Rng rng = Rng::derive(seed, server == ServerKind::kCbs ? 4 : 5);
    std::vector<Task> good = random_tasks(rng, static_cast<int>(rng.between(2, 5)), 300, 5000, 800);
    Task res;
    res.t = rng.between(300, 5000);
    res.c = std::max<int64_t>(5, res.t * rng.between(5, 30) / 100);
    // EDF admits the set if the utilisations (reservation included) add up to at most 1.
    int128_t num = 0;  // sum of c/t over a common denominator, exactly
    int128_t den = 1;
    for (const Task& t : good) den *= t.t;
    den *= res.t;
    for (const Task& t : good) num += static_cast<int128_t>(t.c) * (den / t.t);
    num += static_cast<int128_t>(res.c) * (den / res.t);
    if (num > den) continue;
    ++admitted;
    const std::vector<uint8_t> prio(good.size(), 0);
    for (const Offender o : {Offender::kTenTimes, Offender::kSpinsForever}) {
      const IsolationResult r = run_isolation(good, res, server, true, o, prio, 0);
      ASSERT_EQ(r.good_misses, 0u) << "seed " << seed;
      ASSERT_GT(r.good_jobs, 100u);
    }
    control_misses += run_isolation(good, res, ServerKind::kNone, true, Offender::kTenTimes, prio, 0).good_misses;
  }
  EXPECT_GT(control_misses, 0u) << "without the server the overrun must hurt someone";
}

TEST(TemporalIsolation, EdfWithAConstantBandwidthServer) { edf_isolation(ServerKind::kCbs); }
TEST(TemporalIsolation, EdfWithASporadicServer) { edf_isolation(ServerKind::kSporadic); }

}  // namespace
}  // namespace edgeos::testing

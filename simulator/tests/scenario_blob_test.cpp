// The compiled scenario: TOML -> binary -> kernel objects equals TOML -> kernel objects (the
// simulator's hosted instantiation, an independent implementation of the same canonical order),
// and no corruption of a blob gets past open() into a crash.
#include <gtest/gtest.h>

#include "edgeos/hosted/error.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "edgeos/workloads/scenario_compile.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::sim {
namespace {

std::string examples() { return EDGEOS_EXAMPLES_DIR; }

Span<const uint8_t> view(const std::string& bytes) {
  return Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// The blob's objects, instantiated into a kernel like the hosted run's.
struct BlobKernel {
  std::unique_ptr<TraceBuffer> sink;
  std::unique_ptr<CoreSimulator> sim;
  std::vector<TemplateId> templates;
  std::vector<FwpId> fwps;
  std::vector<ThreadId> threads;
  std::vector<RingId> rings;
  std::vector<uint8_t> ring_storage;
  blob::InstantiateError error;
};

BlobKernel instantiate_blob(const blob::ScenarioBlob& b, const SimConfig& config) {
  BlobKernel k;
  k.sink = std::make_unique<TraceBuffer>();
  k.sim = std::make_unique<CoreSimulator>(config, *k.sink);
  k.templates.resize(b.count(blob::kTemplates));
  k.fwps.resize(b.total_fwps());
  k.threads.resize(b.total_threads());
  k.rings.resize(b.total_rings());
  k.ring_storage.resize(b.ring_storage_bytes());
  const blob::Objects out{Span<TemplateId>(k.templates.data(), k.templates.size()), Span<FwpId>(k.fwps.data(), k.fwps.size()),
                          Span<ThreadId>(k.threads.data(), k.threads.size()), Span<RingId>(k.rings.data(), k.rings.size()),
                          Span<uint8_t>(k.ring_storage.data(), k.ring_storage.size())};
  k.error = blob::instantiate(k.sim->kernel(), b, out, [](uint32_t, uint32_t, ThreadId) {});
  return k;
}

template <class Id>
std::vector<Id> flatten(const std::vector<std::vector<Id>>& v) {
  std::vector<Id> out;
  for (const auto& x : v) out.insert(out.end(), x.begin(), x.end());
  return out;
}

// The workloads travel as arrivals: run the hosted simulation and read, from its trace, the
// requests each sporadic thread was released for (a release record carries the job's absolute
// deadline: arrival + the request's or the thread's relative deadline). Thread by thread they are
// the blob's arrivals for that target in order, found by following its `next` links; and the blob
// holds nothing beyond them but requests still queued at the end.
void expect_same_arrivals(const scenario::Scenario& s, const blob::ScenarioBlob& b, ScenarioRun& hosted,
                          const TraceBuffer& sink, const std::vector<ThreadId>& threads) {
  hosted.run();
  const uint32_t n = b.total_threads();
  ASSERT_EQ(threads.size(), n);
  std::vector<Duration> job_deadline(n);
  for (uint32_t i = 0, t = 0; t < b.count(blob::kThreads); ++t) {
    for (uint32_t k = 0; k < b.tenant(b.thread(t).tenant).instances; ++k) job_deadline[i++] = b.thread(t).deadline;
  }
  // Later pipeline stages are released by completions, not by arrivals.
  std::vector<bool> chained(n, false);
  for (uint32_t p = 0; p < b.count(blob::kPipelines); ++p) {
    for (uint32_t st = 1; st < b.pipeline(p).stages; ++st) chained[b.stage(p, st)] = true;
  }
  std::vector<std::vector<int64_t>> released(n);  // per instance: absolute deadlines, in order
  std::vector<uint32_t> instance_of_index;
  for (uint32_t i = 0; i < n; ++i) {
    if (instance_of_index.size() <= threads[i].index) instance_of_index.resize(threads[i].index + 1, kNoIndex);
    instance_of_index[threads[i].index] = i;
  }
  for (const TraceRecord& r : sink.records()) {
    if (r.event != TraceEvent::kRelease || r.thread >= instance_of_index.size()) continue;
    const uint32_t i = instance_of_index[r.thread];
    if (i != kNoIndex && (*hosted.simulator().kernel().thread(threads[i]))->release_kind == ReleaseKind::kSporadic) {
      released[i].push_back(r.value);
    }
  }
  std::vector<uint32_t> first(n, kNoIndex);
  for (uint32_t a = b.count(blob::kArrivals); a-- > 0;) first[b.arrival(a).target] = a;
  uint64_t matched = 0, total = b.count(blob::kArrivals), later_stage = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (chained[i]) {
      later_stage += first[i] != kNoIndex;
      continue;
    }
    uint32_t a = first[i];
    for (size_t k = 0; k < released[i].size(); ++k, a = b.arrival(a).next) {
      ASSERT_NE(a, kNoIndex) << "thread instance " << i << " was released more often than the blob has arrivals for it";
      const blob::ArrivalRec rec = b.arrival(a);
      const Duration d = rec.deadline > Duration::zero() ? rec.deadline : job_deadline[i];
      ASSERT_EQ(rec.time.ns() + d.ns(), released[i][k]) << "thread instance " << i << ", request " << k;
      ++matched;
    }
  }
  EXPECT_EQ(later_stage, 0u) << "no arrival targets a later pipeline stage";
  // What the run did not release was still queued at its end: a small part of the whole.
  EXPECT_LE(total - matched, total / 10 + 10) << s.name;
  if (!s.workloads.empty()) {
    EXPECT_GT(matched, 0u);
  }
  // Pipelines name their stages in the workload's order.
  uint32_t p = 0;
  for (const scenario::Workload& w : s.workloads) {
    if (w.kind != scenario::WorkloadKind::kAr) continue;
    const std::vector<std::string> stage0 = instance_names(s, w.stages[0]);
    for (size_t j = 0; j < stage0.size(); ++j, ++p) {
      ASSERT_LT(p, b.count(blob::kPipelines));
      ASSERT_EQ(b.pipeline(p).stages, w.stages.size());
      for (uint32_t st = 0; st < w.stages.size(); ++st) {
        const std::string expected = instance_names(s, w.stages[st])[j];
        EXPECT_EQ(hosted.names().threads[threads[b.stage(p, st)].index], expected);
      }
    }
  }
  EXPECT_EQ(p, b.count(blob::kPipelines));
}

void expect_same_objects(const scenario::Scenario& s) {
  TraceBuffer sink;
  ScenarioRun hosted(s, {}, sink);
  const SimKernel& a = hosted.simulator().kernel();

  const std::string bytes = scenario::compile_scenario(s);
  blob::BlobError e = blob::BlobError::kOk;
  const blob::ScenarioBlob b = blob::ScenarioBlob::open(view(bytes), &e);
  ASSERT_EQ(e, blob::BlobError::kOk) << blob::blob_error_name(e);
  EXPECT_EQ(b.duration(), s.duration);
  EXPECT_EQ(b.seed(), s.seed);
  EXPECT_STREQ(b.string(b.tenant(0).name), s.tenants[0].name.c_str());
  BlobKernel k = instantiate_blob(b, hosted.simulator().config());
  ASSERT_EQ(k.error.error, Error::kOk) << error_name(k.error.error) << " at section " << k.error.section << " #" << k.error.index;
  const SimKernel& bk = k.sim->kernel();

  // The same operations in the same order leave the same ids...
  EXPECT_EQ(k.templates, hosted.layout().templates);
  const std::vector<FwpId> fwps = flatten(hosted.layout().fwps);
  const std::vector<ThreadId> threads = flatten(hosted.layout().threads);
  EXPECT_EQ(k.fwps, fwps);
  EXPECT_EQ(k.threads, threads);
  EXPECT_EQ(k.rings, hosted.layout().rings);
  EXPECT_EQ(a.live_fwps(), bk.live_fwps());
  EXPECT_EQ(a.live_threads(), bk.live_threads());

  // ...and the same objects behind them.
  for (size_t i = 0; i < fwps.size(); ++i) {
    const Fwp* x = *a.fwp(fwps[i]);
    const Fwp* y = *bk.fwp(k.fwps[i]);
    EXPECT_EQ(x->state, y->state);
    EXPECT_EQ(x->tmpl->params.image, y->tmpl->params.image);
    EXPECT_EQ(x->tmpl->params.pool_limit, y->tmpl->params.pool_limit);
    EXPECT_EQ(x->tmpl->params.max_instances, y->tmpl->params.max_instances);
    for (uint32_t c = 0; c < kCapSlots; ++c) {
      EXPECT_EQ(x->caps[c].kind, y->caps[c].kind) << "FWP " << i << " slot " << c;
      EXPECT_EQ(x->caps[c].index, y->caps[c].index) << "FWP " << i << " slot " << c;
    }
  }
  for (size_t i = 0; i < threads.size(); ++i) {
    const Thread* x = *a.thread(threads[i]);
    const Thread* y = *bk.thread(k.threads[i]);
    EXPECT_EQ(a.fwp_id(*x->fwp), bk.fwp_id(*y->fwp));
    EXPECT_EQ(x->cpu, y->cpu);
    EXPECT_EQ(x->release_kind, y->release_kind);
    EXPECT_EQ(x->period, y->period);
    EXPECT_EQ(x->relative_deadline, y->relative_deadline);
    EXPECT_EQ(x->first_release, y->first_release);
    EXPECT_EQ(x->sc->params.priority, y->sc->params.priority);
    EXPECT_EQ(x->sc->params.relative_deadline, y->sc->params.relative_deadline);
    EXPECT_EQ(x->sc->params.budget, y->sc->params.budget);
    EXPECT_EQ(x->sc->params.period, y->sc->params.period);
    EXPECT_EQ(x->sc->params.server, y->sc->params.server);
    EXPECT_EQ(x->sc->params.max_refills, y->sc->params.max_refills);
  }
  for (size_t i = 0; i < k.rings.size(); ++i) {
    const Ring* x = *a.ring(hosted.layout().rings[i]);
    const Ring* y = *bk.ring(k.rings[i]);
    EXPECT_EQ(x->slots, y->slots);
    EXPECT_EQ(x->slot_size, y->slot_size);
    EXPECT_EQ(a.fwp_id(*x->producer), bk.fwp_id(*y->producer));
    EXPECT_EQ(a.fwp_id(*x->consumer), bk.fwp_id(*y->consumer));
  }
  // The cost models travel too.
  for (uint32_t t = 0; t < b.count(blob::kThreads); ++t) {
    const blob::ThreadRec rec = b.thread(t);
    EXPECT_STREQ(b.string(rec.name), s.threads[t].name.c_str());
    EXPECT_EQ(static_cast<int>(rec.cost.kind), static_cast<int>(s.threads[t].cost.kind));
    EXPECT_EQ(rec.cost.value, s.threads[t].cost.value);
    EXPECT_EQ(rec.cost.min, s.threads[t].cost.min);
    EXPECT_EQ(rec.cost.max, s.threads[t].cost.max);
    ASSERT_EQ(rec.num_calls, s.threads[t].calls.size());
    for (uint32_t c = 0; c < rec.num_calls; ++c) EXPECT_EQ(b.call(rec.first_call + c).at, s.threads[t].calls[c].at);
  }
  expect_same_arrivals(s, b, hosted, sink, threads);
}

TEST(CompiledScenario, ExamplesInstantiateTheSameObjects) {
  for (const char* name : {"edge-server.toml", "fp-servers.toml", "replay.toml", "kv-tenants.toml"}) {
    SCOPED_TRACE(name);
    expect_same_objects(scenario::load_scenario(examples() + "/" + name));
  }
}

// Everything the format carries: pools and quotas, instances wired k -> k mod m, invoke entries,
// rings from a multi-instance producer to fewer consumers, two servers with different policies.
const char* const kWiring = R"(
[scenario]
name = "wiring"
duration = "1s"
seed = 77
[[server]]
name = "a"
cpus = 3
policy = "fp"
[[server]]
name = "b"
cpus = 2
policy = "edf"
[[template]]
name = "pooled"
pool = 4
max_instances = 10
[[tenant]]
name = "front"
server = "a"
template = "pooled"
instances = 5
[[tenant]]
name = "back"
server = "a"
instances = 2
[[tenant]]
name = "log"
server = "a"
[[tenant]]
name = "solo"
server = "b"
[[invoke]]
from = "front"
to = "log"
[[ring]]
name = "requests"
from = "front"
to = "back"
slots = 16
slot_size = "1KiB"
[[ring]]
name = "audit"
from = "back"
to = "log"
slots = 4
slot_size = 64
[[thread]]
name = "fe"
tenant = "front"
spread = true
period = "10ms"
deadline = "8ms"
phase = "1ms"
cost = { dist = "uniform", min = "1ms", max = "2ms" }
priority = 7
[[thread.call]]
to = "back"
at = "500us"
cost = "100us"
[[thread]]
name = "be"
tenant = "back"
cpu = 2
release = "sporadic"
period = "1ms"
deadline = "5ms"
cost = "300us"
priority = 9
server = "sporadic"
budget = "2ms"
server_period = "10ms"
refills = 3
[[thread]]
name = "s"
tenant = "solo"
cpu = 1
period = "5ms"
cost = { dist = "lognormal", median = "1ms", sigma = 0.3 }
server = "cbs"
budget = "2ms"
server_period = "5ms"
)";

TEST(CompiledScenario, WiringPoolsRingsAndServersRoundTrip) {
  const scenario::Scenario s = scenario::parse_scenario(kWiring, "wiring.toml", "");
  expect_same_objects(s);
  // Spot checks against the file itself: front#k invokes back#(k mod 2) (its call) then log.
  TraceBuffer sink;
  ScenarioRun hosted(s, {}, sink);
  const SimKernel& k = hosted.simulator().kernel();
  for (uint32_t i = 0; i < 5; ++i) {
    const Fwp* f = *k.fwp(hosted.layout().fwps[0][i]);
    EXPECT_EQ(f->caps[0].kind, CapKind::kInvoke);
    EXPECT_EQ(f->caps[0].index, hosted.layout().fwps[1][i % 2].index);
    EXPECT_EQ(f->caps[1].kind, CapKind::kInvoke);
    EXPECT_EQ(f->caps[1].index, hosted.layout().fwps[2][0].index);
    EXPECT_EQ(f->caps[2].kind, CapKind::kRingSend);
  }
  // back#0 consumes requests from front#0, #2, #4; back#1 from front#1, #3.
  auto receives = [&](FwpId id) {
    int n = 0;
    for (const Capability& c : (*k.fwp(id))->caps) n += c.kind == CapKind::kRingReceive;
    return n;
  };
  EXPECT_EQ(receives(hosted.layout().fwps[1][0]), 3);
  EXPECT_EQ(receives(hosted.layout().fwps[1][1]), 2);
  // fe#k runs on CPU k mod 3 of server a; s on CPU 1 of server b, i.e. global CPU 4.
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ((*k.thread(hosted.layout().threads[0][i]))->cpu, i % 3);
  EXPECT_EQ((*k.thread(hosted.layout().threads[2][0]))->cpu, 4);
}

TEST(CompiledScenario, CorruptBlobsAreRefusedOrInstantiateSafely) {
  const scenario::Scenario s = scenario::parse_scenario(kWiring, "wiring.toml", "");
  const std::string good = scenario::compile_scenario(s);
  Rng rng(2024);
  int refused = 0, accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng.below(4));
    for (int f = 0; f < flips; ++f) {
      const size_t at = trial % 3 == 0 ? rng.below(bytes.size()) : 40 + rng.below(bytes.size() - 40);
      bytes[at] = static_cast<char>(rng.below(256));
    }
    if (trial % 5 == 0) bytes.resize(rng.below(bytes.size()));
    // Recompute the checksum (most of the time) so that the semantic checks are what is tested.
    if (trial % 7 != 0 && bytes.size() >= 20) {
      const uint32_t sum = blob::checksum(reinterpret_cast<const uint8_t*>(bytes.data()) + 20, bytes.size() - 20);
      for (int i = 0; i < 4; ++i) bytes[16 + i] = static_cast<char>(sum >> (8 * i));
    }
    blob::BlobError e = blob::BlobError::kOk;
    const blob::ScenarioBlob b = blob::ScenarioBlob::open(view(bytes), &e);
    if (e != blob::BlobError::kOk) {
      EXPECT_FALSE(b.valid());
      ++refused;
      continue;
    }
    ++accepted;
    // Whatever open() accepts instantiates, or fails with an error value: never a crash. (Sizes
    // are bounded by open(); skip the few that would need large storage.)
    if (b.total_fwps() + b.pooled_fwps() > 4096 || b.total_threads() > 4096 || b.ring_storage_bytes() > (64u << 20)) continue;
    SimConfig config;
    config.num_cpus = b.total_cpus();
    config.cpu_policies.clear();
    for (uint32_t i = 0; i < b.count(blob::kServers); ++i) {
      config.cpu_policies.insert(config.cpu_policies.end(), b.server(i).cpus, b.server(i).policy == 1 ? Policy::kEdf : Policy::kFixedPriority);
    }
    config.max_threads = b.total_threads() + 1;
    config.max_fwps = b.total_fwps() + b.pooled_fwps() + 1;
    config.max_templates = b.count(blob::kTemplates) + 1;
    config.max_rings = b.total_rings() + 1;
    config.check_invariants = true;
    const BlobKernel k = instantiate_blob(b, config);
    (void)k;
  }
  EXPECT_GT(refused, 1000);
  EXPECT_GT(accepted, 10);  // some corruptions hit fields where any value is valid (names, costs)
}

TEST(CompiledScenario, HeaderChecks) {
  const std::string good = scenario::compile_scenario(scenario::load_scenario(examples() + "/edge-server.toml"));
  blob::BlobError e = blob::BlobError::kOk;
  EXPECT_TRUE(blob::ScenarioBlob::open(view(good), &e).valid());
  std::string bad = good;
  bad[0] = 'X';
  blob::ScenarioBlob::open(view(bad), &e);
  EXPECT_EQ(e, blob::BlobError::kBadMagic);
  bad = good;
  bad[8] = 1;  // version 1 (no workloads) is no longer read
  blob::ScenarioBlob::open(view(bad), &e);
  EXPECT_EQ(e, blob::BlobError::kBadVersion);
  blob::ScenarioBlob::open(view(good.substr(0, 50)), &e);
  EXPECT_EQ(e, blob::BlobError::kTooShort);
  bad = good;
  bad[bad.size() - 1] ^= 1;
  blob::ScenarioBlob::open(view(bad), &e);
  EXPECT_EQ(e, blob::BlobError::kBadChecksum);
  // Bytes appended under a valid seal (size and checksum made right) are refused: every byte of a
  // compiled scenario belongs to the header or a section.
  for (size_t extra : {1, 8, 4096}) {
    bad = good + std::string(extra, '\0');
    const uint32_t size = static_cast<uint32_t>(bad.size());
    for (int i = 0; i < 4; ++i) bad[12 + i] = static_cast<char>(size >> (8 * i));
    const uint32_t sum = blob::checksum(reinterpret_cast<const uint8_t*>(bad.data()) + 20, bad.size() - 20);
    for (int i = 0; i < 4; ++i) bad[16 + i] = static_cast<char>(sum >> (8 * i));
    blob::ScenarioBlob::open(view(bad), &e);
    EXPECT_EQ(e, blob::BlobError::kTrailingBytes) << extra;
  }
  // Every example compiles to a blob with none (the compiler's own layout passes the check).
  for (const char* name : {"edge-server.toml", "iot-gateway.toml", "kv-tenants.toml", "replay.toml"}) {
    const std::string b = scenario::compile_scenario(scenario::load_scenario(examples() + "/" + name));
    EXPECT_TRUE(blob::ScenarioBlob::open(view(b), &e).valid()) << name << ": " << blob::blob_error_name(e);
  }
}

}  // namespace
}  // namespace edgeos::sim

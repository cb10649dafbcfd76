// The compiled scenario's wire format (scenario_wire.hpp), against its layout written out by hand
// from docs/scenario.md ("The compiled scenario"): the structs' offsets, and the bytes that
// compile_scenario writes and ScenarioBlob reads back.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "edgeos/workloads/scenario_blob.hpp"
#include "edgeos/workloads/scenario_compile.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::blob {
namespace {

// The documented table, field by field: (offset, size).
#define EXPECT_FIELD(Struct, field, offset, size)        \
  do {                                                    \
    EXPECT_EQ(offsetof(wire::Struct, field), offset) << #Struct "." #field; \
    EXPECT_EQ(sizeof(wire::Struct::field), size) << #Struct "." #field;     \
  } while (0)

TEST(ScenarioWire, StructsAreTheDocumentedLayout) {
  EXPECT_EQ(sizeof(wire::Header), 152u);
  EXPECT_FIELD(Header, magic, 0u, 8u);
  EXPECT_FIELD(Header, version, 8u, 2u);
  EXPECT_FIELD(Header, header_size, 10u, 2u);
  EXPECT_FIELD(Header, total_size, 12u, 4u);
  EXPECT_FIELD(Header, checksum, 16u, 4u);
  EXPECT_FIELD(Header, reserved, 20u, 4u);
  EXPECT_FIELD(Header, duration_ns, 24u, 8u);
  EXPECT_FIELD(Header, seed, 32u, 8u);
  EXPECT_FIELD(Header, sections, 40u, 112u);
  EXPECT_EQ(kChecksummedFrom, 20u);

  EXPECT_EQ(sizeof(wire::Cost), 40u);
  EXPECT_FIELD(Cost, kind, 0u, 1u);
  EXPECT_FIELD(Cost, sigma_ppm, 4u, 4u);
  EXPECT_FIELD(Cost, value, 8u, 8u);
  EXPECT_FIELD(Cost, min, 16u, 8u);
  EXPECT_FIELD(Cost, max, 24u, 8u);
  EXPECT_FIELD(Cost, sd, 32u, 8u);

  EXPECT_EQ(kRecordSize[kStrings], 1u);
  EXPECT_EQ(kRecordSize[kServers], 24u);
  EXPECT_FIELD(Server, name, 0u, 4u);
  EXPECT_FIELD(Server, cpus, 4u, 4u);
  EXPECT_FIELD(Server, speed_hz, 8u, 8u);
  EXPECT_FIELD(Server, policy, 16u, 1u);

  EXPECT_EQ(kRecordSize[kTemplates], 24u);
  EXPECT_FIELD(Template, name, 0u, 4u);
  EXPECT_FIELD(Template, pool, 4u, 4u);
  EXPECT_FIELD(Template, max_instances, 8u, 4u);
  EXPECT_FIELD(Template, memory_kib, 12u, 4u);
  EXPECT_FIELD(Template, flags, 16u, 4u);
  EXPECT_FIELD(Template, idle_timeout_ms, 20u, 4u);

  EXPECT_EQ(kRecordSize[kTenants], 16u);
  EXPECT_FIELD(Tenant, name, 0u, 4u);
  EXPECT_FIELD(Tenant, server, 4u, 4u);
  EXPECT_FIELD(Tenant, tmpl, 8u, 4u);
  EXPECT_FIELD(Tenant, instances, 12u, 4u);

  EXPECT_EQ(kRecordSize[kThreads], 120u);
  EXPECT_FIELD(Thread, name, 0u, 4u);
  EXPECT_FIELD(Thread, tenant, 4u, 4u);
  EXPECT_FIELD(Thread, cpu, 8u, 4u);
  EXPECT_FIELD(Thread, flags, 12u, 1u);
  EXPECT_FIELD(Thread, release, 13u, 1u);
  EXPECT_FIELD(Thread, priority, 14u, 1u);
  EXPECT_FIELD(Thread, server_kind, 15u, 1u);
  EXPECT_FIELD(Thread, max_refills, 16u, 1u);
  EXPECT_FIELD(Thread, program, 17u, 1u);
  EXPECT_FIELD(Thread, period, 24u, 8u);
  EXPECT_FIELD(Thread, job_deadline, 32u, 8u);
  EXPECT_FIELD(Thread, sched_deadline, 40u, 8u);
  EXPECT_FIELD(Thread, budget, 48u, 8u);
  EXPECT_FIELD(Thread, server_period, 56u, 8u);
  EXPECT_FIELD(Thread, phase, 64u, 8u);
  EXPECT_FIELD(Thread, cost, 72u, 40u);
  EXPECT_FIELD(Thread, first_call, 112u, 4u);
  EXPECT_FIELD(Thread, num_calls, 116u, 4u);

  EXPECT_EQ(kRecordSize[kCalls], 56u);
  EXPECT_FIELD(Call, callee, 0u, 4u);
  EXPECT_FIELD(Call, at, 8u, 8u);
  EXPECT_FIELD(Call, cost, 16u, 40u);

  EXPECT_EQ(kRecordSize[kInvokes], 8u);
  EXPECT_FIELD(Invoke, from, 0u, 4u);
  EXPECT_FIELD(Invoke, to, 4u, 4u);

  EXPECT_EQ(kRecordSize[kRings], 24u);
  EXPECT_FIELD(Ring, name, 0u, 4u);
  EXPECT_FIELD(Ring, from, 4u, 4u);
  EXPECT_FIELD(Ring, to, 8u, 4u);
  EXPECT_FIELD(Ring, slots, 12u, 4u);
  EXPECT_FIELD(Ring, slot_size, 16u, 4u);

  EXPECT_EQ(kRecordSize[kArrivals], 48u);
  EXPECT_FIELD(Arrival, time, 0u, 8u);
  EXPECT_FIELD(Arrival, cost, 8u, 8u);
  EXPECT_FIELD(Arrival, deadline, 16u, 8u);
  EXPECT_FIELD(Arrival, target, 24u, 4u);
  EXPECT_FIELD(Arrival, pipeline, 28u, 4u);
  EXPECT_FIELD(Arrival, next, 32u, 4u);
  EXPECT_FIELD(Arrival, size, 36u, 4u);
  EXPECT_FIELD(Arrival, kind, 40u, 2u);

  EXPECT_EQ(kRecordSize[kPipelines], 24u);
  EXPECT_FIELD(Pipeline, first_stage, 0u, 4u);
  EXPECT_FIELD(Pipeline, stages, 4u, 4u);
  EXPECT_FIELD(Pipeline, stage_deadline, 8u, 8u);
  EXPECT_FIELD(Pipeline, e2e_deadline, 16u, 8u);

  EXPECT_EQ(kRecordSize[kStages], 4u);
  EXPECT_FIELD(Stage, instance, 0u, 4u);

  EXPECT_EQ(kRecordSize[kNics], 16u);
  EXPECT_FIELD(Nic, server, 0u, 4u);
  EXPECT_FIELD(Nic, model, 4u, 1u);
  EXPECT_FIELD(Nic, mac, 6u, 6u);
  EXPECT_FIELD(Nic, ipv4, 12u, 4u);

  EXPECT_EQ(kRecordSize[kPorts], 8u);
  EXPECT_FIELD(Port, tenant, 0u, 4u);
  EXPECT_FIELD(Port, port, 4u, 2u);

  EXPECT_EQ(kRecordSize[kDomains], 4u);
  EXPECT_FIELD(Domain, leader, 0u, 4u);
}

// Every section non-empty; values chosen to be told apart.
constexpr const char* kScenario = R"(
[scenario]
name = "wire"
duration = "20ms"
seed = 77

[[server]]
name = "s"
cpus = 3
speed = "2GHz"
policy = "edf"
domains = [[1, 2]]
nic = { model = "e1000", mac = "52:54:00:12:34:57", ipv4 = "10.0.2.16" }

[[template]]
name = "tm"
pool = 2
max_instances = 4
memory = "96KiB"
per_client = true
idle_timeout = "250ms"

[[tenant]]
name = "drv"

[[tenant]]
name = "app"
template = "tm"
udp = [5683]

[[tenant]]
name = "svc"
instances = 2

[[thread]]
name = "d"
tenant = "drv"
program = "nic-driver"
period = "1ms"
deadline = "900us"
phase = "50us"
cost = "100us"
priority = 9

[[thread.call]]
to = "svc"
at = "10us"
cost = { dist = "uniform", min = "1us", max = "3us" }

[[thread]]
name = "a"
tenant = "app"
cpu = 1
release = "sporadic"
period = "1ms"
deadline = "2ms"
cost = { dist = "lognormal", median = "20us", sigma = 0.5, max = "1ms" }
server = "sporadic"
budget = "200us"
server_period = "1ms"
refills = 4

[[thread]]
name = "b"
tenant = "svc"
spread = true
release = "sporadic"
period = "1ms"
deadline = "3ms"
cost = "30us"

[[thread]]
name = "c"
tenant = "app"
release = "sporadic"
period = "1ms"
deadline = "3ms"
cost = "40us"

[[invoke]]
from = "app"
to = "drv"

[[ring]]
name = "r"
from = "drv"
to = "app"
slots = 8
slot_size = "2KiB"

[[workload]]
name = "req"
kind = "poisson"
target = "a"
rate = "1k/s"

[[workload]]
name = "frames"
kind = "ar"
stages = ["a", "c"]
fps = 100
e2e_deadline = "5ms"
)";

// Little-endian, by hand.
uint64_t le(const std::string& b, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b.at(off + static_cast<size_t>(i)));
  return v;
}
int64_t ns(const std::string& b, size_t off) { return static_cast<int64_t>(le(b, off, 8)); }
constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000 * kUs;

TEST(ScenarioWire, CompiledBytesLieAtTheDocumentedOffsets) {
  const std::string b = scenario::compile_scenario(scenario::parse_scenario(kScenario, "wire.toml", ""));
  ASSERT_GE(b.size(), 152u);
  EXPECT_EQ(b.substr(0, 8), "EDGEOSSC");
  EXPECT_EQ(le(b, 8, 2), 5u);
  EXPECT_EQ(le(b, 10, 2), 152u);
  EXPECT_EQ(le(b, 12, 4), b.size());
  EXPECT_EQ(le(b, 16, 4), checksum(reinterpret_cast<const uint8_t*>(b.data()) + 20, b.size() - 20));
  EXPECT_EQ(le(b, 20, 4), 0u);
  EXPECT_EQ(ns(b, 24), 20 * kMs);
  EXPECT_EQ(le(b, 32, 8), 77u);
  auto off = [&](int s) { return static_cast<size_t>(le(b, 40 + 8 * s, 4)); };
  auto count = [&](int s) { return le(b, 44 + 8 * s, 4); };
  for (int s = 0; s < 14; ++s) {
    EXPECT_EQ(off(s) % 8, 0u) << s;
    EXPECT_GT(count(s), 0u) << s;
  }
  auto name = [&](size_t at) { return std::string(b.c_str() + off(0) + le(b, at, 4)); };

  // 1 servers (24)
  ASSERT_EQ(count(1), 1u);
  EXPECT_EQ(name(off(1)), "s");
  EXPECT_EQ(le(b, off(1) + 4, 4), 3u);
  EXPECT_EQ(le(b, off(1) + 8, 8), 2'000'000'000u);
  EXPECT_EQ(le(b, off(1) + 16, 1), 1u);  // edf
  // 2 templates (16): "tm", then the implicit ones of drv and svc
  ASSERT_EQ(count(2), 3u);
  EXPECT_EQ(name(off(2)), "tm");
  EXPECT_EQ(le(b, off(2) + 4, 4), 2u);
  EXPECT_EQ(le(b, off(2) + 8, 4), 4u);
  EXPECT_EQ(le(b, off(2) + 12, 4), 96u);  // KiB
  EXPECT_EQ(le(b, off(2) + 16, 4), 1u);   // per-client
  EXPECT_EQ(le(b, off(2) + 20, 4), 250u);  // idle timeout, ms
  EXPECT_EQ(le(b, off(2) + 24 + 16, 4), 0u);  // drv's: not
  EXPECT_EQ(le(b, off(2) + 24 + 12, 4), 0u);  // drv's implicit template: no budget
  EXPECT_EQ(name(off(2) + 24), "drv");
  EXPECT_EQ(name(off(2) + 48), "svc");
  // 3 tenants (16)
  ASSERT_EQ(count(3), 3u);
  const size_t svc = off(3) + 2 * 16;
  EXPECT_EQ(name(svc), "svc");
  EXPECT_EQ(le(b, svc + 4, 4), 0u);   // server
  EXPECT_EQ(le(b, svc + 8, 4), 2u);   // its implicit template
  EXPECT_EQ(le(b, svc + 12, 4), 2u);  // instances
  EXPECT_EQ(le(b, off(3) + 16 + 8, 4), 0u);  // app: template "tm"
  // 4 threads (120)
  ASSERT_EQ(count(4), 4u);
  const size_t d = off(4), a = off(4) + 120, bt = off(4) + 240;
  EXPECT_EQ(name(d), "d");
  EXPECT_EQ(le(b, d + 4, 4), 0u);
  EXPECT_EQ(le(b, d + 12, 1), 0u);  // not spread
  EXPECT_EQ(le(b, d + 13, 1), 0u);  // periodic
  EXPECT_EQ(le(b, d + 14, 1), 9u);
  EXPECT_EQ(le(b, d + 15, 1), 0u);  // no server
  EXPECT_EQ(le(b, d + 17, 1), kProgramNicDriver);
  EXPECT_EQ(ns(b, d + 24), 1 * kMs);
  EXPECT_EQ(ns(b, d + 32), 900 * kUs);
  EXPECT_EQ(ns(b, d + 40), 900 * kUs);  // scheduling deadline: the job's
  EXPECT_EQ(ns(b, d + 48), INT64_MAX);  // no budget
  EXPECT_EQ(ns(b, d + 56), INT64_MAX);
  EXPECT_EQ(ns(b, d + 64), 50 * kUs);
  EXPECT_EQ(le(b, d + 72, 1), 0u);  // fixed
  EXPECT_EQ(ns(b, d + 72 + 8), 100 * kUs);
  EXPECT_EQ(le(b, d + 112, 4), 0u);
  EXPECT_EQ(le(b, d + 116, 4), 1u);
  EXPECT_EQ(le(b, a + 8, 4), 1u);   // cpu
  EXPECT_EQ(le(b, a + 13, 1), 1u);  // sporadic
  EXPECT_EQ(le(b, a + 15, 1), 1u);  // sporadic server
  EXPECT_EQ(le(b, a + 16, 1), 4u);  // refills
  EXPECT_EQ(ns(b, a + 48), 200 * kUs);
  EXPECT_EQ(ns(b, a + 56), 1 * kMs);
  EXPECT_EQ(le(b, a + 72, 1), 3u);  // lognormal
  EXPECT_EQ(le(b, a + 72 + 4, 4), 500'000u);
  EXPECT_EQ(ns(b, a + 72 + 8), 20 * kUs);
  EXPECT_EQ(ns(b, a + 72 + 24), 1 * kMs);
  EXPECT_EQ(le(b, a + 116, 4), 0u);
  EXPECT_EQ(le(b, bt + 12, 1), 1u);  // spread
  // 5 calls (56)
  ASSERT_EQ(count(5), 1u);
  EXPECT_EQ(le(b, off(5), 4), 2u);  // svc
  EXPECT_EQ(ns(b, off(5) + 8), 10 * kUs);
  EXPECT_EQ(le(b, off(5) + 16, 1), 1u);  // uniform
  EXPECT_EQ(ns(b, off(5) + 16 + 16), 1 * kUs);
  EXPECT_EQ(ns(b, off(5) + 16 + 24), 3 * kUs);
  // 6 invokes (8)
  ASSERT_EQ(count(6), 1u);
  EXPECT_EQ(le(b, off(6), 4), 1u);
  EXPECT_EQ(le(b, off(6) + 4, 4), 0u);
  // 7 rings (24)
  ASSERT_EQ(count(7), 1u);
  EXPECT_EQ(name(off(7)), "r");
  EXPECT_EQ(le(b, off(7) + 4, 4), 0u);
  EXPECT_EQ(le(b, off(7) + 8, 4), 1u);
  EXPECT_EQ(le(b, off(7) + 12, 4), 8u);
  EXPECT_EQ(le(b, off(7) + 16, 4), 2048u);
  // 9 pipelines (24), 10 stages (4): thread instances a = 1, c = 4 (d 0, b 2 and 3)
  ASSERT_EQ(count(9), 1u);  // one per AR stream
  EXPECT_EQ(count(10), 2u);
  EXPECT_EQ(le(b, off(9), 4), 0u);
  EXPECT_EQ(le(b, off(9) + 4, 4), 2u);
  EXPECT_EQ(ns(b, off(9) + 16), 5 * kMs);
  EXPECT_EQ(le(b, off(10), 4), 1u);
  EXPECT_EQ(le(b, off(10) + 4, 4), 4u);
  // 8 arrivals (48): all for a; each links to the next one (2^32 - 1 at the last); frames name
  // their pipeline, requests none.
  const uint64_t n = count(8);
  uint64_t frames = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const size_t r = off(8) + 48 * i;
    EXPECT_EQ(le(b, r + 24, 4), 1u);
    EXPECT_EQ(le(b, r + 32, 4), i + 1 < n ? i + 1 : 0xffff'ffffu);
    if (i > 0) {
      EXPECT_GE(ns(b, r), ns(b, r - 48));
    }
    const uint64_t pipeline = le(b, r + 28, 4);
    EXPECT_TRUE(pipeline == 0 || pipeline == 0xffff'ffffu) << pipeline;
    frames += pipeline == 0;
  }
  EXPECT_GT(frames, 1u);  // 100 fps for 20ms
  EXPECT_GT(n, frames);
  // 11 nics (16)
  ASSERT_EQ(count(11), 1u);
  EXPECT_EQ(le(b, off(11), 4), 0u);
  EXPECT_EQ(le(b, off(11) + 4, 1), 2u);  // e1000
  EXPECT_EQ(le(b, off(11) + 6, 6), 0x57'34'12'00'54'52u);
  EXPECT_EQ(le(b, off(11) + 12, 4), 0x0a00'0210u);
  // 12 ports (8)
  ASSERT_EQ(count(12), 1u);
  EXPECT_EQ(le(b, off(12), 4), 1u);
  EXPECT_EQ(le(b, off(12) + 4, 2), 5683u);
  // 13 domains (4): CPU 0 alone, CPUs 1 and 2 led by 1
  ASSERT_EQ(count(13), 3u);
  EXPECT_EQ(le(b, off(13), 4), 0u);
  EXPECT_EQ(le(b, off(13) + 4, 4), 1u);
  EXPECT_EQ(le(b, off(13) + 8, 4), 1u);

  // The reader sees the same fields.
  BlobError e = BlobError::kOk;
  const ScenarioBlob blob = ScenarioBlob::open(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size()), &e);
  ASSERT_TRUE(blob.valid()) << blob_error_name(e);
  EXPECT_EQ(blob.duration(), Duration::milliseconds(20));
  EXPECT_EQ(blob.seed(), 77u);
  const ThreadRec ta = blob.thread(1);
  EXPECT_EQ(std::string(blob.string(ta.name)), "a");
  EXPECT_EQ(ta.release, ReleaseKind::kSporadic);
  EXPECT_EQ(ta.sched.server, ServerKind::kSporadic);
  EXPECT_EQ(ta.sched.max_refills, 4);
  EXPECT_EQ(ta.sched.budget, Duration::microseconds(200));
  EXPECT_EQ(ta.cost.kind, CostKind::kLogNormal);
  EXPECT_EQ(ta.cost.sigma_ppm, 500'000u);
  EXPECT_TRUE(blob.thread(2).spread);
  EXPECT_EQ(blob.thread(0).phase, Duration::microseconds(50));
  EXPECT_EQ(blob.call(0).cost.max, Duration::microseconds(3));
  const NicRec nic = blob.nic(0);
  EXPECT_EQ(nic.mac[5], 0x57);
  EXPECT_EQ(nic.ipv4, 0x0a00'0210u);
  EXPECT_EQ(blob.port(0).port, 5683);
  EXPECT_EQ(blob.stage(0, 1), 4u);
  EXPECT_EQ(blob.domain_leader(2), 1u);
  EXPECT_TRUE(blob.shared_domains());
  for (uint32_t i = 0; i < n; ++i) {
    const ArrivalRec r = blob.arrival(i);
    EXPECT_EQ(r.time.ns(), ns(b, off(8) + 48 * i));
    EXPECT_EQ(r.next, le(b, off(8) + 48 * i + 32, 4));
    EXPECT_EQ(r.pipeline, le(b, off(8) + 48 * i + 28, 4));
  }
}

// Each record through encode and decode comes back, and encode leaves no byte undefined (every
// reserved byte is a field, zero).
TEST(ScenarioWire, RecordsRoundTrip) {
  ThreadRec t{};
  t.name = 1;
  t.tenant = 2;
  t.cpu = 3;
  t.spread = true;
  t.release = ReleaseKind::kSporadic;
  t.program = 34;
  t.period = Duration::nanoseconds(5);
  t.deadline = Duration::nanoseconds(6);
  t.phase = Duration::nanoseconds(7);
  t.sched.priority = 8;
  t.sched.server = ServerKind::kCbs;
  t.sched.max_refills = 9;
  t.sched.relative_deadline = Duration::nanoseconds(10);
  t.sched.budget = Duration::nanoseconds(11);
  t.sched.period = Duration::nanoseconds(12);
  t.cost = Cost{CostKind::kNormal, 13, Duration::nanoseconds(14), Duration::nanoseconds(15), Duration::nanoseconds(16),
                Duration::nanoseconds(17)};
  t.first_call = 18;
  t.num_calls = 19;
  const wire::Thread w = encode(t);
  uint8_t bytes[sizeof w];
  store(bytes, w);
  const ThreadRec back = decode(load<wire::Thread>(bytes));
  EXPECT_EQ(back.name, 1u);
  EXPECT_EQ(back.cpu, 3u);
  EXPECT_TRUE(back.spread);
  EXPECT_EQ(back.release, ReleaseKind::kSporadic);
  EXPECT_EQ(back.program, 34);
  EXPECT_EQ(back.deadline.ns(), 6);
  EXPECT_EQ(back.phase.ns(), 7);
  EXPECT_EQ(back.sched.priority, 8);
  EXPECT_EQ(back.sched.server, ServerKind::kCbs);
  EXPECT_EQ(back.sched.max_refills, 9);
  EXPECT_EQ(back.sched.relative_deadline.ns(), 10);
  EXPECT_EQ(back.sched.budget.ns(), 11);
  EXPECT_EQ(back.sched.period.ns(), 12);
  EXPECT_EQ(back.cost.kind, CostKind::kNormal);
  EXPECT_EQ(back.cost.sigma_ppm, 13u);
  EXPECT_EQ(back.cost.sd.ns(), 17);
  EXPECT_EQ(back.num_calls, 19u);
  for (size_t i = 18; i < 24; ++i) EXPECT_EQ(bytes[i], 0) << i;  // reserved

  const ArrivalRec a{Duration::nanoseconds(1), Duration::nanoseconds(2), Duration::nanoseconds(3), 4, 5, 6, 7, 0x0809};
  const wire::Arrival wa = encode(a);
  uint8_t ab[sizeof wa];
  store(ab, wa);
  EXPECT_EQ(ab[40], 0x09);
  EXPECT_EQ(ab[41], 0x08);
  for (size_t i = 42; i < 48; ++i) EXPECT_EQ(ab[i], 0) << i;
  const ArrivalRec ar = decode(load<wire::Arrival>(ab));
  EXPECT_EQ(ar.time.ns(), 1);
  EXPECT_EQ(ar.target, 4u);
  EXPECT_EQ(ar.next, 6u);
  EXPECT_EQ(ar.kind, 0x0809);

  const NicRec nic{1, 2, {3, 4, 5, 6, 7, 8}, 0x0a0b0c0d};
  uint8_t nb[sizeof(wire::Nic)];
  store(nb, encode(nic));
  const uint8_t want[16] = {1, 0, 0, 0, 2, 0, 3, 4, 5, 6, 7, 8, 0x0d, 0x0c, 0x0b, 0x0a};
  EXPECT_EQ(std::string(reinterpret_cast<char*>(nb), 16), std::string(reinterpret_cast<const char*>(want), 16));
  EXPECT_EQ(decode(load<wire::Nic>(nb)).mac[5], 8);
}

}  // namespace
}  // namespace edgeos::blob

// The compiled scenario's wire format, defined once: compile_scenario (workloads/src/
// scenario_compile.cpp) writes these records and ScenarioBlob (scenario_blob.hpp) reads them, in
// the kernel too. docs/scenario.md ("The compiled scenario") lists the same layout for readers of
// the file; workloads/tests/scenario_wire_test.cpp checks it against that list.
//
// Every record is a struct whose bytes are the record: fields in file order, little-endian, no
// implicit padding (reserved bytes are fields, written 0), so that memcpy writes and reads it.
// A blob is a wire::Header followed by its 14 sections in Section order, each 8-byte aligned, of
// fixed-size records (kRecordSize).
//
// Freestanding (the kernel includes it): no allocation, no exceptions, no library.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/workloads/job_driver.hpp"

namespace edgeos::blob {

inline constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'O', 'S', 'S', 'C'};
inline constexpr uint16_t kVersion = 5;
inline constexpr uint32_t kNumSections = 14;
enum Section : uint32_t {
  kStrings,  // NUL-terminated names; its count is its size in bytes
  kServers,
  kTemplates,  // declared, then one implicit per tenant without one
  kTenants,
  kThreads,
  kCalls,
  kInvokes,
  kRings,
  kArrivals,
  kPipelines,
  kStages,
  kNics,   // the servers' network cards (kernel backend)
  kPorts,  // UDP ports bound to tenants
  kDomains,  // scheduling domains: each CPU's leader (empty: every CPU its own, partitioned)
};
inline constexpr uint32_t kMaxCount = 1u << 24;  // of any section, and of FWPs, threads and rings in all
inline constexpr uint64_t kMaxRingBytes = uint64_t{1} << 32;  // ring storage in all

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian, as x86-64 is");

// The records as they lie in the blob. Names are offsets into the strings section; durations are
// nanoseconds (2^63 - 1: unbounded); indices of "none" are kNoIndex (2^32 - 1).
namespace wire {

struct SectionRef {
  uint32_t offset;  // from the start of the blob
  uint32_t count;   // records (strings: bytes)
};

struct Header {
  char magic[8];
  uint16_t version;
  uint16_t header_size;
  uint32_t total_size;
  uint32_t checksum;  // FNV-1a of every byte after this field
  uint32_t reserved;
  int64_t duration_ns;
  uint64_t seed;
  SectionRef sections[kNumSections];
};

struct Cost {
  uint8_t kind;  // CostKind
  uint8_t reserved[3];
  uint32_t sigma_ppm;
  int64_t value, min, max, sd;
};

struct Server {
  uint32_t name;
  uint32_t cpus;
  uint64_t speed_hz;
  uint8_t policy;  // 0 fixed priority, 1 EDF
  uint8_t reserved[7];
};

struct Template {
  uint32_t name;
  uint32_t pool;
  uint32_t max_instances;
  uint32_t memory_kib;  // each FWP's memory budget; 0: none
  uint32_t flags;       // kTemplatePerClient
  uint32_t idle_timeout_ms;  // per-client: a flow's FWP is recycled after this long idle
};
inline constexpr uint32_t kTemplatePerClient = 1;

struct Tenant {
  uint32_t name;
  uint32_t server;  // index
  uint32_t tmpl;    // index
  uint32_t instances;
};

struct Thread {
  uint32_t name;
  uint32_t tenant;  // index
  uint32_t cpu;     // within its server
  uint8_t flags;    // kThreadSpread
  uint8_t release;  // ReleaseKind
  uint8_t priority;
  uint8_t server_kind;  // ServerKind
  uint8_t max_refills;
  uint8_t program;  // kPrograms
  uint8_t reserved[6];
  int64_t period;
  int64_t job_deadline;
  int64_t sched_deadline;
  int64_t budget;
  int64_t server_period;
  int64_t phase;
  Cost cost;
  uint32_t first_call;  // a thread's calls are consecutive
  uint32_t num_calls;
};
inline constexpr uint8_t kThreadSpread = 1;

struct Call {
  uint32_t callee;  // tenant index
  uint32_t reserved;
  int64_t at;
  Cost cost;
};

struct Invoke {
  uint32_t from, to;  // tenant indices
};

struct Ring {
  uint32_t name;
  uint32_t from, to;  // tenant indices
  uint32_t slots;
  uint32_t slot_size;
  uint32_t reserved;
};

struct Arrival {
  int64_t time;
  int64_t cost;      // 0: the thread's own cost model
  int64_t deadline;  // relative; 0: the thread's own
  uint32_t target;   // canonical thread-instance index
  uint32_t pipeline;
  uint32_t next;  // the next arrival of the same target
  uint32_t size;  // bytes
  uint16_t kind;
  uint8_t reserved[6];
};

struct Pipeline {
  uint32_t first_stage;
  uint32_t stages;
  int64_t stage_deadline;
  int64_t e2e_deadline;
};

struct Stage {
  uint32_t instance;  // canonical thread-instance index
};

struct Nic {
  uint32_t server;  // index
  uint8_t model;    // 1 virtio, 2 e1000
  uint8_t reserved;
  uint8_t mac[6];
  uint32_t ipv4;  // host byte order
};

struct Port {
  uint32_t tenant;  // index
  uint16_t port;
  uint16_t reserved;
};

// One per CPU of the machine (servers in order, their CPUs numbered consecutively), or none at
// all when every CPU is a domain of its own: the lowest-numbered CPU of the CPU's scheduling
// domain (core/kernel.hpp, KernelStorage::domains), machine-wide. Global scheduling is one domain
// of all a server's CPUs, clustered one per cluster; a domain never spans two servers.
struct Domain {
  uint32_t leader;
};

// A record's bytes are its fields' and nothing else: what is written is what is read.
template <class... W>
inline constexpr bool kNoPadding = (std::has_unique_object_representations_v<W> && ...);
static_assert(kNoPadding<SectionRef, Header, Cost, Server, Template, Tenant, Thread, Call, Invoke, Ring, Arrival,
                         Pipeline, Stage, Nic, Port, Domain>);

}  // namespace wire

inline constexpr uint32_t kHeaderSize = sizeof(wire::Header);
// Record sizes in bytes, by section.
inline constexpr uint32_t kRecordSize[kNumSections] = {
    1,
    sizeof(wire::Server),
    sizeof(wire::Template),
    sizeof(wire::Tenant),
    sizeof(wire::Thread),
    sizeof(wire::Call),
    sizeof(wire::Invoke),
    sizeof(wire::Ring),
    sizeof(wire::Arrival),
    sizeof(wire::Pipeline),
    sizeof(wire::Stage),
    sizeof(wire::Nic),
    sizeof(wire::Port),
    sizeof(wire::Domain),
};
// The sizes are the format (version 5): a change here is a new version.
static_assert(kHeaderSize == 152 && sizeof(wire::Cost) == 40);
static_assert(kRecordSize[kServers] == 24 && kRecordSize[kTemplates] == 24 && kRecordSize[kTenants] == 16 &&
              kRecordSize[kThreads] == 120 && kRecordSize[kCalls] == 56 && kRecordSize[kInvokes] == 8 &&
              kRecordSize[kRings] == 24 && kRecordSize[kArrivals] == 48 && kRecordSize[kPipelines] == 24 &&
              kRecordSize[kStages] == 4 && kRecordSize[kNics] == 16 && kRecordSize[kPorts] == 8 &&
              kRecordSize[kDomains] == 4);
// The checksum covers every byte after its own field.
inline constexpr size_t kChecksummedFrom = offsetof(wire::Header, checksum) + sizeof(uint32_t);

// A field or record at `p`, which need not be aligned.
template <class T>
T load(const uint8_t* p) {
  T v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(uint8_t* p, const T& v) {
  __builtin_memcpy(p, &v, sizeof v);
}

// FNV-1a, 32-bit.
constexpr uint32_t checksum(const uint8_t* p, size_t n) {
  uint32_t h = 0x811c'9dc5u;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x0100'0193u;
  }
  return h;
}

// The records as their readers use them, and their one translation to and from the wire.

// Cost distributions: the workload driver's (job_driver.hpp), drawn by every backend alike.
using workloads::CostKind;

struct Cost {
  CostKind kind = CostKind::kFixed;
  uint32_t sigma_ppm = 0;  // lognormal: sigma * 10^6
  Duration value, min, max, sd;

  // What workloads::draw_cost draws from.
  constexpr workloads::CostModel model() const {
    return workloads::CostModel{kind, value.ns(), min.ns(), max.ns(), sd.ns(), sigma_ppm};
  }
};

struct ServerRec {
  uint32_t name;  // string offset
  uint32_t cpus;
  uint64_t speed_hz;
  uint8_t policy;  // 0 fixed priority, 1 EDF
};

struct TemplateRec {
  uint32_t name;
  uint32_t pool;
  uint32_t max_instances;
  uint32_t memory_kib;  // 0: no budget
  bool per_client = false;
  uint32_t idle_timeout_ms = 0;
};

struct TenantRec {
  uint32_t name;
  uint32_t server;
  uint32_t tmpl;
  uint32_t instances;
};

struct ThreadRec {
  uint32_t name;
  uint32_t tenant;
  uint32_t cpu;  // within its server
  bool spread;
  ReleaseKind release;
  uint8_t program;  // kPrograms
  Duration period, deadline, phase;
  SchedParams sched;
  Cost cost;
  uint32_t first_call, num_calls;
};

struct CallRec {
  uint32_t callee;  // tenant
  Duration at;
  Cost cost;
};

struct NicRec {
  uint32_t server;
  uint8_t model;  // 1 virtio, 2 e1000
  uint8_t mac[6];
  uint32_t ipv4;  // host byte order
};

struct PortRec {
  uint32_t tenant;
  uint16_t port;
};

struct InvokeRec {
  uint32_t from, to;  // tenants
};

struct RingRec {
  uint32_t name;
  uint32_t from, to;  // tenants
  uint32_t slots, slot_size;
};

// One request for a sporadic thread instance, in delivery order (non-decreasing time).
struct ArrivalRec {
  Duration time;      // since the start of the run
  Duration cost;      // 0: the thread's own cost model
  Duration deadline;  // relative; 0: the thread's own
  uint32_t target;    // canonical thread-instance index (thread by thread, instance by instance)
  uint32_t pipeline;  // the AR pipeline whose stage 0 this frame enters, or kNoIndex
  uint32_t next;      // the next arrival for the same target, or kNoIndex
  uint32_t size;      // bytes
  uint16_t kind;      // the workload's record kind (kv: get/set)
};

// One instance of an AR pipeline: stage thread instances [first_stage, first_stage + stages) of
// the stages section.
struct PipelineRec {
  uint32_t first_stage, stages;
  Duration stage_deadline;  // relative, of the jobs of stages past the first; 0: the thread's own
  Duration e2e_deadline;
};

namespace detail {
constexpr Duration dur(int64_t ns) { return Duration::nanoseconds(ns); }
}  // namespace detail

constexpr wire::Cost encode(const Cost& c) {
  return wire::Cost{static_cast<uint8_t>(c.kind), {}, c.sigma_ppm, c.value.ns(), c.min.ns(), c.max.ns(), c.sd.ns()};
}
constexpr Cost decode(const wire::Cost& w) {
  return Cost{static_cast<CostKind>(w.kind), w.sigma_ppm, detail::dur(w.value), detail::dur(w.min), detail::dur(w.max),
              detail::dur(w.sd)};
}

constexpr wire::Server encode(const ServerRec& r) { return wire::Server{r.name, r.cpus, r.speed_hz, r.policy, {}}; }
constexpr ServerRec decode(const wire::Server& w) { return ServerRec{w.name, w.cpus, w.speed_hz, w.policy}; }

constexpr wire::Template encode(const TemplateRec& r) {
  return wire::Template{r.name, r.pool, r.max_instances, r.memory_kib, r.per_client ? wire::kTemplatePerClient : 0u,
                        r.idle_timeout_ms};
}
constexpr TemplateRec decode(const wire::Template& w) {
  return TemplateRec{w.name, w.pool, w.max_instances, w.memory_kib, (w.flags & wire::kTemplatePerClient) != 0,
                     w.idle_timeout_ms};
}

constexpr wire::Tenant encode(const TenantRec& r) { return wire::Tenant{r.name, r.server, r.tmpl, r.instances}; }
constexpr TenantRec decode(const wire::Tenant& w) { return TenantRec{w.name, w.server, w.tmpl, w.instances}; }

constexpr wire::Thread encode(const ThreadRec& r) {
  return wire::Thread{r.name,
                      r.tenant,
                      r.cpu,
                      r.spread ? wire::kThreadSpread : uint8_t{0},
                      static_cast<uint8_t>(r.release),
                      r.sched.priority,
                      static_cast<uint8_t>(r.sched.server),
                      r.sched.max_refills,
                      r.program,
                      {},
                      r.period.ns(),
                      r.deadline.ns(),
                      r.sched.relative_deadline.ns(),
                      r.sched.budget.ns(),
                      r.sched.period.ns(),
                      r.phase.ns(),
                      encode(r.cost),
                      r.first_call,
                      r.num_calls};
}
constexpr ThreadRec decode(const wire::Thread& w) {
  ThreadRec t{};
  t.name = w.name;
  t.tenant = w.tenant;
  t.cpu = w.cpu;
  t.spread = (w.flags & wire::kThreadSpread) != 0;
  t.release = static_cast<ReleaseKind>(w.release);
  t.sched.priority = w.priority;
  t.sched.server = static_cast<ServerKind>(w.server_kind);
  t.sched.max_refills = w.max_refills;
  t.program = w.program;
  t.period = detail::dur(w.period);
  t.deadline = detail::dur(w.job_deadline);
  t.sched.relative_deadline = detail::dur(w.sched_deadline);
  t.sched.budget = detail::dur(w.budget);
  t.sched.period = detail::dur(w.server_period);
  t.phase = detail::dur(w.phase);
  t.cost = decode(w.cost);
  t.first_call = w.first_call;
  t.num_calls = w.num_calls;
  return t;
}

constexpr wire::Call encode(const CallRec& r) { return wire::Call{r.callee, 0, r.at.ns(), encode(r.cost)}; }
constexpr CallRec decode(const wire::Call& w) { return CallRec{w.callee, detail::dur(w.at), decode(w.cost)}; }

constexpr wire::Invoke encode(const InvokeRec& r) { return wire::Invoke{r.from, r.to}; }
constexpr InvokeRec decode(const wire::Invoke& w) { return InvokeRec{w.from, w.to}; }

constexpr wire::Ring encode(const RingRec& r) { return wire::Ring{r.name, r.from, r.to, r.slots, r.slot_size, 0}; }
constexpr RingRec decode(const wire::Ring& w) { return RingRec{w.name, w.from, w.to, w.slots, w.slot_size}; }

constexpr wire::Arrival encode(const ArrivalRec& r) {
  return wire::Arrival{r.time.ns(), r.cost.ns(), r.deadline.ns(), r.target, r.pipeline, r.next, r.size, r.kind, {}};
}
constexpr ArrivalRec decode(const wire::Arrival& w) {
  return ArrivalRec{detail::dur(w.time), detail::dur(w.cost), detail::dur(w.deadline), w.target, w.pipeline, w.next,
                    w.size, w.kind};
}

constexpr wire::Pipeline encode(const PipelineRec& r) {
  return wire::Pipeline{r.first_stage, r.stages, r.stage_deadline.ns(), r.e2e_deadline.ns()};
}
constexpr PipelineRec decode(const wire::Pipeline& w) {
  return PipelineRec{w.first_stage, w.stages, detail::dur(w.stage_deadline), detail::dur(w.e2e_deadline)};
}

constexpr wire::Nic encode(const NicRec& r) {
  return wire::Nic{r.server, r.model, 0, {r.mac[0], r.mac[1], r.mac[2], r.mac[3], r.mac[4], r.mac[5]}, r.ipv4};
}
constexpr NicRec decode(const wire::Nic& w) {
  return NicRec{w.server, w.model, {w.mac[0], w.mac[1], w.mac[2], w.mac[3], w.mac[4], w.mac[5]}, w.ipv4};
}

constexpr wire::Port encode(const PortRec& r) { return wire::Port{r.tenant, r.port, 0}; }
constexpr PortRec decode(const wire::Port& w) { return PortRec{w.tenant, w.port}; }

}  // namespace edgeos::blob

// The compiled scenario, read: a compact, versioned binary form of a scenario that freestanding
// code reads (the kernel loads it as a boot module). Written on the host by compile_scenario
// (workloads/src/scenario_compile.cpp); read here without libc, exceptions or the heap. Its layout
// is defined once, in scenario_wire.hpp (the records, by struct), and listed for readers of the
// file in docs/scenario.md.
//
// What the blob carries is what the kernel instantiates and replays: servers, templates, tenants,
// threads with their scheduling contexts and cost models, calls, invoke capabilities and rings,
// and the workloads as the arrivals they produce over the run. Arrivals are drawn on the host by
// the same models the simulator pulls from (scenario_arrivals.hpp), merged in the simulator's
// delivery order (time, then stream), so both backends see the same requests; AR pipelines are
// carried as their stages, since a frame reaches stage i + 1 when its stage-i job completes,
// which only the run decides.
//
// open() checks everything a malicious or truncated blob could get wrong (bounds, indices, enum
// values, scheduling parameters), so the kernel may instantiate whatever open() accepts.
// instantiate() creates the kernel objects in the canonical order of
// simulator/include/edgeos/simulator/scenario_run.hpp.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/ipc.hpp"
#include "edgeos/core/kernel.hpp"
#include "edgeos/core/result.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/workloads/scenario_wire.hpp"

namespace edgeos::blob {

// The programs a thread may run on the kernel backend (scenario key `program`): "task" runs its
// jobs' cost model; "bench-*" are the kernel's microbenchmarks (bench/boot_bench.py); the others
// are the hostile programs of the isolation tests, each doing one forbidden thing
// (kernel_backend/fwp/programs.cpp). The simulator models every thread as a task.
struct ProgramName {
  const char* name;
  uint8_t id;
};
inline constexpr ProgramName kPrograms[] = {
    {"task", 0},           {"bench-yield", 2},    {"bench-call", 3},      {"bench-spawn", 4},      {"nic-driver", 5},      {"udp-echo", 6},        {"coap", 7},            {"memcached", 8},       {"checkpoint", 9},
    {"write-kernel", 16},  {"read-kernel", 17},    {"write-other-fwp", 18}, {"read-unmapped", 19},
    {"execute-data", 20},  {"cli", 21},           {"hlt", 22},            {"wrmsr", 23},           {"out", 24},
    {"lgdt", 25},          {"divide-by-zero", 26}, {"stack-overflow", 27}, {"bad-syscall", 28},    {"bad-pointer", 29},
    {"call-depth", 30},    {"spin", 31},          {"fork-bomb", 32},     {"touch-device", 33},
    {"syscall-fuzz", 34},   {"complete-in-callee", 35},
};
inline constexpr uint8_t kProgramTask = 0;
inline constexpr uint8_t kProgramNicDriver = 5;

// Why open() refused a blob.
enum class BlobError : uint8_t {
  kOk,
  kTooShort,
  kBadMagic,
  kBadVersion,
  kBadSize,
  kBadChecksum,
  kBadSection,
  kBadString,
  kBadReference,
  kBadValue,
  kTrailingBytes,
};

constexpr const char* blob_error_name(BlobError e) {
  switch (e) {
    case BlobError::kOk: return "ok";
    case BlobError::kTooShort: return "shorter than its header";
    case BlobError::kBadMagic: return "not a compiled scenario (bad magic)";
    case BlobError::kBadVersion: return "unsupported version";
    case BlobError::kBadSize: return "size does not match the header";
    case BlobError::kBadChecksum: return "checksum mismatch (corrupted)";
    case BlobError::kBadSection: return "a section lies outside the blob";
    case BlobError::kBadString: return "a string is out of bounds or unterminated";
    case BlobError::kBadReference: return "a record refers to something that does not exist";
    case BlobError::kBadValue: return "a field has an impossible value";
    case BlobError::kTrailingBytes: return "bytes after the last section (the compiler writes none)";
  }
  return "unknown";
}

class ScenarioBlob {
 public:
  // Checks the whole blob. On failure, returns an empty blob and sets *error.
  static ScenarioBlob open(Span<const uint8_t> bytes, BlobError* error) {
    ScenarioBlob b;
    b.bytes_ = bytes;
    *error = b.check();
    if (*error != BlobError::kOk) return ScenarioBlob{};
    return b;
  }

  bool valid() const { return !bytes_.empty(); }
  Duration duration() const { return Duration::nanoseconds(head<int64_t>(offsetof(wire::Header, duration_ns))); }
  uint64_t seed() const { return head<uint64_t>(offsetof(wire::Header, seed)); }
  uint32_t count(Section s) const { return section(s).count; }

  // A NUL-terminated string of the string table (offsets were checked by open()).
  const char* string(uint32_t offset) const {
    return reinterpret_cast<const char*>(bytes_.data() + section_offset(kStrings) + offset);
  }

  ServerRec server(uint32_t i) const { return decode(rec<wire::Server>(kServers, i)); }
  TemplateRec tmpl(uint32_t i) const { return decode(rec<wire::Template>(kTemplates, i)); }
  TenantRec tenant(uint32_t i) const { return decode(rec<wire::Tenant>(kTenants, i)); }
  ThreadRec thread(uint32_t i) const { return decode(rec<wire::Thread>(kThreads, i)); }
  CallRec call(uint32_t i) const { return decode(rec<wire::Call>(kCalls, i)); }
  InvokeRec invoke(uint32_t i) const { return decode(rec<wire::Invoke>(kInvokes, i)); }
  RingRec ring(uint32_t i) const { return decode(rec<wire::Ring>(kRings, i)); }
  NicRec nic(uint32_t i) const { return decode(rec<wire::Nic>(kNics, i)); }
  PortRec port(uint32_t i) const { return decode(rec<wire::Port>(kPorts, i)); }
  // The NIC record of server `s`, or count(kNics) if it has none.
  uint32_t nic_of(uint32_t s) const {
    for (uint32_t i = 0; i < count(kNics); ++i) {
      if (nic(i).server == s) return i;
    }
    return count(kNics);
  }
  ArrivalRec arrival(uint32_t i) const { return decode(rec<wire::Arrival>(kArrivals, i)); }
  PipelineRec pipeline(uint32_t i) const { return decode(rec<wire::Pipeline>(kPipelines, i)); }
  // Stage `stage` of pipeline `pipeline_index`: a canonical thread-instance index.
  uint32_t stage(uint32_t pipeline_index, uint32_t stage) const {
    return rec<wire::Stage>(kStages, pipeline(pipeline_index).first_stage + stage).instance;
  }

  // Totals of the instantiated scenario, for sizing the kernel's storage.
  uint32_t total_cpus() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count(kServers); ++i) n += server(i).cpus;
    return n;
  }
  // The lowest-numbered CPU of CPU `cpu`'s scheduling domain (itself when partitioned).
  uint32_t domain_leader(uint32_t cpu) const {
    return count(kDomains) == 0 ? cpu : rec<wire::Domain>(kDomains, cpu).leader;
  }
  // Whether some scheduling domain has more than one CPU (global or clustered scheduling).
  bool shared_domains() const {
    for (uint32_t c = 0; c < count(kDomains); ++c) {
      if (domain_leader(c) != c) return true;
    }
    return false;
  }
  uint32_t first_cpu(uint32_t server_index) const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < server_index; ++i) n += server(i).cpus;
    return n;
  }
  uint32_t total_fwps() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count(kTenants); ++i) n += tenant(i).instances;
    return n;
  }
  uint32_t pooled_fwps() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count(kTemplates); ++i) n += tmpl(i).pool;
    return n;
  }
  uint32_t total_threads() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count(kThreads); ++i) n += tenant(thread(i).tenant).instances;
    return n;
  }
  uint32_t total_rings() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i < count(kRings); ++i) n += tenant(ring(i).from).instances;
    return n;
  }
  size_t ring_storage_bytes() const {
    size_t n = 0;
    for (uint32_t i = 0; i < count(kRings); ++i) {
      const RingRec r = ring(i);
      n += size_t{tenant(r.from).instances} * r.slots * (4 + size_t{r.slot_size});
    }
    return n;
  }

  // The tenants a tenant's FWPs may invoke, in capability-slot order: the callees of its
  // threads' calls (thread order), then its [[invoke]] entries; each once. Returns how many were
  // written (at most `cap`; a tenant never has more than kCapSlots after open()).
  uint32_t callees(uint32_t tenant_index, uint32_t* out, uint32_t cap) const {
    uint32_t n = 0;
    auto mention = [&](uint32_t callee) {
      for (uint32_t i = 0; i < n; ++i) {
        if (out[i] == callee) return;
      }
      if (n < cap) out[n++] = callee;
    };
    for (uint32_t t = 0; t < count(kThreads); ++t) {
      const ThreadRec th = thread(t);
      if (th.tenant != tenant_index) continue;
      for (uint32_t c = 0; c < th.num_calls; ++c) mention(call(th.first_call + c).callee);
    }
    for (uint32_t i = 0; i < count(kInvokes); ++i) {
      const InvokeRec inv = invoke(i);
      if (inv.from == tenant_index) mention(inv.to);
    }
    return n;
  }
  // The capability slot through which `thread`'s FWPs make call `c` (an index into its calls).
  CapSlot call_slot(uint32_t thread_index, uint32_t c) const {
    const ThreadRec th = thread(thread_index);
    uint32_t list[kCapSlots];
    const uint32_t n = callees(th.tenant, list, kCapSlots);
    const uint32_t callee = call(th.first_call + c).callee;
    for (uint32_t i = 0; i < n; ++i) {
      if (list[i] == callee) return i;
    }
    return kCapSlots;  // unreachable for a blob open() accepted
  }

 private:
  // A header field at `off`; a section's (offset, count).
  template <class T>
  T head(size_t off) const {
    return load<T>(bytes_.data() + off);
  }
  wire::SectionRef section(Section s) const {
    return head<wire::SectionRef>(offsetof(wire::Header, sections) + sizeof(wire::SectionRef) * s);
  }
  uint32_t section_offset(Section s) const { return section(s).offset; }
  // Record `i` of section `s`, whole or one field of it (`off`, an offsetof of its wire struct).
  template <class W>
  W rec(Section s, uint32_t i) const {
    return load<W>(record(s, i));
  }
  template <class T>
  T field(Section s, uint32_t i, size_t off) const {
    return load<T>(record(s, i) + off);
  }
  // The thread spec of canonical thread instance `instance` (< total_threads()), or kNoIndex.
  uint32_t instance_thread(uint32_t instance) const {
    for (uint32_t i = 0; i < count(kThreads); ++i) {
      const uint32_t n = tenant(thread(i).tenant).instances;
      if (instance < n) return i;
      instance -= n;
    }
    return kNoIndex;
  }
  bool sporadic_instance(uint32_t instance) const {
    const uint32_t t = instance_thread(instance);
    return t != kNoIndex &&
           static_cast<ReleaseKind>(field<uint8_t>(kThreads, t, offsetof(wire::Thread, release))) == ReleaseKind::kSporadic;
  }
  const uint8_t* record(Section s, uint32_t i) const {
    return bytes_.data() + section_offset(s) + size_t{i} * kRecordSize[s];
  }

  bool string_ok(uint32_t off) const {
    // Terminated within the table (open() checked that the table's last byte is NUL).
    return off < count(kStrings);
  }
  static bool cost_ok(const Cost& c) {
    if (static_cast<uint8_t>(c.kind) > static_cast<uint8_t>(CostKind::kExponential)) return false;
    if (c.value < Duration::zero() || c.min < Duration::zero() || c.max < Duration::zero() || c.sd < Duration::zero()) {
      return false;
    }
    if (c.kind == CostKind::kUniform && (c.min <= Duration::zero() || c.max < c.min)) return false;
    if (c.kind != CostKind::kUniform && c.value <= Duration::zero()) return false;
    return c.sigma_ppm <= 10'000'000;
  }

  BlobError check() const {
    const size_t size = bytes_.size();
    if (size < kHeaderSize) return BlobError::kTooShort;
    const uint8_t* p = bytes_.data();
    const wire::Header h = load<wire::Header>(p);
    for (int i = 0; i < 8; ++i) {
      if (h.magic[i] != kMagic[i]) return BlobError::kBadMagic;
    }
    if (h.version != kVersion) return BlobError::kBadVersion;
    if (h.header_size != kHeaderSize || h.total_size != size) return BlobError::kBadSize;
    if (h.checksum != checksum(p + kChecksummedFrom, size - kChecksummedFrom)) return BlobError::kBadChecksum;
    if (h.duration_ns <= 0) return BlobError::kBadValue;
    // Every byte belongs to the header or a section (or to the alignment before one): a sealed
    // blob with bytes appended has no second reading. Of the corruptions a blob can carry under a
    // valid seal, this is the one refused for its form; a changed seed, a phase or a cost are values
    // a scenario may have (the seal says only that the bytes are what was compiled or resealed),
    // and are refused only when impossible (kBadValue below).
    uint64_t end = kHeaderSize;
    for (uint32_t s = 0; s < kNumSections; ++s) {
      const uint64_t off = h.sections[s].offset;
      const uint64_t n = h.sections[s].count;
      if (n > kMaxCount || off < kHeaderSize || off + n * kRecordSize[s] > size) return BlobError::kBadSection;
      if (off + n * kRecordSize[s] > end) end = off + n * kRecordSize[s];
    }
    if (end != size) return BlobError::kTrailingBytes;
    const uint32_t strings = count(kStrings);
    if (strings > 0 && p[section_offset(kStrings) + strings - 1] != 0) return BlobError::kBadString;

    const uint32_t servers = count(kServers), templates = count(kTemplates), tenants = count(kTenants);
    if (servers == 0 || tenants == 0) return BlobError::kBadValue;
    uint64_t cpus = 0;
    for (uint32_t i = 0; i < servers; ++i) {
      const ServerRec s = server(i);
      if (!string_ok(s.name)) return BlobError::kBadString;
      if (s.cpus == 0 || s.policy > 1 || s.speed_hz == 0) return BlobError::kBadValue;
      cpus += s.cpus;
    }
    if (cpus >= kNoCpu) return BlobError::kBadValue;
    // Scheduling domains: none, or one leader per CPU, each a domain's lowest CPU and of the same
    // server (whose CPUs share its policy).
    if (count(kDomains) != 0) {
      if (count(kDomains) != cpus) return BlobError::kBadValue;
      for (uint32_t i = 0, first = 0; i < servers; first += server(i).cpus, ++i) {
        for (uint32_t c = first; c < first + server(i).cpus; ++c) {
          const uint32_t l = domain_leader(c);
          if (l < first || l > c || domain_leader(l) != l) return BlobError::kBadReference;
        }
      }
    }
    for (uint32_t i = 0; i < templates; ++i) {
      const TemplateRec t = tmpl(i);
      if (!string_ok(t.name)) return BlobError::kBadString;
      if (t.pool > kMaxCount || t.max_instances > kMaxCount) return BlobError::kBadValue;
    }
    for (uint32_t i = 0; i < tenants; ++i) {
      const TenantRec t = tenant(i);
      if (!string_ok(t.name)) return BlobError::kBadString;
      if (t.server >= servers || t.tmpl >= templates) return BlobError::kBadReference;
      if (t.instances == 0 || t.instances > kMaxCount) return BlobError::kBadValue;
    }
    const uint32_t calls = count(kCalls);
    for (uint32_t i = 0; i < count(kThreads); ++i) {
      const wire::Thread w = rec<wire::Thread>(kThreads, i);
      if (w.release > 1 || w.server_kind > static_cast<uint8_t>(ServerKind::kCbs)) return BlobError::kBadValue;
      bool known = false;
      for (const ProgramName& pn : kPrograms) known = known || pn.id == w.program;
      if (!known) return BlobError::kBadValue;
      const ThreadRec t = decode(w);
      if (!string_ok(t.name)) return BlobError::kBadString;
      if (t.tenant >= tenants) return BlobError::kBadReference;
      const ServerRec s = server(tenant(t.tenant).server);
      if (t.cpu >= s.cpus) return BlobError::kBadReference;
      if (t.period <= Duration::zero() || t.deadline <= Duration::zero() || t.phase < Duration::zero()) {
        return BlobError::kBadValue;
      }
      if (!validate(t.sched)) return BlobError::kBadValue;
      if (t.sched.server == ServerKind::kCbs && s.policy != 1) return BlobError::kBadValue;
      if (!cost_ok(t.cost)) return BlobError::kBadValue;
      if (t.first_call > calls || t.num_calls > calls - t.first_call) return BlobError::kBadReference;
    }
    for (uint32_t i = 0; i < calls; ++i) {
      const CallRec c = call(i);
      if (c.callee >= tenants) return BlobError::kBadReference;
      if (c.at < Duration::zero() || !cost_ok(c.cost)) return BlobError::kBadValue;
    }
    for (uint32_t i = 0; i < count(kInvokes); ++i) {
      const InvokeRec v = invoke(i);
      if (v.from >= tenants || v.to >= tenants) return BlobError::kBadReference;
    }
    // A NIC per server at most; ports bound once each (instance k of a tenant takes each of its
    // ports + k), to tenants on a server with one.
    for (uint32_t i = 0; i < count(kNics); ++i) {
      const NicRec n = nic(i);
      if (n.server >= servers) return BlobError::kBadReference;
      if (n.model < 1 || n.model > 2 || (n.mac[0] & 1) != 0 || nic_of(n.server) != i) return BlobError::kBadValue;
    }
    for (uint32_t i = 0; i < count(kPorts); ++i) {
      const PortRec pr = port(i);
      if (pr.tenant >= tenants) return BlobError::kBadReference;
      const uint32_t n = tenant(pr.tenant).instances;
      if (pr.port == 0 || n == 0 || pr.port + uint64_t{n} - 1 > 0xffff || nic_of(tenant(pr.tenant).server) == count(kNics)) {
        return BlobError::kBadValue;
      }
      for (uint32_t j = 0; j < i; ++j) {  // the ranges [port, port + n) do not overlap
        const PortRec q = port(j);
        const uint32_t m = tenant(q.tenant).instances;
        if (pr.port < q.port + m && q.port < pr.port + n) return BlobError::kBadValue;
      }
    }
    for (uint32_t i = 0; i < count(kRings); ++i) {
      const RingRec r = ring(i);
      if (!string_ok(r.name)) return BlobError::kBadString;
      if (r.from >= tenants || r.to >= tenants || r.from == r.to) return BlobError::kBadReference;
      if (r.slots == 0 || r.slot_size == 0 || r.slots > kMaxCount || r.slot_size > kMaxCount) return BlobError::kBadValue;
    }
    if (BlobError e = check_workloads(); e != BlobError::kOk) return e;
    // What instantiation will allocate stays bounded (the sums cannot overflow).
    uint64_t fwps = 0, threads = 0, rings = 0, ring_bytes = 0, pooled = 0;
    for (uint32_t i = 0; i < tenants; ++i) fwps += tenant(i).instances;
    for (uint32_t i = 0; i < templates; ++i) pooled += tmpl(i).pool;
    for (uint32_t i = 0; i < count(kThreads); ++i) threads += tenant(thread(i).tenant).instances;
    for (uint32_t i = 0; i < count(kRings); ++i) {
      const RingRec r = ring(i);
      rings += tenant(r.from).instances;
      ring_bytes += uint64_t{tenant(r.from).instances} * r.slots * (4 + uint64_t{r.slot_size});
    }
    if (fwps + pooled > kMaxCount || threads > kMaxCount || rings > kMaxCount || ring_bytes > kMaxRingBytes) {
      return BlobError::kBadValue;
    }
    // Capability tables: invoke targets plus ring ends per FWP must fit kCapSlots.
    for (uint32_t t = 0; t < tenants; ++t) {
      uint32_t list[kCapSlots + 1];
      uint32_t n = callees(t, list, kCapSlots + 1);
      for (uint32_t i = 0; i < count(kRings) && n <= kCapSlots; ++i) {
        const RingRec r = ring(i);
        if (r.from == t) ++n;
        // A consumer instance k receives from the producer instances j with j mod m == k.
        if (r.to == t) n += (tenant(r.from).instances + tenant(t).instances - 1) / tenant(t).instances;
      }
      if (n > kCapSlots) return BlobError::kBadValue;
    }
    return BlobError::kOk;
  }
  // Arrivals in time order for sporadic thread instances, each `next` link to a later arrival
  // of the same target; pipelines over sporadic stages, each frame entering its stage 0.
  BlobError check_workloads() const {
    const uint32_t threads = total_threads(), pipelines = count(kPipelines), stages = count(kStages);
    for (uint32_t i = 0; i < stages; ++i) {
      const uint32_t t = rec<wire::Stage>(kStages, i).instance;
      if (t >= threads) return BlobError::kBadReference;
      if (!sporadic_instance(t)) return BlobError::kBadValue;
    }
    for (uint32_t i = 0; i < pipelines; ++i) {
      const PipelineRec p = pipeline(i);
      if (p.stages == 0 || p.first_stage > stages || p.stages > stages - p.first_stage) return BlobError::kBadReference;
      if (p.stage_deadline < Duration::zero() || p.e2e_deadline <= Duration::zero()) return BlobError::kBadValue;
    }
    // The sporadic flag of each target is looked up once per thread spec, not once per arrival.
    Duration last = Duration::zero();
    for (uint32_t i = 0; i < count(kArrivals); ++i) {
      const ArrivalRec a = arrival(i);
      if (a.time < last || a.cost < Duration::zero() || a.deadline < Duration::zero()) return BlobError::kBadValue;
      last = a.time;
      if (a.target >= threads) return BlobError::kBadReference;
      if (a.next != kNoIndex && (a.next <= i || a.next >= count(kArrivals) || arrival_target(a.next) != a.target)) {
        return BlobError::kBadReference;
      }
      if (a.pipeline != kNoIndex && (a.pipeline >= pipelines || stage(a.pipeline, 0) != a.target)) {
        return BlobError::kBadReference;
      }
    }
    // Every target is sporadic: marked per thread spec in one pass over the arrivals' targets,
    // which are bounded by total_threads() (checked above).
    uint32_t first = 0;
    for (uint32_t i = 0; i < count(kThreads); ++i) {
      const uint32_t n = tenant(thread(i).tenant).instances;
      const bool sporadic = thread(i).release == ReleaseKind::kSporadic;
      if (!sporadic && targets_any(first, first + n)) return BlobError::kBadValue;
      first += n;
    }
    return BlobError::kOk;
  }
  uint32_t arrival_target(uint32_t i) const { return field<uint32_t>(kArrivals, i, offsetof(wire::Arrival, target)); }
  // Whether some arrival targets an instance in [lo, hi). Each arrival is visited once per thread
  // spec with an instance range; specs are few next to arrivals.
  bool targets_any(uint32_t lo, uint32_t hi) const {
    for (uint32_t i = 0; i < count(kArrivals); ++i) {
      const uint32_t t = arrival_target(i);
      if (t >= lo && t < hi) return true;
    }
    return false;
  }

  Span<const uint8_t> bytes_;
};

// The kernel objects instantiate() created, in canonical order. The caller provides the storage,
// sized from the blob: templates count(kTemplates), fwps total_fwps(), threads total_threads(),
// rings total_rings(), ring_storage ring_storage_bytes().
struct Objects {
  Span<TemplateId> templates;
  Span<FwpId> fwps;        // tenant by tenant, instance by instance
  Span<ThreadId> threads;  // thread by thread, instance by instance
  Span<RingId> rings;      // ring by ring, producer instance by instance
  Span<uint8_t> ring_storage;
};

// Why instantiate() stopped: the kernel's error and the record it was creating.
struct InstantiateError {
  Error error = Error::kOk;
  Section section = kStrings;
  uint32_t index = 0;
};

// Creates a blob's objects in `kernel` (the canonical order of simulator/scenario_run.hpp), whose
// CPUs are numbered server by server. `on_thread(blob thread index, instance, ThreadId)` runs
// after each thread is created (a backend attaches its cost model there). Partial work is left
// in place on failure.
template <Platform P, class OnThread>
InstantiateError instantiate(Kernel<P>& kernel, const ScenarioBlob& b, const Objects& out, OnThread&& on_thread) {
  auto fail = [](Error e, Section s, uint32_t i) { return InstantiateError{e, s, i}; };
  if (!b.valid()) return fail(Error::kInvalidArgument, kStrings, 0);
  if (out.templates.size() < b.count(kTemplates) || out.fwps.size() < b.total_fwps() ||
      out.threads.size() < b.total_threads() || out.rings.size() < b.total_rings() ||
      out.ring_storage.size() < b.ring_storage_bytes()) {
    return fail(Error::kOutOfCapacity, kStrings, 0);
  }
  // Templates, each pool prefilled.
  for (uint32_t i = 0; i < b.count(kTemplates); ++i) {
    const TemplateRec t = b.tmpl(i);
    TemplateParams p;
    p.image = i;
    p.pool_limit = t.pool;
    p.max_instances = t.max_instances;
    const Result<TemplateId> id = kernel.template_create(p);
    if (!id) return fail(id.error(), kTemplates, i);
    out.templates[i] = *id;
    if (t.pool > 0) {
      const Status s = kernel.fwp_prefill(*id, t.pool);
      if (!s) return fail(s.error(), kTemplates, i);
    }
  }
  // FWPs.
  const uint32_t tenants = b.count(kTenants);
  auto fwp_base = [&](uint32_t tenant) {
    uint32_t n = 0;
    for (uint32_t t = 0; t < tenant; ++t) n += b.tenant(t).instances;
    return n;
  };
  {
    uint32_t k = 0;
    for (uint32_t t = 0; t < tenants; ++t) {
      const TenantRec tn = b.tenant(t);
      for (uint32_t i = 0; i < tn.instances; ++i) {
        const Result<FwpId> f = kernel.fwp_spawn(out.templates[tn.tmpl]);
        if (!f) return fail(f.error(), kTenants, t);
        out.fwps[k++] = *f;
      }
    }
  }
  // Rings, one per producer instance, storage carved in order.
  {
    uint32_t k = 0;
    size_t used = 0;
    for (uint32_t r = 0; r < b.count(kRings); ++r) {
      const RingRec ring = b.ring(r);
      const uint32_t producers = b.tenant(ring.from).instances;
      const size_t bytes = size_t{ring.slots} * (4 + size_t{ring.slot_size});
      for (uint32_t i = 0; i < producers; ++i) {
        const Result<RingId> id =
            kernel.ring_create(Span<uint8_t>(out.ring_storage.data() + used, bytes), ring.slot_size, ring.slots);
        if (!id) return fail(id.error(), kRings, r);
        used += bytes;
        out.rings[k++] = *id;
      }
    }
  }
  // Capabilities, FWP by FWP: invoke targets, then ring ends in ring order.
  for (uint32_t t = 0; t < tenants; ++t) {
    const TenantRec tn = b.tenant(t);
    uint32_t callees[kCapSlots];
    const uint32_t n = b.callees(t, callees, kCapSlots);
    for (uint32_t i = 0; i < tn.instances; ++i) {
      const FwpId f = out.fwps[fwp_base(t) + i];
      for (uint32_t c = 0; c < n; ++c) {
        const uint32_t m = b.tenant(callees[c]).instances;
        const Result<CapSlot> s = kernel.grant_invoke(f, out.fwps[fwp_base(callees[c]) + i % m]);
        if (!s) return fail(s.error(), kTenants, t);
      }
      uint32_t ring_index = 0;
      for (uint32_t r = 0; r < b.count(kRings); ++r) {
        const RingRec ring = b.ring(r);
        const uint32_t producers = b.tenant(ring.from).instances;
        const uint32_t consumers = b.tenant(ring.to).instances;
        for (uint32_t j = 0; j < producers; ++j, ++ring_index) {
          if (ring.from == t && j == i) {
            const Result<CapSlot> s = kernel.grant_ring(f, out.rings[ring_index], CapKind::kRingSend);
            if (!s) return fail(s.error(), kRings, r);
          }
          if (ring.to == t && j % consumers == i) {
            const Result<CapSlot> s = kernel.grant_ring(f, out.rings[ring_index], CapKind::kRingReceive);
            if (!s) return fail(s.error(), kRings, r);
          }
        }
      }
    }
  }
  // Threads.
  {
    uint32_t k = 0;
    for (uint32_t t = 0; t < b.count(kThreads); ++t) {
      const ThreadRec th = b.thread(t);
      const TenantRec tn = b.tenant(th.tenant);
      const ServerRec sv = b.server(tn.server);
      for (uint32_t i = 0; i < tn.instances; ++i) {
        ThreadParams p;
        p.fwp = out.fwps[fwp_base(th.tenant) + i];
        p.cpu = static_cast<CpuId>(b.first_cpu(tn.server) + (th.spread ? (th.cpu + i) % sv.cpus : th.cpu));
        p.sched = th.sched;
        p.release = th.release;
        p.period = th.period;
        p.relative_deadline = th.deadline;
        p.first_release = Instant::epoch() + th.phase;
        const Result<ThreadId> id = kernel.thread_create(p);
        if (!id) return fail(id.error(), kThreads, t);
        out.threads[k++] = *id;
        on_thread(t, i, *id);
      }
    }
  }
  return InstantiateError{};
}

}  // namespace edgeos::blob

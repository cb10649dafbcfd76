// A compiled scenario taken the way the x86-64 kernel takes its boot module
// (kernel_backend/kernel/start.cpp, start()): ScenarioBlob::open, the kernel's capacity checks,
// a core Kernel with one scheduler per CPU by its server's policy, blob::instantiate, then a short
// run driven by the blob's arrivals. Shared by scenario_fuzz.cpp (blobs the compiler wrote) and
// blob_fuzz.cpp (any bytes).
//
// Beyond the sanitizers and the kernel's own invariant checks (on, panic on a violation), it
// checks what scenario_blob.hpp promises for a blob that open() accepted: every string is
// terminated inside the blob, every reference resolves (call slots, NICs, pipeline stages,
// arrival links), and instantiate() never crashes.
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "edgeos/core/kernel.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "fuzz.hpp"

namespace edgeos::fuzz {

// A Platform with a clock the run sets and one one-shot timer per CPU.
struct FuzzPlatform {
  Instant clock = Instant::epoch();
  std::vector<Instant> timers;
  std::vector<Thread*> running;
  std::vector<Instant> dispatched;  // when `running` last changed, by CPU
  uint64_t records = 0;

  explicit FuzzPlatform(size_t cpus) : timers(cpus, Instant::never()), running(cpus, nullptr), dispatched(cpus) {}
  Instant now() const { return clock; }
  void arm_timer(CpuId cpu, Instant when) { timers[cpu] = when; }
  void switch_to(CpuId cpu, Thread* t) {
    running[cpu] = t;
    dispatched[cpu] = clock;
  }
  void charge_overhead(CpuId, Overhead) {}
  void trace(const TraceRecord&) { ++records; }
  Status fwp_instantiate(Fwp&, const FwpTemplate&) { return Status::ok(); }
  Status fwp_reset(Fwp&, const FwpTemplate&) { return Status::ok(); }
  void fwp_release(Fwp&) {}
};
static_assert(Platform<FuzzPlatform>);

// What the kernel backend can hold (kernel.cpp's kMax*, ring storage smaller): bigger blobs are
// refused before instantiation there, and skipped here.
inline constexpr uint32_t kMaxCpus = 64;
inline constexpr uint32_t kMaxThreads = 512;
inline constexpr uint32_t kMaxFwps = 2048;
inline constexpr uint32_t kMaxTemplates = 64;
inline constexpr uint32_t kMaxRings = 128;
inline constexpr size_t kMaxRingBytes = size_t{1} << 20;
// Events of the run after instantiation.
inline constexpr int kRunEvents = 128;

// Reads every record the kernel reads and checks the references open() promised.
inline void check_records(const blob::ScenarioBlob& b) {
  using namespace blob;
  auto str = [&](uint32_t off) { return std::strlen(b.string(off)); };  // ASan: within the blob
  for (uint32_t i = 0; i < b.count(kServers); ++i) {
    (void)str(b.server(i).name);
    const uint32_t n = b.nic_of(i);
    EDGEOS_FUZZ_CHECK(n == b.count(kNics) || b.nic(n).server == i);
  }
  for (uint32_t i = 0; i < b.count(kTemplates); ++i) (void)str(b.tmpl(i).name);
  for (uint32_t i = 0; i < b.count(kTenants); ++i) {
    (void)str(b.tenant(i).name);
    uint32_t callees[kCapSlots];
    const uint32_t n = b.callees(i, callees, kCapSlots);
    for (uint32_t c = 0; c < n; ++c) EDGEOS_FUZZ_CHECK(callees[c] < b.count(kTenants));
  }
  for (uint32_t t = 0; t < b.count(kThreads); ++t) {
    const ThreadRec th = b.thread(t);
    (void)str(th.name);
    for (uint32_t c = 0; c < th.num_calls; ++c) {
      EDGEOS_FUZZ_CHECK(b.call_slot(t, c) < kCapSlots);  // "unreachable for a blob open() accepted"
    }
  }
  for (uint32_t i = 0; i < b.count(kRings); ++i) (void)str(b.ring(i).name);
  for (uint32_t i = 0; i < b.count(kPorts); ++i) {
    const PortRec p = b.port(i);
    EDGEOS_FUZZ_CHECK(p.tenant < b.count(kTenants) && b.nic_of(b.tenant(p.tenant).server) < b.count(kNics));
  }
  const uint32_t instances = b.total_threads();
  for (uint32_t p = 0; p < b.count(kPipelines); ++p) {
    for (uint32_t s = 0; s < b.pipeline(p).stages; ++s) EDGEOS_FUZZ_CHECK(b.stage(p, s) < instances);
  }
  for (uint32_t i = 0; i < b.count(kArrivals); ++i) {
    const ArrivalRec a = b.arrival(i);
    EDGEOS_FUZZ_CHECK(a.target < instances);
    EDGEOS_FUZZ_CHECK(a.next == kNoIndex || (a.next > i && a.next < b.count(kArrivals)));
  }
}

// The blob's objects in a kernel, and a short run. Returns whether instantiation succeeded
// (false also when the blob is beyond the capacities above).
inline bool instantiate_and_run(const blob::ScenarioBlob& b, blob::InstantiateError* error = nullptr) {
  using namespace blob;
  check_records(b);
  const uint32_t cpus = b.total_cpus();
  if (cpus > kMaxCpus || b.total_threads() > kMaxThreads || uint64_t{b.total_fwps()} + b.pooled_fwps() > kMaxFwps ||
      b.count(kTemplates) > kMaxTemplates || b.total_rings() > kMaxRings || b.ring_storage_bytes() > kMaxRingBytes) {
    return false;
  }
  const uint32_t threads = b.total_threads();
  const uint32_t fwps = b.total_fwps() + b.pooled_fwps();
  FuzzPlatform platform(cpus);
  std::vector<std::unique_ptr<FixedPriorityScheduler>> fp;
  std::vector<std::unique_ptr<EdfScheduler>> edf;
  std::vector<std::vector<EdfScheduler::Entry>> edf_entries;
  std::vector<Scheduler*> schedulers;
  for (uint32_t s = 0; s < b.count(kServers); ++s) {
    for (uint32_t i = 0; i < b.server(s).cpus; ++i) {
      if (b.server(s).policy == 1) {
        edf_entries.emplace_back(threads + 1);
        edf.push_back(std::make_unique<EdfScheduler>(Span<EdfScheduler::Entry>(edf_entries.back().data(), threads + 1)));
        schedulers.push_back(edf.back().get());
      } else {
        fp.push_back(std::make_unique<FixedPriorityScheduler>());
        schedulers.push_back(fp.back().get());
      }
    }
  }
  std::vector<CpuState> cpu_state(cpus);
  std::vector<Thread> thread_slots(threads + 1);
  std::vector<SchedContext> contexts(threads + 1);
  std::vector<Fwp> fwp_slots(fwps + 1);
  std::vector<FwpTemplate> templates(b.count(kTemplates) + 1);
  std::vector<Ring> rings(b.total_rings() + 1);
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpu_state.data(), cpus);
  storage.schedulers = Span<Scheduler* const>(schedulers.data(), schedulers.size());
  storage.threads = Span<Thread>(thread_slots.data(), thread_slots.size());
  storage.sched_contexts = Span<SchedContext>(contexts.data(), contexts.size());
  storage.fwps = Span<Fwp>(fwp_slots.data(), fwp_slots.size());
  storage.templates = Span<FwpTemplate>(templates.data(), templates.size());
  storage.rings = Span<Ring>(rings.data(), rings.size());
  KernelOptions options;
  options.check_invariants = true;
  Kernel<FuzzPlatform> kernel(platform, storage, options);

  std::vector<TemplateId> template_ids(b.count(kTemplates));
  std::vector<FwpId> fwp_ids(b.total_fwps());
  std::vector<ThreadId> thread_ids(threads);
  std::vector<RingId> ring_ids(b.total_rings());
  std::vector<uint8_t> ring_storage(b.ring_storage_bytes());
  const Objects out{Span<TemplateId>(template_ids.data(), template_ids.size()), Span<FwpId>(fwp_ids.data(), fwp_ids.size()),
                    Span<ThreadId>(thread_ids.data(), thread_ids.size()), Span<RingId>(ring_ids.data(), ring_ids.size()),
                    Span<uint8_t>(ring_storage.data(), ring_storage.size())};
  // Per kernel thread slot: its blob thread (for its cost and calls).
  std::vector<uint32_t> blob_thread(thread_slots.size(), kNoIndex);
  uint32_t created = 0;
  const InstantiateError ie = instantiate(kernel, b, out, [&](uint32_t t, uint32_t instance, ThreadId id) {
    EDGEOS_FUZZ_CHECK(t < b.count(kThreads) && instance < b.tenant(b.thread(t).tenant).instances);
    EDGEOS_FUZZ_CHECK(id.index < blob_thread.size());
    blob_thread[id.index] = t;
    ++created;
  });
  if (error != nullptr) *error = ie;
  if (ie.error != Error::kOk) return false;
  EDGEOS_FUZZ_CHECK(created == threads && kernel.live_threads() == threads);
  EDGEOS_FUZZ_CHECK(kernel.live_fwps() >= b.total_fwps());

  // The run: periodic releases by the kernel's timers, sporadic ones by the blob's arrivals (a
  // thread still busy drops the request), and each dispatched job completes after its thread's
  // nominal cost of CPU time since its dispatch, making its calls through the capability slots
  // instantiate() granted first. Any completion time is one a real job could have.
  auto job_cost = [&](const Thread& t) {
    const Cost c = b.thread(blob_thread[kernel.thread_id(t).index]).cost;
    const Duration d = c.kind == CostKind::kUniform ? c.min : c.value;
    return d < Duration::nanoseconds(1) ? Duration::nanoseconds(1) : d;
  };
  const Instant end = Instant::epoch() + b.duration();
  uint32_t next_arrival = 0;
  for (int event = 0; event < kRunEvents; ++event) {
    Instant when = Instant::never();
    int kind = -1;  // 0 timer, 1 arrival, 2 completion
    CpuId cpu = 0;
    for (CpuId c = 0; c < cpus; ++c) {
      if (platform.timers[c] < when) when = platform.timers[c], kind = 0, cpu = c;
      if (platform.running[c] != nullptr) {
        const Instant done = platform.dispatched[c] + job_cost(*platform.running[c]);
        if (done < when) when = done, kind = 2, cpu = c;
      }
    }
    if (next_arrival < b.count(kArrivals)) {
      const Instant at = Instant::epoch() + b.arrival(next_arrival).time;
      if (at < when) when = at, kind = 1;
    }
    if (kind < 0 || when >= end) break;
    EDGEOS_FUZZ_CHECK(when >= platform.clock);
    platform.clock = when;
    if (kind == 0) {
      platform.timers[cpu] = Instant::never();
      kernel.timer_expired(cpu);
    } else if (kind == 1) {
      const ArrivalRec a = b.arrival(next_arrival++);
      (void)kernel.release(thread_ids[a.target], when, a.deadline);  // kBusy: dropped
    } else {
      Thread& t = *platform.running[cpu];
      const ThreadId id = kernel.thread_id(t);
      const ThreadRec rec = b.thread(blob_thread[id.index]);
      for (uint32_t c = 0; c < rec.num_calls && t.call_depth == 0; ++c) {
        if (kernel.call(id, b.call_slot(blob_thread[id.index], c))) {
          EDGEOS_FUZZ_CHECK(kernel.reply(id).is_ok());
        }
      }
      const Status s = kernel.complete(id);
      EDGEOS_FUZZ_CHECK(s.is_ok());
      if (platform.running[cpu] == &t) platform.dispatched[cpu] = when;  // its next job, at once
    }
  }
  // The invariants hold between events: once every timer due now has fired (the run may stop
  // between two events of one instant, e.g. a refill due on another CPU).
  bool between_events = true;
  for (CpuId c = 0; c < cpus; ++c) between_events = between_events && platform.timers[c] > platform.clock;
  kernel.sync();
  if (between_events) {
    const InvariantViolation v = kernel.check_invariants();
    if (!v.ok()) std::fprintf(stderr, "fuzz: after sync: %s (cpu %u, thread %u)\n", v.what, v.cpu, v.thread);
    EDGEOS_FUZZ_CHECK(v.ok());
  }
  return true;
}

}  // namespace edgeos::fuzz

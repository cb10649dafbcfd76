// The kernel's start: the compiled scenario opened and checked, the object pools sized from it,
// the CPUs given their schedulers, the scenario instantiated into the core (threads, FWPs, rings,
// ports), and time zero. Also the memory report at the run's end. kernel.cpp has the run itself.
#include "kernel.hpp"

#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../arch/x86_64/percpu.hpp"
#include "../fwp/abi.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/timer.hpp"
#include "console.hpp"
#include "devices.hpp"
#include "image.hpp"
#include "kstate.hpp"
#include "platform.hpp"
#include "smp.hpp"
#include "trace_out.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

extern "C" const uint8_t fwp_image_start[];
extern "C" const uint8_t fwp_image_end[];

namespace edgeos::kernel {

// The start-up state the run reads (kstate.hpp).
bool shared_domains = false;
Instant run_end = Instant::never();
uint64_t run_end_gate = ~uint64_t{0};
abi::ClockSlot* clock_slots = nullptr;
uint64_t clock_frame = 0;
uint64_t clock_pages = 0;
bool stream_trace = false;
uint64_t boot_cr4 = 0;

namespace {

// Kernel objects, sized from the scenario at boot (Capacity, kstate.hpp).
Thread* threads = nullptr;
SchedContext* contexts = nullptr;
Fwp* fwps = nullptr;
FwpTemplate* templates = nullptr;
Notification* notifications = nullptr;
Ring* rings = nullptr;
CpuState cpus[kMaxCpus];
FixedPriorityScheduler fp_schedulers[kMaxCpus];
EdfScheduler::Entry* edf_entries[kMaxCpus] = {};
alignas(EdfScheduler) uint8_t edf_storage[kMaxCpus][sizeof(EdfScheduler)];
Scheduler* schedulers[kMaxCpus];
CpuId domains[kMaxCpus];  // each CPU's domain leader (KernelStorage::domains), from the scenario
TemplateId* template_ids = nullptr;
RingId* ring_ids = nullptr;
uint8_t* ring_storage = nullptr;  // the scenario's rings' slots
alignas(PcKernel) uint8_t kernel_storage[sizeof(PcKernel)];

// Whether the boot command line has `word` as one of its space-separated words.
bool cmdline_has_word(const char* cmdline, const char* word) {
  for (const char* p = cmdline; p != nullptr && *p != '\0';) {
    while (*p == ' ') ++p;
    const char* w = word;
    const char* q = p;
    while (*w != '\0' && *q == *w) ++q, ++w;
    if (*w == '\0' && (*q == ' ' || *q == '\0')) return true;
    while (*p != '\0' && *p != ' ') ++p;
  }
  return false;
}

// The pools of every kernel object, sized from the scenario (Capacity, kstate.hpp).
void size_pools() {
  capacity.threads = scenario.total_threads();
  capacity.fwps = scenario.total_fwps() + scenario.pooled_fwps() + kSpareFwps;
  capacity.templates = scenario.count(blob::kTemplates);
  capacity.net_bindings = net_bindings_needed();
  capacity.notifications = capacity.net_bindings;  // the scenario's own objects make none
  capacity.rings = scenario.total_rings() + 2 * capacity.net_bindings;
  threads = boot_array<Thread>(capacity.threads, "threads");
  contexts = boot_array<SchedContext>(capacity.threads, "scheduling contexts");
  kthreads = boot_array<KThread>(capacity.threads, "threads");
  thread_ids = boot_array<ThreadId>(capacity.threads, "threads");
  canonical_cpu = boot_array<uint16_t>(capacity.threads, "threads");
  fwps = boot_array<Fwp>(capacity.fwps, "FWPs");
  kfwps = boot_array<KFwp>(capacity.fwps, "FWPs");
  fwp_ids = boot_array<FwpId>(capacity.fwps, "FWPs");
  templates = boot_array<FwpTemplate>(capacity.templates, "templates");
  template_ids = boot_array<TemplateId>(capacity.templates, "templates");
  checkpoints = boot_array<Checkpoint>(capacity.templates, "checkpoints");
  heap_limits = boot_array<uint32_t>(capacity.templates, "templates");
  for (uint32_t i = 0; i < capacity.templates; ++i) heap_limits[i] = abi::kHeapMaxPages;
  notifications = boot_array<Notification>(capacity.notifications, "notifications");
  rings = boot_array<Ring>(capacity.rings, "rings");
  ring_ids = boot_array<RingId>(capacity.rings, "rings");
  ring_storage = static_cast<uint8_t*>(boot_frames(scenario.ring_storage_bytes(), "ring slots"));
  net_bindings = boot_array<NetBindingK>(capacity.net_bindings, "network bindings");
  kprintf("capacity: %u threads, %u FWPs (%u spare), %u templates, %u rings, %u bound tenants; %lu frames free\n",
          capacity.threads, capacity.fwps, kSpareFwps, capacity.templates, capacity.rings, capacity.net_bindings,
          static_cast<unsigned long>(x86::frames().free_count()));
}

}  // namespace

// What each scenario tenant's live FWPs hold at the end of the run, per FWP: page tables, pages
// (data, heap, stacks; not the shared code and clock pages) and, for bound FWPs, the two rings of
// the network path in the kernel. Lines "memory: tenant NAME: ..." (tests/kernel, make paper).
void report_memory() {
  for (uint32_t t = 0; t < scenario.count(blob::kTenants); ++t) {
    uint64_t live = 0, tables = 0, pages = 0, bound = 0;
    for (uint32_t f = 0; f < capacity.fwps; ++f) {
      if (kfwps[f].space.root == 0 || kfwps[f].tenant != t) continue;
      const x86::SpaceFrames sf = x86::space_frames(kfwps[f].space);
      ++live;
      tables += sf.tables;
      pages += sf.pages;
      bound += kfwps[f].net >= 0 ? 1 : 0;
    }
    if (live == 0) continue;
    const uint64_t ring_kib = bound * abi::kNetRingBytes / 1024;
    const uint64_t total_kib = (tables + pages) * 4 + ring_kib;
    kprintf("memory: tenant %s: %lu FWPs, %lu KiB, %lu KiB each (page tables %lu, pages %lu, network rings %lu)\n",
            scenario.string(scenario.tenant(t).name), static_cast<unsigned long>(live), static_cast<unsigned long>(total_kib),
            static_cast<unsigned long>(total_kib / live), static_cast<unsigned long>(tables * 4 / live),
            static_cast<unsigned long>(pages * 4 / live), static_cast<unsigned long>(ring_kib / live));
  }
}

[[noreturn]] void start(const pc::BootInfo& boot, const x86::Features& features) {
  x86::this_cpu().local = &kcpus[0];
  // The compiled scenario: the first boot module.
  if (boot.num_modules < 1) {
    kprintf("edgeos: no scenario module (boot with the compiled scenario as a module: edgeos boot)\n");
    pc::qemu_exit(pc::kExitFailure);
  }
  const pc::BootModule& m = boot.modules[0];
  blob::BlobError be = blob::BlobError::kOk;
  scenario = blob::ScenarioBlob::open(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.start), m.end - m.start), &be);
  if (be != blob::BlobError::kOk) {
    kprintf("edgeos: the scenario module is not a compiled scenario: %s\n", blob::blob_error_name(be));
    pc::qemu_exit(pc::kExitFailure);
  }
  num_cpus = scenario.total_cpus();
  if (num_cpus < 1 || num_cpus > kMaxCpus) {
    kprintf("edgeos: the scenario has %u CPUs; this kernel runs 1 to %u\n", num_cpus, kMaxCpus);
    pc::qemu_exit(pc::kExitFailure);
  }
  if (scenario.total_threads() > abi::kClockSlots) {
    kprintf("edgeos: the scenario has %u threads; this kernel runs at most %u\n", scenario.total_threads(), abi::kClockSlots);
    pc::qemu_exit(pc::kExitFailure);
  }

  x86::frames().zero_fresh();  // page tables and stacks then come zeroed, at no cost to creation
  size_pools();
  if (!load_program_image(fwp_image_start, static_cast<uint64_t>(fwp_image_end - fwp_image_start), &image)) {
    pc::qemu_exit(pc::kExitFailure);
  }
  smap = features.smap;
  uint64_t cr4 = x86::read_cr4();
  if (features.smep) cr4 |= 1u << 20;
  if (features.smap) cr4 |= 1u << 21;
  x86::write_cr4(cr4);
  if (features.pcid) x86::enable_pcid();
  boot_cr4 = x86::read_cr4();

  const pc::TimerInfo timer = pc::timer_init(x86::kVectorTimer, x86::kVectorSpurious, features.tsc_deadline);
  kprintf("time: TSC %lu Hz, %s timer\n", timer.tsc_hz, timer.tsc_deadline ? "TSC-deadline" : "one-shot local APIC");
  // The clock pages: consecutive frames, so that the slots are one array in the direct map.
  clock_pages = (uint64_t{capacity.threads} * sizeof(abi::ClockSlot) + x86::kPageSize - 1) / x86::kPageSize;
  clock_frame = reinterpret_cast<uint64_t>(boot_frames(clock_pages * x86::kPageSize, "clock pages"));
  clock_slots = reinterpret_cast<abi::ClockSlot*>(clock_frame);
  for (uint32_t i = 0; i < capacity.threads; ++i) clock_slots[i].ns_mult = pc::tsc_ns_mult();

  // Each CPU runs its server's policy: servers in order, their CPUs numbered consecutively (the
  // canonical order of workloads/scenario_blob.hpp).
  // The CPUs of a domain share its leader's (global and clustered scheduling).
  for (uint32_t sv = 0, c = 0; sv < scenario.count(blob::kServers); ++sv) {
    for (uint32_t i = 0; i < scenario.server(sv).cpus && c < num_cpus; ++i, ++c) {
      domains[c] = static_cast<CpuId>(scenario.domain_leader(c));
      if (domains[c] != c) {
        schedulers[c] = schedulers[domains[c]];
        shared_domains = true;
      } else if (scenario.server(sv).policy == 1) {
        edf_entries[c] = boot_array<EdfScheduler::Entry>(capacity.threads, "EDF queues");
        schedulers[c] = new (edf_storage[c]) EdfScheduler(Span<EdfScheduler::Entry>(edf_entries[c], capacity.threads));
      } else {
        schedulers[c] = &fp_schedulers[c];
      }
    }
  }
  lock_kernel();  // held until the run starts: the other CPUs wait for it
  start_other_cpus(boot);
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, num_cpus);
  storage.schedulers = Span<Scheduler* const>(schedulers, num_cpus);
  if (shared_domains) storage.domains = Span<const CpuId>(domains, num_cpus);
  storage.threads = Span<Thread>(threads, capacity.threads);
  storage.sched_contexts = Span<SchedContext>(contexts, capacity.threads);
  storage.fwps = Span<Fwp>(fwps, capacity.fwps);
  storage.templates = Span<FwpTemplate>(templates, capacity.templates);
  storage.notifications = Span<Notification>(notifications, capacity.notifications);
  storage.rings = Span<Ring>(rings, capacity.rings);
  KernelOptions options;
  // "invariants" on the command line (edgeos boot --check-invariants): the core checks every
  // invariant after every event, as the simulators do in tests, and panics on the first broken one.
  options.check_invariants = cmdline_has_word(boot.cmdline, "invariants");
  if (options.check_invariants) kprintf("kernel: checking the core's invariants after every event\n");
  stream_trace = cmdline_has_word(boot.cmdline, "stream");
  plan_trace = cmdline_has_word(boot.cmdline, "plans");
  kernel = new (kernel_storage) PcKernel(platform, storage, options);

  trace_begin(timer.tsc_hz);
  run_end = Instant::epoch() + scenario.duration();
  const blob::Objects out{Span<TemplateId>(template_ids, capacity.templates), Span<FwpId>(fwp_ids, capacity.fwps),
                          Span<ThreadId>(thread_ids, capacity.threads), Span<RingId>(ring_ids, capacity.rings),
                          Span<uint8_t>(ring_storage, scenario.ring_storage_bytes())};
  uint32_t canonical = 0;
  const blob::InstantiateError ie = blob::instantiate(*kernel, scenario, out, [&canonical](uint32_t t, uint32_t instance, ThreadId id) {
    KThread& kt = kthreads[id.index];
    kt = KThread{};
    const blob::ThreadRec rec = scenario.thread(t);
    kt.blob_thread = t;
    kt.instance = instance;
    kt.canonical = canonical;
    // Its requests are delivered by its domain's leader, whose timer queue the domain shares.
    canonical_cpu[canonical++] = static_cast<uint16_t>(domains[(*kernel->thread(id))->cpu]);
    kt.program = rec.program;
    kt.cost_rng = thread_stream("cost/", t, instance);
    kt.call_rng = thread_stream("call/", t, instance);
    const Thread* th = *kernel->thread(id);
    kt.ran_on = static_cast<uint16_t>(th->cpu);  // where the core placed it, as a migration counts from
    const uint64_t stack = ensure_stack(th->fwp, id.index, 0);
    kt.ctx = entry_context(image.start_entry, stack, rec.program, id.index);
    kt.ctx.rdx = scenario.seed();  // a third argument: the scenario's seed (the system-call fuzzer's)
    // The NIC goes to the FWP of a thread that runs the driver (if it cannot be granted, the
    // console says why, and the driver's kSysNicInfo is refused).
    if (rec.program == abi::kProgramNicDriver) (void)grant_nic(th->fwp->slot_index, space_of(th->fwp));
  });
  if (ie.error != Error::kOk) {
    kprintf("edgeos: instantiating the scenario failed: %s (section %u, record %u)\n", error_name(ie.error), ie.section, ie.index);
    pc::qemu_exit(pc::kExitFailure);
  }
  // Each template's memory budget, as heap pages (at most the kernel's per-FWP heap limit).
  for (uint32_t i = 0; i < scenario.count(blob::kTemplates); ++i) {
    const uint64_t pages = uint64_t{scenario.tmpl(i).memory_kib} / 4;
    if (pages != 0 && pages < abi::kHeapMaxPages) heap_limits[template_ids[i].index] = static_cast<uint32_t>(pages);
  }
  // FWP names for messages: tenant by tenant, instance by instance (the canonical order).
  uint32_t k = 0;
  for (uint32_t t = 0; t < scenario.count(blob::kTenants); ++t) {
    for (uint32_t i = 0; i < scenario.tenant(t).instances; ++i, ++k) {
      kfwps[fwp_ids[k].index].tenant = t;
      kfwps[fwp_ids[k].index].instance = i;
    }
  }
  if (!bind_ports()) pc::qemu_exit(pc::kExitFailure);
  flows_boot();
  kprintf("scenario: %u FWPs, %u threads on %u CPU%s (%s), %lu ms; %lu frames free\n", scenario.total_fwps(),
          scenario.total_threads(), num_cpus, num_cpus == 1 ? "" : "s",
          scenario.server(0).policy == 1 ? "EDF" : "fixed priority",
          static_cast<unsigned long>(scenario.duration().ns() / 1'000'000), x86::frames().free_count());
  if (shared_domains) {  // e.g. "domains: 0 0 2 2" for two clusters of two CPUs
    kprintf("domains:");
    for (uint32_t c = 0; c < num_cpus; ++c) kprintf(" %u", domains[c]);
    kprintf(" (each CPU's leader: global or clustered scheduling)\n");
  }
  for (uint32_t c = 0; c < num_cpus; ++c) seek_arrival(c, 0);
  // Each sporadic thread's first request (its list continues through the `next` links).
  for (uint32_t i = scenario.count(blob::kArrivals); i-- > 0;) kthreads[thread_ids[scenario.arrival(i).target].index].next_arrival = i;
  // Time zero: the run starts now that everything exists. The releases at time 0 of every CPU,
  // in CPU order, then the arrivals at time 0 (the simulator's order of events at one instant);
  // then the other CPUs start running their threads (they get the kernel lock after this CPU).
  pc::clock_restart();
  run_end_gate = pc::tsc_at(run_end) - 16;
  trace_zero_times();
  kernel->restart_accounting();
  console_defer();  // from now on the console takes only idle time
  for (uint32_t c = 0; c < num_cpus; ++c) {
    kcpus[c].core_timer = Instant::never();
    kernel->timer_expired(c);
  }
  __atomic_store_n(&run_started, true, __ATOMIC_RELEASE);
  on_timer();
  resume();
}

}  // namespace edgeos::kernel

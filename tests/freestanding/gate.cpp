// The freestanding gate: core/ and the policies, compiled as the kernel compiles them
// (-ffreestanding -fno-exceptions -fno-rtti -mgeneral-regs-only, no libc, no libstdc++), linked
// into a static program that runs the rate-monotonic and EDF textbook case on a minimal platform
// of its own and exits 0 only if both schedules come out right. If core/ ever needs the heap,
// exceptions, RTTI, floating point or any library function, this stops linking or compiling.
//
// The environment a freestanding C++ program must supply is here: the entry point, raw system
// calls and __cxa_pure_virtual; memcpy/memmove/memset/memcmp (which GCC may emit for plain struct
// copies) are the kernel's own, kernel_backend/lib/mem.cpp.
#include "edgeos/core/kernel.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

// --- the environment ------------------------------------------------------------------------------

namespace {

long syscall3(long n, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

constexpr long kSysWrite = 1;
constexpr long kSysExit = 60;

void print(const char* s) {
  long n = 0;
  while (s[n] != '\0') ++n;
  syscall3(kSysWrite, 2, reinterpret_cast<long>(s), n);
}

[[noreturn]] void exit_with(int code) {
  syscall3(kSysExit, code, 0, 0);
  __builtin_unreachable();
}

}  // namespace

extern "C" {
// The memory functions are kernel_backend/lib/mem.cpp, as in the kernel and the FWP image.
void* memcpy(void*, const void*, __SIZE_TYPE__);
void* memmove(void*, const void*, __SIZE_TYPE__);
void* memset(void*, int, __SIZE_TYPE__);
int memcmp(const void*, const void*, __SIZE_TYPE__);
void __cxa_pure_virtual() {
  print("freestanding gate: pure virtual call\n");
  exit_with(4);
}
int gate_main();
}

namespace edgeos {
[[noreturn]] void panic(const char* what, const char*, int) {
  print("freestanding gate: panic: ");
  print(what);
  print("\n");
  exit_with(3);
}
}  // namespace edgeos

asm(".globl _start\n"
    "_start:\n"
    "  xor %rbp, %rbp\n"
    "  and $-16, %rsp\n"
    "  call gate_main\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"
    "  syscall\n");

// --- a one-CPU platform: the kernel's timer and a job-completion clock ----------------------------

namespace gate {

using namespace edgeos;

struct GatePlatform {
  Instant clock;
  Instant timer = Instant::never();
  Thread* running = nullptr;
  Instant progress_from;
  Duration remaining[2];
  uint64_t loaded[2] = {~uint64_t{0}, ~uint64_t{0}};
  Duration cost[2];
  int misses = 0;
  int completes = 0;
  int64_t first_miss_ns = -1;
  uint32_t first_miss_thread = kNoIndex;

  Instant now() const { return clock; }
  void arm_timer(CpuId, Instant when) { timer = when; }
  void settle() {
    if (running != nullptr && clock > progress_from) {
      remaining[running->slot_index] -= clock - progress_from;
      progress_from = clock;
    }
  }
  void switch_to(CpuId, Thread* t) {
    settle();
    running = t;
    progress_from = clock;
    if (t != nullptr && loaded[t->slot_index] != t->jobs_released) {
      loaded[t->slot_index] = t->jobs_released;
      remaining[t->slot_index] = cost[t->slot_index];
    }
  }
  void charge_overhead(CpuId, Overhead) {}
  void trace(const TraceRecord& r) {
    if (r.event == TraceEvent::kComplete) ++completes;
    if (r.event == TraceEvent::kDeadlineMiss) {
      if (misses++ == 0) {
        first_miss_ns = r.time_ns;
        first_miss_thread = r.thread;
      }
    }
  }
  Status fwp_instantiate(Fwp&, const FwpTemplate&) { return Status::ok(); }
  Status fwp_reset(Fwp&, const FwpTemplate&) { return Status::ok(); }
  void fwp_release(Fwp&) {}
};

static_assert(Platform<GatePlatform>);

}  // namespace gate

// Every member of the Kernel, not only those this program calls, must build freestanding.
template class edgeos::Kernel<gate::GatePlatform>;

namespace gate {

// tau1 = (C=2, T=5), tau2 = (C=4, T=7) over the hyperperiod 35, in milliseconds.
bool run(bool edf) {
  GatePlatform p;
  p.cost[0] = Duration::milliseconds(2);
  p.cost[1] = Duration::milliseconds(4);
  FixedPriorityScheduler fp;
  EdfScheduler::Entry heap[2];
  EdfScheduler ed(Span<EdfScheduler::Entry>(heap, 2));
  Scheduler* sched[1] = {edf ? static_cast<Scheduler*>(&ed) : static_cast<Scheduler*>(&fp)};
  CpuState cpus[1];
  Thread threads[2];
  SchedContext scs[2];
  Fwp fwps[1];
  FwpTemplate templates[1];
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 1);
  storage.schedulers = Span<Scheduler* const>(sched, 1);
  storage.threads = Span<Thread>(threads, 2);
  storage.sched_contexts = Span<SchedContext>(scs, 2);
  storage.fwps = Span<Fwp>(fwps, 1);
  storage.templates = Span<FwpTemplate>(templates, 1);
  Kernel<GatePlatform> k(p, storage, KernelOptions{true});

  const Result<TemplateId> tmpl = k.template_create({});
  const Result<FwpId> fwp = tmpl ? k.fwp_spawn(*tmpl) : Result<FwpId>(tmpl.error());
  if (!fwp) return false;
  ThreadId ids[2];
  const int64_t periods[2] = {5, 7};
  for (int i = 0; i < 2; ++i) {
    ThreadParams tp;
    tp.fwp = *fwp;
    tp.period = Duration::milliseconds(periods[i]);
    tp.relative_deadline = tp.period;
    tp.sched.relative_deadline = tp.period;
    tp.sched.priority = static_cast<uint8_t>(2 - i);  // rate monotonic
    const Result<ThreadId> id = k.thread_create(tp);
    if (!id) return false;
    ids[i] = *id;
  }

  const Instant end = Instant::epoch() + Duration::milliseconds(35);
  for (;;) {
    const Instant done = p.running != nullptr ? p.progress_from + p.remaining[p.running->slot_index] : Instant::never();
    const Instant next = min(done, p.timer);
    if (next >= end) break;
    p.clock = next;
    if (next == done) {
      p.settle();
      if (!k.complete(ids[p.running->slot_index]).is_ok()) return false;
    } else {
      p.timer = Instant::never();
      k.timer_expired(0);
    }
  }
  if (edf) return p.misses == 0 && p.completes == 12;
  // Rate monotonic: exactly one miss, tau2's first job at t = 7.
  return p.misses == 1 && p.first_miss_ns == Duration::milliseconds(7).ns() && p.first_miss_thread == ids[1].index &&
         p.completes == 12;
}

// Budgets, invocation, notifications and rings, freestanding: a sporadic server on the same pair
// (tau2 reserved 3 every 7) and a call, a notification and a ring round trip from inside it.
bool run_ipc() {
  GatePlatform p;
  p.cost[0] = Duration::milliseconds(2);
  p.cost[1] = Duration::milliseconds(4);
  FixedPriorityScheduler fp;
  Scheduler* sched[1] = {&fp};
  CpuState cpus[1];
  Thread threads[2];
  SchedContext scs[2];
  Fwp fwps[2];
  FwpTemplate templates[1];
  Notification notes[1];
  Ring rings[1];
  uint8_t ring_memory[2 * (4 + 8)];
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 1);
  storage.schedulers = Span<Scheduler* const>(sched, 1);
  storage.threads = Span<Thread>(threads, 2);
  storage.sched_contexts = Span<SchedContext>(scs, 2);
  storage.fwps = Span<Fwp>(fwps, 2);
  storage.templates = Span<FwpTemplate>(templates, 1);
  storage.notifications = Span<Notification>(notes, 1);
  storage.rings = Span<Ring>(rings, 1);
  Kernel<GatePlatform> k(p, storage, KernelOptions{true, Duration::microseconds(1)});
  const TemplateId tmpl = *k.template_create({});
  const FwpId a = *k.fwp_spawn(tmpl);
  const FwpId b = *k.fwp_spawn(tmpl);
  ThreadParams tp;
  tp.fwp = a;
  tp.period = Duration::milliseconds(7);
  tp.relative_deadline = tp.period;
  tp.sched.relative_deadline = tp.period;
  tp.sched.server = ServerKind::kSporadic;
  tp.sched.budget = Duration::milliseconds(3);
  tp.sched.period = Duration::milliseconds(7);
  const Result<ThreadId> t = k.thread_create(tp);
  if (!t) return false;
  p.timer = Instant::never();
  k.timer_expired(0);  // released at 0, running
  const Result<CapSlot> call_slot = k.grant_invoke(a, b);
  const NotificationId n = *k.notification_create();
  const Result<CapSlot> send = k.grant_notification(b, n, CapKind::kNotifySend);
  const Result<CapSlot> recv = k.grant_notification(a, n, CapKind::kNotifyReceive);
  const RingId r = *k.ring_create(Span<uint8_t>(ring_memory, sizeof ring_memory), 8, 2);
  const Result<CapSlot> rs = k.grant_ring(b, r, CapKind::kRingSend);
  const Result<CapSlot> rr = k.grant_ring(a, r, CapKind::kRingReceive);
  if (!call_slot || !send || !recv || !rs || !rr) return false;
  if (!k.call(*t, *call_slot).is_ok()) return false;        // into b
  if (!k.notify(*t, *send).is_ok()) return false;           // b's capability
  if (!k.ring_send(*t, *rs, "gate", 4).is_ok()) return false;
  if (!k.reply(*t).is_ok()) return false;                   // back in a
  char buf[8] = {};
  const Result<size_t> got = k.ring_receive(*t, *rr, buf, sizeof buf);
  const Result<bool> pending = k.wait(*t, *recv);
  if (!got || *got != 4 || buf[0] != 'g' || buf[3] != 'e' || !pending || !*pending) return false;
  // Runs its 4ms job on a 3ms budget: throttled at 3, replenished at 7.
  p.clock = Instant::epoch() + Duration::milliseconds(3);
  k.timer_expired(0);
  const Thread* th = *k.thread(*t);
  return th->state == ThreadState::kThrottled && p.timer == Instant::epoch() + Duration::milliseconds(7);
}

// The default scenario, compiled (examples/edge-server.toml): 1 server of 4 CPUs, 5 tenants of one
// FWP each, 7 threads; the kv tenant (index 2) invokes storage (index 3) from its thread 5.
alignas(8) const unsigned char kScenario[] = {
#include "gate_scenario.inc"
};

bool run_blob() {
  using namespace edgeos::blob;
  BlobError e = BlobError::kOk;
  const ScenarioBlob b = ScenarioBlob::open(Span<const uint8_t>(kScenario, sizeof kScenario), &e);
  if (e != BlobError::kOk || b.total_cpus() != 4 || b.total_fwps() != 5 || b.total_threads() != 7) return false;
  // A truncated blob and a flipped byte are refused.
  BlobError e2 = BlobError::kOk;
  (void)ScenarioBlob::open(Span<const uint8_t>(kScenario, sizeof kScenario - 1), &e2);
  if (e2 != BlobError::kBadSize) return false;
  static unsigned char copy[sizeof kScenario];
  for (size_t i = 0; i < sizeof kScenario; ++i) copy[i] = kScenario[i];
  copy[sizeof copy - 3] ^= 0x40;
  (void)ScenarioBlob::open(Span<const uint8_t>(copy, sizeof copy), &e2);
  if (e2 != BlobError::kBadChecksum) return false;

  GatePlatform p;
  FixedPriorityScheduler fp[4];
  EdfScheduler::Entry heap[4][8];
  EdfScheduler ed[4] = {EdfScheduler(Span<EdfScheduler::Entry>(heap[0], 8)), EdfScheduler(Span<EdfScheduler::Entry>(heap[1], 8)),
                        EdfScheduler(Span<EdfScheduler::Entry>(heap[2], 8)), EdfScheduler(Span<EdfScheduler::Entry>(heap[3], 8))};
  Scheduler* sched[4];
  for (uint32_t c = 0; c < 4; ++c) sched[c] = b.server(0).policy == 1 ? static_cast<Scheduler*>(&ed[c]) : &fp[c];
  CpuState cpus[4];
  Thread threads[8];
  SchedContext scs[8];
  Fwp fwps[8];
  FwpTemplate templates[8];
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 4);
  storage.schedulers = Span<Scheduler* const>(sched, 4);
  storage.threads = Span<Thread>(threads, 8);
  storage.sched_contexts = Span<SchedContext>(scs, 8);
  storage.fwps = Span<Fwp>(fwps, 8);
  storage.templates = Span<FwpTemplate>(templates, 8);
  Kernel<GatePlatform> k(p, storage, KernelOptions{true});

  TemplateId tmpl_ids[8];
  FwpId fwp_ids[8];
  ThreadId thread_ids[8];
  Objects out{Span<TemplateId>(tmpl_ids, 8), Span<FwpId>(fwp_ids, 8), Span<ThreadId>(thread_ids, 8), {}, {}};
  uint32_t created = 0;
  const InstantiateError ie = instantiate(k, b, out, [&](uint32_t, uint32_t, ThreadId) { ++created; });
  if (ie.error != Error::kOk || created != 7 || k.live_threads() != 7 || k.live_fwps() != 5) return false;
  // The kv FWP holds one invoke capability, to the storage FWP.
  const Fwp* kv = *k.fwp(fwp_ids[2]);
  return kv->caps[0].kind == CapKind::kInvoke && kv->caps[0].index == fwp_ids[3].index &&
         kv->caps[1].kind == CapKind::kEmpty && b.call_slot(5, 0) == 0;
}

}  // namespace gate

int gate_main() {
  using gate::run;
  using gate::run_ipc;
  if (!run(/*edf=*/false)) {
    print("freestanding gate: rate-monotonic schedule wrong\n");
    return 1;
  }
  if (!run(/*edf=*/true)) {
    print("freestanding gate: EDF schedule wrong\n");
    return 2;
  }
  if (!run_ipc()) {
    print("freestanding gate: budgets and IPC wrong\n");
    return 5;
  }
  if (!gate::run_blob()) {
    print("freestanding gate: compiled scenario not read or instantiated right\n");
    return 6;
  }
  print("freestanding gate: core, policies and the scenario reader run without libc or libstdc++: ok\n");
  return 0;
}

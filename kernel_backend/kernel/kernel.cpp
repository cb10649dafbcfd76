// The kernel proper: the core's Kernel<PcPlatform> instantiated from the compiled scenario, fed
// by the local APIC timer and by system calls, with threads in ring 3.
//
// One kernel stack per CPU and no kernel threads (the event model of NOVA and Composite): every
// entry (interrupt, exception, system call) saves the running thread's registers into its
// KThread, lets the core update the schedule, and leaves through resume(), which loads whatever
// thread the core put on the CPU (or idles). A thread executing a synchronous call runs in the
// callee's address space on a stack of its own there; the caller's registers wait in the thread's
// saved[] contexts, one per call depth.
#include "kernel.hpp"

#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../fwp/abi.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/timer.hpp"
#include "console.hpp"
#include "image.hpp"
#include "platform.hpp"
#include "trace_out.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);
extern "C" const uint8_t fwp_image_start[];
extern "C" const uint8_t fwp_image_end[];

namespace edgeos::kernel {

namespace {

constexpr uint32_t kMaxThreads = 512;
constexpr uint32_t kMaxFwps = 16384;
constexpr uint32_t kMaxTemplates = 64;
constexpr uint32_t kMaxNotifications = 64;
constexpr uint32_t kMaxRings = 128;
constexpr uint32_t kMaxCalls = 8;  // per job, as fwp/programs.cpp plans them
constexpr uint32_t kMaxHandOffs = 16;  // AR frames queued at a pipeline stage, per thread
// Freed frames the idle loop zeroes ahead of need (16 MiB); free memory is zeroed at boot.
constexpr uint64_t kZeroReserve = 4096;

// What the kernel keeps per thread besides the core's Thread.
struct KThread {
  x86::UserContext ctx;                      // its registers while it is not on the CPU
  x86::UserContext saved[kMaxCallDepth];     // the caller's, for each call in progress
  uint8_t depth = 0;                         // calls with a saved caller context
  uint64_t user_ticks = 0;                   // user-mode time it has had (TSC ticks; the clock page)
  uint8_t program = 0;
  uint32_t blob_thread = 0;
  uint32_t instance = 0;
  Rng cost_rng{1}, call_rng{1};
  // The current job's plan, drawn once per job (the same draws, in the same order, as the
  // simulator's): own work, then each call's work and the own work after it, in nanoseconds.
  uint64_t planned_job = ~uint64_t{0};
  uint64_t plan_ns[1 + 2 * kMaxCalls];
  uint64_t plan_ptr = 0;       // where kSysComplete asked for the next job's plan
  bool plan_pending = false;   // write it before the thread runs again
  // A sporadic thread's requests (see "requests" below). Its arrivals in the compiled scenario
  // form a list through their `next` links; `next_arrival` is the first one not yet served (it
  // has arrived if it lies before the global `arrival_cursor`). Frames handed on by the previous
  // stage of an AR pipeline wait in `hand_offs`.
  uint32_t canonical = 0;  // canonical thread-instance index
  uint32_t next_arrival = kNoIndex;
  struct HandOff {
    Instant time;
    Duration deadline;
    uint32_t pipeline;
  } hand_offs[kMaxHandOffs];
  uint32_t hand_off_head = 0, hand_off_count = 0;
  // The request behind job `request_job` (a value of jobs_released): its cost (0: the thread's
  // model) and the pipeline it travels through (kNoIndex: none).
  uint64_t request_job = ~uint64_t{0};
  Duration request_cost;
  uint32_t request_pipeline = kNoIndex;
};

struct KFwp {
  x86::AddressSpace space;
  uint32_t tenant = 0;
  uint32_t instance = 0;
  uint64_t stacks[kMaxThreads * abi::kDepthSlots / 64] = {};  // which stack slots are mapped
};

// Kernel objects, sized at build time.
Thread threads[kMaxThreads];
SchedContext contexts[kMaxThreads];
Fwp fwps[kMaxFwps];
FwpTemplate templates[kMaxTemplates];
Notification notifications[kMaxNotifications];
Ring rings[kMaxRings];
CpuState cpus[1];
FixedPriorityScheduler fp_scheduler;
EdfScheduler::Entry edf_entries[kMaxThreads];
EdfScheduler edf_scheduler{Span<EdfScheduler::Entry>(edf_entries, kMaxThreads)};
Scheduler* schedulers[1];
KThread kthreads[kMaxThreads];
KFwp kfwps[kMaxFwps];
TemplateId template_ids[kMaxTemplates];
FwpId fwp_ids[kMaxFwps];
ThreadId thread_ids[kMaxThreads];
RingId ring_ids[kMaxRings];
alignas(4096) uint8_t ring_storage[1u << 20];

PcPlatform platform;
alignas(PcKernel) uint8_t kernel_storage[sizeof(PcKernel)];
PcKernel* kernel = nullptr;
blob::ScenarioBlob scenario;
ProgramImage image;
Instant run_end = Instant::never();
// The clock page (fwp/abi.hpp), one frame mapped read-only into every FWP, and the TSC at the
// last return to user mode of each CPU.
abi::ClockSlot* clock_page = nullptr;
uint64_t clock_frame = 0;
uint64_t exit_tsc[1] = {};
Thread* on_cpu = nullptr;  // the thread whose registers are loaded (in user mode)
Instant core_timer = Instant::never();  // what the core last armed
Instant timer_due = Instant::never();   // when the timer interrupt is armed for (program_timer)
uint32_t arrival_cursor = 0;            // the compiled scenario's first arrival not yet delivered
uint64_t requests_delivered = 0, requests_dropped = 0;
bool smap = false;
uint64_t faults = 0;

// Timer interrupt to dispatch, for bench/boot_bench.py: TSC cycles from the timer handler's entry
// to the return to user mode of the thread the core chose (interrupts that end in a thread).
struct {
  uint64_t entered = 0;  // the pending interrupt's entry; 0: none
  uint64_t count = 0, total = 0, max = 0;
} dispatch_latency;

// --- helpers ----------------------------------------------------------------------------------

// FNV-1a over pieces: the label of a random stream, as the simulator names it.
struct Fnv {
  uint64_t h = 0xcbf2'9ce4'8422'2325ull;
  Fnv& add(const char* s) {
    for (; *s != '\0'; ++s) {
      h ^= static_cast<unsigned char>(*s);
      h *= 0x100'0000'01b3ull;
    }
    return *this;
  }
  Fnv& add_number(uint32_t v) {
    char digits[12];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    char s[13];
    for (int i = 0; i < n; ++i) s[i] = digits[n - 1 - i];
    s[n] = '\0';
    return add(s);
  }
};

// The stream the simulator derives for "<prefix><thread name>[#k]" (simulator/scenario_run.cpp).
Rng thread_stream(const char* prefix, uint32_t blob_thread, uint32_t instance) {
  const blob::ThreadRec t = scenario.thread(blob_thread);
  Fnv f;
  f.add(prefix).add(scenario.string(t.name));
  if (scenario.tenant(t.tenant).instances > 1) f.add("#").add_number(instance);
  return Rng::derive(Rng::derive(scenario.seed(), f.h).next(), 0);
}

// A cost draw. Fixed and uniform costs draw exactly as the simulator does; the others use
// integer approximations, as the kernel has no floating point (see README.md).
Duration sample(const blob::Cost& c, Rng& rng) {
  switch (c.kind) {
    case blob::CostKind::kFixed:
      return c.value;
    case blob::CostKind::kUniform: {
      const int64_t v = rng.between(c.min.ns(), c.max.ns());
      return Duration::nanoseconds(v < 1 ? 1 : v);
    }
    default: {
      // The mean (median for lognormal), clamped to the bounds.
      Duration v = c.value;
      if (v < c.min) v = c.min;
      if (c.max > Duration::zero() && v > c.max) v = c.max;
      return v < Duration::nanoseconds(1) ? Duration::nanoseconds(1) : v;
    }
  }
}

x86::AddressSpace& space_of(const Fwp* f) { return kfwps[f->slot_index].space; }

class UserAccess {
 public:
  UserAccess() {
    if (smap) asm volatile("stac" ::: "memory");
  }
  ~UserAccess() {
    if (smap) asm volatile("clac" ::: "memory");
  }
};

// Maps the stack slot of thread `thread_index` at call depth `depth` in FWP `f` if it is not yet;
// returns its top, or 0 without memory.
static_assert(kMaxCallDepth + 1 <= abi::kDepthSlots, "a stack slot for every call depth");
constexpr uint32_t kStackSlots = kMaxThreads * abi::kDepthSlots;

uint64_t ensure_stack(const Fwp* f, uint32_t thread_index, uint32_t depth) {
  KFwp& k = kfwps[f->slot_index];
  const uint32_t slot = thread_index * abi::kDepthSlots + depth;
  const uint64_t top = abi::kStackRegion + uint64_t{slot + 1} * abi::kStackSlot;
  if ((k.stacks[slot / 64] >> (slot % 64)) & 1) return top;
  for (uint64_t p = 0; p < abi::kStackPages; ++p) {
    const uint64_t pa = x86::frames().alloc();
    if (pa == 0) return 0;
    if (!x86::map_page(k.space, top - (p + 1) * x86::kPageSize, pa,
                       x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned)) {
      x86::frames().free(pa);
      return 0;
    }
  }
  k.stacks[slot / 64] |= uint64_t{1} << (slot % 64);
  return top;
}

x86::UserContext entry_context(uint64_t rip, uint64_t stack_top, uint64_t arg0, uint64_t arg1) {
  x86::UserContext c{};
  c.rip = rip;
  c.rsp = stack_top - 8;  // as if called: (rsp + 8) is 16-byte aligned at entry
  c.rdi = arg0;
  c.rsi = arg1;
  c.rflags = 0x202;  // IF
  c.cs = x86::kUserCode;
  c.ss = x86::kUserData;
  return c;
}

int64_t error_code(Error e) { return -static_cast<int64_t>(e); }

// The FWP's name, "tenant" or "tenant#k".
void fwp_name(const Fwp* f, char* buf, size_t cap) {
  const KFwp& k = kfwps[f->slot_index];
  const blob::TenantRec t = scenario.tenant(k.tenant);
  if (t.instances > 1) {
    ksnprintf(buf, cap, "%s#%u", scenario.string(t.name), k.instance);
  } else {
    ksnprintf(buf, cap, "%s", scenario.string(t.name));
  }
}

// Draws job `job`'s plan for thread `t` (once per job).
void plan_job(KThread& kt, const Thread& t) {
  const uint64_t job = t.job();
  if (kt.planned_job == job) return;
  kt.planned_job = job;
  const blob::ThreadRec rec = scenario.thread(kt.blob_thread);
  // A request's own cost, or a draw from the thread's model (only then: as in the simulator, a
  // request with a cost leaves the thread's stream untouched).
  const bool own = kt.request_job == t.jobs_released && kt.request_cost > Duration::zero();
  const Duration cost = own ? kt.request_cost : sample(rec.cost, kt.cost_rng);
  Duration done = Duration::zero();
  const uint32_t calls = rec.num_calls < kMaxCalls ? rec.num_calls : kMaxCalls;
  for (uint32_t i = 0; i < calls; ++i) {
    const blob::CallRec c = scenario.call(rec.first_call + i);
    const Duration at = c.at < cost ? c.at : cost;
    kt.plan_ns[2 * i] = static_cast<uint64_t>((at - done).ns());
    const Duration callee = sample(c.cost, kt.call_rng);
    kt.plan_ns[2 * i + 1] = static_cast<uint64_t>(callee.ns() < 1 ? 1 : callee.ns());
    done = at;
  }
  kt.plan_ns[2 * calls] = static_cast<uint64_t>((cost - done).ns());
}

// Writes the current job's plan (in spin iterations) to user address `ptr` in the thread's
// domain; false if `ptr` is not a writable plan-sized range there.
bool write_plan(KThread& kt, const Thread& t, uint64_t ptr) {
  struct JobPlan {
    uint64_t calls;
    uint64_t work[1 + 2 * kMaxCalls];
    uint64_t slot[kMaxCalls];
  } plan{};
  if (!x86::user_range_ok(space_of(t.domain), ptr, sizeof plan, true)) return false;
  plan_job(kt, t);
  const blob::ThreadRec rec = scenario.thread(kt.blob_thread);
  plan.calls = rec.num_calls < kMaxCalls ? rec.num_calls : kMaxCalls;
  for (uint64_t i = 0; i < 1 + 2 * plan.calls; ++i) plan.work[i] = kt.plan_ns[i];
  for (uint64_t i = 0; i < plan.calls; ++i) plan.slot[i] = scenario.call_slot(kt.blob_thread, static_cast<uint32_t>(i));
  UserAccess access;
  memcpy(reinterpret_cast<void*>(ptr), &plan, sizeof plan);
  return true;
}

// --- requests ---------------------------------------------------------------------------------------
//
// The compiled scenario's arrivals are delivered in order as their times come (the timer is armed
// for the earlier of the core's timer and the next arrival). A request for a waiting thread with
// nothing queued releases a job at once; otherwise it waits, and the thread takes the earliest
// waiting request when it completes its job (Kernel::complete's next_arrival), as the simulator
// does (simulator/core_sim.cpp). A completed job that carried an AR frame hands the frame on to
// the pipeline's next stage.

Instant arrival_time(uint32_t i) { return Instant::epoch() + scenario.arrival(i).time; }
bool arrived(uint32_t i) { return i != kNoIndex && i < arrival_cursor; }

// Releases a job of the waiting thread `id` for a request.
void release_for(ThreadId id, KThread& kt, Instant at, Duration deadline, Duration cost, uint32_t pipeline) {
  if (!kernel->release(id, at, deadline)) {
    ++requests_dropped;
    return;
  }
  kt.request_job = (*kernel->thread(id))->jobs_released;
  kt.request_cost = cost;
  kt.request_pipeline = pipeline;
}

bool idle_for_requests(const Thread& t, const KThread& kt) {
  return t.state == ThreadState::kWaiting && kt.hand_off_count == 0 && !arrived(kt.next_arrival);
}

void deliver_arrival(uint32_t i) {
  const blob::ArrivalRec a = scenario.arrival(i);
  arrival_cursor = i + 1;
  const ThreadId id = thread_ids[a.target];
  const Result<const Thread*> t = kernel->thread(id);
  if (!t) {
    ++requests_dropped;  // its FWP was terminated
    return;
  }
  ++requests_delivered;
  KThread& kt = kthreads[id.index];
  // Queued unless it is the thread's first unserved request and the thread waits for one.
  if (kt.next_arrival != i || kt.hand_off_count != 0 || (*t)->state != ThreadState::kWaiting) return;
  kt.next_arrival = a.next;
  release_for(id, kt, Instant::epoch() + a.time, a.deadline, a.cost, a.pipeline);
}

// Stage `stage` of pipeline `p` gets the frame its previous stage finished now.
void hand_on(uint32_t p, uint32_t stage) {
  const blob::PipelineRec pl = scenario.pipeline(p);
  const ThreadId id = thread_ids[scenario.stage(p, stage)];
  const Result<const Thread*> t = kernel->thread(id);
  if (!t) {
    ++requests_dropped;
    return;
  }
  KThread& kt = kthreads[id.index];
  const Instant now = platform.now();
  if (idle_for_requests(**t, kt)) {
    ++requests_delivered;
    release_for(id, kt, now, pl.stage_deadline, Duration::zero(), p);
    return;
  }
  if (kt.hand_off_count == kMaxHandOffs) {
    ++requests_dropped;  // the stage is that far behind: the frame is lost, as a full queue drops
    return;
  }
  ++requests_delivered;
  kt.hand_offs[(kt.hand_off_head + kt.hand_off_count++) % kMaxHandOffs] = {now, pl.stage_deadline, p};
}

// The running sporadic thread completes its job: it continues with its earliest waiting request
// (a handed-on frame first on a tie: the simulator delivers it at the completion, before an
// arrival of the same instant), and a job that carried a frame hands it on.
Status complete_job(ThreadId id, const Thread& t, KThread& kt) {
  const uint32_t pipeline = kt.request_job == t.jobs_released ? kt.request_pipeline : kNoIndex;
  if (t.release_kind != ReleaseKind::kSporadic) return kernel->complete(id);
  const bool hand_off = kt.hand_off_count != 0;
  const bool arrival = arrived(kt.next_arrival);
  const bool take_hand_off = hand_off && (!arrival || kt.hand_offs[kt.hand_off_head].time <= arrival_time(kt.next_arrival));
  Instant next = Instant::never();
  Duration deadline, cost;
  uint32_t next_pipeline = kNoIndex;
  if (take_hand_off) {
    const KThread::HandOff& h = kt.hand_offs[kt.hand_off_head];
    next = h.time;
    deadline = h.deadline;
    next_pipeline = h.pipeline;
  } else if (arrival) {
    const blob::ArrivalRec a = scenario.arrival(kt.next_arrival);
    next = Instant::epoch() + a.time;
    deadline = a.deadline;
    cost = a.cost;
    next_pipeline = a.pipeline;
  }
  const Status s = kernel->complete(id, next, deadline);
  if (!s) return s;
  if (take_hand_off) {
    kt.hand_off_head = (kt.hand_off_head + 1) % kMaxHandOffs;
    --kt.hand_off_count;
  } else if (arrival) {
    kt.next_arrival = scenario.arrival(kt.next_arrival).next;
  }
  if (!next.is_never()) {
    kt.request_job = t.jobs_released;
    kt.request_cost = cost;
    kt.request_pipeline = next_pipeline;
  }
  if (pipeline != kNoIndex) {
    const blob::PipelineRec pl = scenario.pipeline(pipeline);
    for (uint32_t stage = 0; stage + 1 < pl.stages; ++stage) {
      if (scenario.stage(pipeline, stage) == kt.canonical) {
        hand_on(pipeline, stage + 1);
        break;
      }
    }
  }
  return Status::ok();
}

void program_timer() {
  Instant when = core_timer;
  if (arrival_cursor < scenario.count(blob::kArrivals) && arrival_time(arrival_cursor) < when) {
    when = arrival_time(arrival_cursor);
  }
  // Never past the run's end; once there, no more interrupts (resume() ends the run).
  if (when >= run_end) when = platform.now() < run_end ? run_end : Instant::never();
  timer_due = when;
  pc::timer_arm(when);
}

// The timer fired: the core's timer, arrivals, or both are due. They are handled in time order,
// the core's timer first on a tie (the simulator's order of events); none at or after the run's
// end (the simulator's horizon is exclusive too).
void on_timer() {
  for (;;) {
    const Instant now = platform.now();
    const Instant arrival =
        arrival_cursor < scenario.count(blob::kArrivals) ? arrival_time(arrival_cursor) : Instant::never();
    const Instant first = core_timer < arrival ? core_timer : arrival;
    if (first > now || first >= run_end) break;
    if (core_timer <= arrival) {
      core_timer = Instant::never();
      kernel->timer_expired(0);  // arms the core's next timer through arm_timer
    } else {
      deliver_arrival(arrival_cursor);
    }
  }
  program_timer();
}

[[noreturn]] void finish_run();

// Loads the thread the core runs on this CPU, or idles until there is one. Never returns.
[[noreturn]] void resume() {
  for (;;) {
    if (platform.now() >= run_end) finish_run();
    Thread* t = const_cast<Thread*>(kernel->current(0));
    if (t == nullptr) {
      on_cpu = nullptr;
      x86::frames().replenish(kZeroReserve);  // one frame (about 512 stores) per idle entry
      // Kept console output, as much as a UART sends before the next timer (87 us a character
      // at 115200 baud; 100 us allowed).
      if (const Instant now = platform.now(); timer_due > now) {
        const int64_t room = (timer_due - now).ns() / 100'000;
        console_drain(room > 4096 ? 4096 : static_cast<size_t>(room));
      }
      x86::activate_kernel();
      x86::sti_hlt();  // the timer interrupt returns here
      x86::cli();
      continue;
    }
    KThread& kt = kthreads[t->slot_index];
    // Its address space first: the plan below is written through it.
    x86::activate(space_of(t->domain));
    // A call ended because its callee was terminated: back in the caller, with an error.
    if (t->call_depth < kt.depth) {
      kt.depth = t->call_depth;
      kt.ctx = kt.saved[kt.depth];
      kt.ctx.rax = static_cast<uint64_t>(error_code(Error::kStale));
    }
    if (kt.plan_pending) {
      kt.plan_pending = false;
      kt.ctx.rax = write_plan(kt, *t, kt.plan_ptr) ? 0 : static_cast<uint64_t>(error_code(Error::kInvalidArgument));
    }
    on_cpu = t;
    if (dispatch_latency.entered != 0) {
      const uint64_t d = x86::rdtsc() - dispatch_latency.entered;
      dispatch_latency.entered = 0;
      ++dispatch_latency.count;
      dispatch_latency.total += d;
      if (d > dispatch_latency.max) dispatch_latency.max = d;
    }
    // The clock page's slot for this CPU: the thread's user time so far, from this instant on.
    abi::ClockSlot& slot = clock_page[0];
    ++slot.seq;
    slot.user_ticks = kt.user_ticks;
    slot.ns_mult = pc::tsc_ns_mult();
    exit_tsc[0] = x86::rdtsc();
    slot.exit_tsc = exit_tsc[0];
    x86::return_to_user(&kt.ctx);
  }
}

[[noreturn]] void finish_run() {
  kernel->sync();
  trace_flush();
  console_flush();
  if (dispatch_latency.count > 0) {
    kprintf("timer to user mode: %lu dispatches, mean %lu, max %lu TSC cycles\n", dispatch_latency.count,
            dispatch_latency.total / dispatch_latency.count, dispatch_latency.max);
  }
  const x86::PcidStats& pcid = x86::pcid_stats();
  if (x86::pcid_enabled()) {
    kprintf("address spaces: PCID on; %lu CR3 loads, %lu of them flushing, %lu PCIDs assigned\n", pcid.loads,
            pcid.flushes, pcid.assignments);
  } else {
    kprintf("address spaces: PCID off; %lu CR3 loads, each flushing\n", pcid.loads);
  }
  if (scenario.count(blob::kArrivals) > 0) {
    kprintf("requests: %u arrivals in the scenario, %lu delivered (with AR hand-offs), %lu dropped\n",
            scenario.count(blob::kArrivals), requests_delivered, requests_dropped);
  }
  kprintf("edgeos: run complete at %ld ns: %lu trace records, %lu FWP(s) killed for faults, %lu free frames\n",
          static_cast<long>(platform.now().ns()), trace_records(), faults, x86::frames().free_count());
  pc::qemu_exit(pc::kExitSuccess);
}

void save_context(const x86::InterruptFrame& f) {
  if (on_cpu == nullptr) return;
  KThread& kt = kthreads[on_cpu->slot_index];
  kt.user_ticks += x86::rdtsc() - exit_tsc[0];  // its user-mode time since the kernel let it run
  memcpy(&kt.ctx, &f, 15 * 8);  // the general registers, in the same order
  kt.ctx.rip = f.rip;
  kt.ctx.cs = f.cs;
  kt.ctx.rflags = f.rflags;
  kt.ctx.rsp = f.rsp;
  kt.ctx.ss = f.ss;
}

// --- system calls -------------------------------------------------------------------------------

int64_t sys_puts(Thread& t, uint64_t ptr, uint64_t len) {
  if (len > 200 || !x86::user_range_ok(space_of(t.domain), ptr, len, false)) return error_code(Error::kInvalidArgument);
  char text[201];
  {
    UserAccess access;
    memcpy(text, reinterpret_cast<const void*>(ptr), len);
  }
  text[len] = '\0';
  // One line, printable, after the FWP's name: what an FWP prints can never pass for the
  // kernel's own lines (the harness ends a Bochs run on one of them).
  for (uint64_t i = 0; i < len; ++i) {
    if (text[i] < 0x20 || text[i] > 0x7e) text[i] = '?';
  }
  char name[64];
  fwp_name(t.domain, name, sizeof name);
  kprintf("[%s] %s\n", name, text);
  return 0;
}

// Handles a system call of the running thread; its result goes to the saved context's rax.
void syscall(Thread& t, KThread& kt) {
  x86::UserContext& c = kt.ctx;
  const ThreadId id = kernel->thread_id(t);
  const uint64_t a0 = c.rdi, a1 = c.rsi, a2 = c.rdx;
  int64_t r = 0;
  auto status = [](Status s) { return s ? int64_t{0} : error_code(s.error()); };
  switch (c.rax) {
    case abi::kSysJob:
      r = write_plan(kt, t, a0) ? 0 : error_code(Error::kInvalidArgument);
      break;
    case abi::kSysComplete: {
      if (!x86::user_range_ok(space_of(t.domain), a0, 8 * (2 + 3 * kMaxCalls), true)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      const Status s = complete_job(id, t, kt);
      if (!s) {
        r = status(s);
        break;
      }
      kt.plan_ptr = a0;
      kt.plan_pending = true;  // rax is set when the next job's plan is written
      return;
    }
    case abi::kSysCall: {
      // The caller's registers are saved only once the core accepted the call (at the maximum
      // depth it refuses, and there is no saved[] slot for it).
      const uint8_t depth = t.call_depth;
      const Status s = kernel->call(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0));
      if (!s) {
        r = status(s);
        break;
      }
      const uint64_t stack = ensure_stack(t.domain, t.slot_index, depth + 1u);
      if (stack == 0) {
        (void)kernel->reply(id);
        r = error_code(Error::kOutOfCapacity);
        break;
      }
      kt.saved[depth] = c;
      kt.depth = depth + 1;
      c = entry_context(image.invoke_entry, stack, a1, 0);
      return;
    }
    case abi::kSysReply: {
      if (t.call_depth == 0 || kt.depth == 0) {
        r = error_code(Error::kBadState);
        break;
      }
      const Status s = kernel->reply(id);
      if (!s) {
        r = status(s);
        break;
      }
      kt.depth = t.call_depth;
      c = kt.saved[kt.depth];
      c.rax = a0;
      return;
    }
    case abi::kSysNotify:
      r = status(kernel->notify(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0)));
      break;
    case abi::kSysWait: {
      const Result<bool> w = kernel->wait(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0));
      r = w ? (*w ? 1 : 0) : error_code(w.error());
      break;
    }
    case abi::kSysRingSend: {
      if (!x86::user_range_ok(space_of(t.domain), a1, a2, false)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      UserAccess access;
      r = status(kernel->ring_send(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0),
                                   reinterpret_cast<const void*>(a1), a2));
      break;
    }
    case abi::kSysRingReceive: {
      if (!x86::user_range_ok(space_of(t.domain), a1, a2, true)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      UserAccess access;
      const Result<size_t> n = kernel->ring_receive(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0),
                                                    reinterpret_cast<void*>(a1), a2);
      r = n ? static_cast<int64_t>(*n) : error_code(n.error());
      break;
    }
    case abi::kSysYield:
      r = status(kernel->yield(id));
      break;
    case abi::kSysExit: {
      const FwpId f = kernel->fwp_id(*t.domain);
      char name[64];
      fwp_name(t.domain, name, sizeof name);
      kprintf("[%s] exits\n", name);
      (void)kernel->fwp_terminate(f);
      return;  // the thread may be gone; resume() picks what runs next
    }
    case abi::kSysFwpSpawn: {
      // An FWP may start more of its own kind (argument 0), within its template's quota.
      if (a0 != 0) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      const Result<FwpId> f = kernel->fwp_spawn(kernel->template_id(*t.domain->tmpl));
      if (f) {
        kfwps[f->index].tenant = kfwps[t.domain->slot_index].tenant;
        kfwps[f->index].instance = kfwps[t.domain->slot_index].instance;
      }
      r = f ? static_cast<int64_t>(f->index) : error_code(f.error());
      break;
    }
    case abi::kSysMarker: {
      TraceRecord m;
      m.time_ns = platform.now().ns();
      m.cpu = 0;
      m.event = TraceEvent::kMarker;
      m.fwp = t.domain->slot_index;
      m.thread = t.slot_index;
      m.job = t.job();
      m.value = static_cast<int64_t>(a0);
      platform.trace(m);
      break;
    }
    case abi::kSysPuts:
      r = sys_puts(t, a0, a1);
      break;
    default:
      r = error_code(Error::kInvalidArgument);
      break;
  }
  c.rax = static_cast<uint64_t>(r);
}

// An exception in user mode: the FWP the thread executes in is the offender and is terminated.
void user_fault(Thread& t, const x86::InterruptFrame& f) {
  ++faults;
  char name[64];
  fwp_name(t.domain, name, sizeof name);
  kprintf("[%s] killed: %s (error %lx) at rip %lx", name, x86::exception_name(f.vector), f.error, f.rip);
  if (f.vector == 14) kprintf(", address %lx", x86::read_cr2());
  kprintf(", thread %u\n", t.slot_index);
  (void)kernel->fwp_terminate(kernel->fwp_id(*t.domain));
}

[[noreturn]] void kernel_fault(const x86::InterruptFrame& f) {
  console_flush();
  kprintf("\nKERNEL FAULT: %s (error %lx) at rip %lx, rsp %lx", x86::exception_name(f.vector), f.error, f.rip, f.rsp);
  if (f.vector == 14) kprintf(", address %lx", x86::read_cr2());
  kprintf("\n  rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx rbp %lx\n", f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp);
  trace_flush();
  pc::qemu_exit(pc::kExitFailure);
}

}  // namespace

// --- the platform ---------------------------------------------------------------------------------

Instant PcPlatform::now() const { return pc::clock_now(); }

void PcPlatform::arm_timer(CpuId, Instant when) {
  core_timer = when;
  program_timer();
}

void PcPlatform::switch_to(CpuId, Thread*) {
  // Nothing to do yet: resume() loads the core's current thread when the kernel exits.
}

void PcPlatform::trace(const TraceRecord& r) { trace_record(r); }

Status PcPlatform::fwp_instantiate(Fwp& fwp, const FwpTemplate&) {
  KFwp& k = kfwps[fwp.slot_index];
  k = KFwp{};
  if (Status s = x86::create_space(&k.space); !s) return s;
  if (Status s = map_image(image, k.space); !s) {
    x86::destroy_space(k.space);
    return s;
  }
  if (Status s = x86::map_page(k.space, abi::kClockPage, clock_frame, x86::kPteNoExecute); !s) {  // read-only, shared
    x86::destroy_space(k.space);
    return s;
  }
  return Status::ok();
}

Status PcPlatform::fwp_reset(Fwp& fwp, const FwpTemplate&) {
  KFwp& k = kfwps[fwp.slot_index];
  reset_image(image, k.space);
  for (uint32_t i = 0; i < kStackSlots; ++i) {
    if ((k.stacks[i / 64] >> (i % 64)) & 1) {
      x86::unmap_range(k.space, abi::kStackRegion + uint64_t{i} * abi::kStackSlot, abi::kStackSlot);
    }
  }
  for (uint64_t& w : k.stacks) w = 0;
  return Status::ok();
}

void PcPlatform::fwp_release(Fwp& fwp) { x86::destroy_space(kfwps[fwp.slot_index].space); }

// --- entries from the assembly --------------------------------------------------------------------

extern "C" void interrupt_dispatch(x86::InterruptFrame* f) {
  if (f->vector == x86::kVectorTimer) dispatch_latency.entered = x86::rdtsc();
  if (!f->from_user()) {
    if (f->vector == x86::kVectorTimer) {
      pc::lapic_eoi();
      on_timer();  // the idle loop ends the run once it is over
      return;  // back to the idle loop, which looks at what runs now
    }
    if (f->vector == x86::kVectorSpurious) return;
    kernel_fault(*f);
  }
  save_context(*f);
  Thread* t = on_cpu;
  on_cpu = nullptr;
  if (f->vector == x86::kVectorTimer) {
    pc::lapic_eoi();
    on_timer();
  } else if (f->vector < 32) {
    if (t != nullptr) user_fault(*t, *f);
  }
  resume();
}

extern "C" void syscall_dispatch(x86::InterruptFrame* f) {
  save_context(*f);
  Thread* t = on_cpu;
  on_cpu = nullptr;
  if (t != nullptr) syscall(*t, kthreads[t->slot_index]);
  resume();
}

// --- start-up ------------------------------------------------------------------------------------

[[noreturn]] void start(const pc::BootInfo& boot, const x86::Features& features) {
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
  if (scenario.total_cpus() != 1) {
    kprintf("edgeos: the scenario has %u CPUs; this kernel runs scenarios on one CPU\n", scenario.total_cpus());
    pc::qemu_exit(pc::kExitFailure);
  }
  if (scenario.total_threads() > kMaxThreads || scenario.total_fwps() + scenario.pooled_fwps() > kMaxFwps ||
      scenario.count(blob::kTemplates) > kMaxTemplates || scenario.total_rings() > kMaxRings ||
      scenario.ring_storage_bytes() > sizeof ring_storage) {
    kprintf("edgeos: the scenario exceeds the kernel's capacity (%u threads, %u FWPs, %u templates, %u rings, %u KiB of rings)\n",
            kMaxThreads, kMaxFwps, kMaxTemplates, kMaxRings, static_cast<unsigned>(sizeof ring_storage / 1024));
    pc::qemu_exit(pc::kExitFailure);
  }

  x86::frames().zero_fresh();  // page tables and stacks then come zeroed, at no cost to creation
  if (!load_program_image(fwp_image_start, static_cast<uint64_t>(fwp_image_end - fwp_image_start), &image)) {
    pc::qemu_exit(pc::kExitFailure);
  }
  smap = features.smap;
  uint64_t cr4 = x86::read_cr4();
  if (features.smep) cr4 |= 1u << 20;
  if (features.smap) cr4 |= 1u << 21;
  x86::write_cr4(cr4);
  if (features.pcid) x86::enable_pcid();

  const pc::TimerInfo timer = pc::timer_init(x86::kVectorTimer, x86::kVectorSpurious, features.tsc_deadline);
  kprintf("time: TSC %lu Hz, %s timer\n", timer.tsc_hz, timer.tsc_deadline ? "TSC-deadline" : "one-shot local APIC");
  // The clock page (each CPU finds its slot with rdtscp: init_cpu put its index in TSC_AUX).
  clock_frame = x86::frames().alloc();
  if (clock_frame == 0) {
    kprintf("edgeos: no memory for the clock page\n");
    pc::qemu_exit(pc::kExitFailure);
  }
  clock_page = reinterpret_cast<abi::ClockSlot*>(clock_frame);

  schedulers[0] = scenario.server(0).policy == 1 ? static_cast<Scheduler*>(&edf_scheduler) : &fp_scheduler;
  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus, 1);
  storage.schedulers = Span<Scheduler* const>(schedulers, 1);
  storage.threads = Span<Thread>(threads, kMaxThreads);
  storage.sched_contexts = Span<SchedContext>(contexts, kMaxThreads);
  storage.fwps = Span<Fwp>(fwps, kMaxFwps);
  storage.templates = Span<FwpTemplate>(templates, kMaxTemplates);
  storage.notifications = Span<Notification>(notifications, kMaxNotifications);
  storage.rings = Span<Ring>(rings, kMaxRings);
  KernelOptions options;
  options.check_invariants = false;
  kernel = new (kernel_storage) PcKernel(platform, storage, options);

  trace_begin(timer.tsc_hz);
  run_end = Instant::epoch() + scenario.duration();
  const blob::Objects out{Span<TemplateId>(template_ids, kMaxTemplates), Span<FwpId>(fwp_ids, kMaxFwps),
                          Span<ThreadId>(thread_ids, kMaxThreads), Span<RingId>(ring_ids, kMaxRings),
                          Span<uint8_t>(ring_storage, sizeof ring_storage)};
  uint32_t canonical = 0;
  const blob::InstantiateError ie = blob::instantiate(*kernel, scenario, out, [&canonical](uint32_t t, uint32_t instance, ThreadId id) {
    KThread& kt = kthreads[id.index];
    kt = KThread{};
    const blob::ThreadRec rec = scenario.thread(t);
    kt.blob_thread = t;
    kt.instance = instance;
    kt.canonical = canonical++;
    kt.program = rec.program;
    kt.cost_rng = thread_stream("cost/", t, instance);
    kt.call_rng = thread_stream("call/", t, instance);
    const Thread* th = *kernel->thread(id);
    const uint64_t stack = ensure_stack(th->fwp, id.index, 0);
    kt.ctx = entry_context(image.start_entry, stack, rec.program, 0);
  });
  if (ie.error != Error::kOk) {
    kprintf("edgeos: instantiating the scenario failed: %s (section %u, record %u)\n", error_name(ie.error), ie.section, ie.index);
    pc::qemu_exit(pc::kExitFailure);
  }
  // FWP names for messages: tenant by tenant, instance by instance (the canonical order).
  uint32_t k = 0;
  for (uint32_t t = 0; t < scenario.count(blob::kTenants); ++t) {
    for (uint32_t i = 0; i < scenario.tenant(t).instances; ++i, ++k) {
      kfwps[fwp_ids[k].index].tenant = t;
      kfwps[fwp_ids[k].index].instance = i;
    }
  }
  kprintf("scenario: %u FWPs, %u threads on 1 CPU (%s), %lu ms; %lu frames free\n", scenario.total_fwps(),
          scenario.total_threads(), scenario.server(0).policy == 1 ? "EDF" : "fixed priority",
          static_cast<unsigned long>(scenario.duration().ns() / 1'000'000), x86::frames().free_count());
  // Each sporadic thread's first request (its list continues through the `next` links).
  for (uint32_t i = scenario.count(blob::kArrivals); i-- > 0;) kthreads[thread_ids[scenario.arrival(i).target].index].next_arrival = i;
  // Time zero: the run starts now that everything exists.
  pc::clock_restart();
  trace_zero_times();
  kernel->restart_accounting();
  console_defer();  // from now on the console takes only idle time
  core_timer = Instant::epoch();  // the core's releases at time 0, then arrivals at time 0
  on_timer();
  resume();
}

}  // namespace edgeos::kernel

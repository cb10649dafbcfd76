// The kernel's state shared by its files (kernel.cpp, start.cpp, net_path.cpp, checkpoint.cpp...): the object
// capacities, what it keeps per thread and per FWP besides the core's objects, the network
// bindings and the templates' checkpoints, and the helpers every system call uses. Internal to
// kernel_backend/kernel; nothing outside it includes this.
#pragma once

#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../fwp/abi.hpp"
#include "image.hpp"
#include "platform.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

namespace edgeos::kernel {

// The kernel's object capacities: sized from the compiled scenario at boot (start() in start.cpp),
// their pools taken from frames once and never freed. Threads, templates and rings are exactly the
// scenario's (FWPs do not make threads); FWPs leave room for spawns; notifications and rings add
// the network path's.
struct Capacity {
  uint32_t threads = 0;
  uint32_t fwps = 0;
  uint32_t templates = 0;
  uint32_t notifications = 0;
  uint32_t rings = 0;
  uint32_t net_bindings = 0;
};
extern Capacity capacity;
// FWPs beyond the scenario's, for spawns (each template's max_instances bounds its own).
inline constexpr uint32_t kSpareFwps = 16384;
inline constexpr uint32_t kMaxCalls = 8;  // per job, as fwp/programs.cpp plans them
inline constexpr uint32_t kMaxHandOffs = 16;  // AR frames queued at a pipeline stage, per thread
// Freed frames the idle loop zeroes ahead of need (16 MiB); free memory is zeroed at boot.
inline constexpr uint64_t kZeroReserve = 4096;

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
  // The core's last decision to run it (switch_to): when (TSC; 0: seen by resume() already) and on
  // which CPU; and the CPU it last ran on (before it ran: the one the core placed it on). For the
  // migration and remote-dispatch latencies.
  uint64_t decided_tsc = 0;
  uint16_t decided_on = 0;
  uint16_t ran_on = 0;
  // A per-client front's flow call in progress (kSysFlowCall): the call depth inside the flow FWP
  // (0: none), the flow, and where its replies go in the front.
  uint8_t flow_depth = 0;
  uint32_t flow = 0;
  uint32_t flow_front = 0;  // the front's FWP slot
  uint64_t flow_buffer = 0, flow_capacity = 0;
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
  // The stack slots mapped in it (ensure_stack), in a short list; one past its end sets
  // `stacks_spilled`, and a reset then finds the rest in the page tables.
  static constexpr uint32_t kStackList = 6;
  uint32_t stacks[kStackList] = {};
  uint8_t num_stacks = 0;
  bool stacks_spilled = false;
  uint64_t heap_pages = 0;    // its heap at abi::kHeapWindow (kSysMemMap), touched or not
  uint64_t heap_touched = 0;  // of which mapped (the others are mapped on first touch)
  bool heap_from_checkpoint = false;  // its untouched pages are its template's checkpoint's
  int32_t net = -1;         // its network binding (net_bindings), or -1; the driver: kNetDriverFwp
};

// The network path (fwp/abi.hpp, NetInfo): per bound FWP (a tenant's instance with UDP ports),
// the rings between it and its server's driver FWP, and the notification that releases its jobs.
// The tenant holds capabilities to its rings; the driver reaches them through the port table.
inline constexpr int32_t kNetDriverFwp = -2;
struct NetBindingK {
  uint32_t tenant_fwp = 0;  // FWP slot indices
  uint32_t driver_fwp = 0;
  RingId to_tenant{}, from_tenant{};
  NotificationId notify{};
  abi::NetBinding tenant_side{};
  bool notify_due = false;    // delivered to since the driver's last kSysNetFlush
  bool reply_queued = false;  // in the queue of bindings with replies waiting
  uint32_t front = 0;         // a per-client front's index in flows.cpp's fronts
};

// Each template's checkpoint (abi.hpp, kSysReady): copies of the writable pages of the image (in
// segment order) and of the heap of the FWP that called it ready, in frames the kernel keeps.
inline constexpr uint32_t kMaxDataPages = 16;
struct Checkpoint {
  bool taken = false;
  uint32_t data_pages = 0;
  uint64_t data[kMaxDataPages] = {};
  uint64_t heap_pages = 0;
  uint64_t heap[abi::kCheckpointHeapPages] = {};
};

// --- the objects (defined in kernel.cpp, start.cpp, net_path.cpp and checkpoint.cpp) -----------

extern KThread* kthreads;  // capacity.threads of each
extern KFwp* kfwps;        // capacity.fwps
extern FwpId* fwp_ids;     // the scenario's FWPs, canonical order
extern ThreadId* thread_ids;  // the scenario's threads, canonical order
extern PcPlatform platform;
extern PcKernel* kernel;
extern blob::ScenarioBlob scenario;
extern ProgramImage image;
extern bool smap;  // the CPU has SMAP: user memory is reached only inside a UserAccess

extern NetBindingK* net_bindings;  // capacity.net_bindings
extern uint32_t num_net_bindings;
extern Checkpoint* checkpoints;  // capacity.templates
extern uint32_t* heap_limits;    // capacity.templates: each template's FWPs' heap ceiling in pages (its memory budget)
extern uint64_t checkpoints_taken, checkpoint_copies;

// --- the start and the run (start.cpp, kernel.cpp) ---------------------------------------------

// Set by start() before time zero, read by the run.
extern bool shared_domains;  // some domain has several CPUs: threads migrate between them
extern Instant run_end;
extern uint64_t run_end_gate;  // a TSC value a little before run_end: now() is read only past it
// The clock pages (fwp/abi.hpp): a slot per thread, in consecutive frames mapped read-only into
// every FWP: the first frame and how many.
extern abi::ClockSlot* clock_slots;
extern uint64_t clock_frame, clock_pages;
extern bool stream_trace;  // "stream" on the command line: the trace goes out in idle time
extern uint64_t boot_cr4;  // SMEP, SMAP, PCID: what the other CPUs copy
// What each tenant's live FWPs hold, as console lines "memory: tenant NAME: ..." (the run's end).
void report_memory();
// This CPU's timer fired: the core's timer and the arrivals due, in time order.
void on_timer();
// Leaves the kernel through the thread the core runs on this CPU, or idles (kernel.cpp).
[[noreturn]] void resume();

// --- helpers (kernel.cpp) ------------------------------------------------------------------------

// `n` objects of T, default-constructed in frames taken for good at boot; stops the boot with a
// message naming `what` when memory is short.
void* boot_frames(size_t bytes, const char* what);
template <class T>
T* boot_array(uint32_t n, const char* what) {
  T* a = static_cast<T*>(boot_frames(sizeof(T) * (n == 0 ? 1 : n), what));
  for (uint32_t i = 0; i < n; ++i) new (&a[i]) T();
  return a;
}

inline int64_t error_code(Error e) { return -static_cast<int64_t>(e); }

// Opens the kernel's access to user memory for its scope (stac/clac where the CPU has SMAP).
class UserAccess {
 public:
  UserAccess() {
    if (smap) asm volatile("stac" ::: "memory");
  }
  ~UserAccess() {
    if (smap) asm volatile("clac" ::: "memory");
  }
  UserAccess(const UserAccess&) = delete;
  UserAccess& operator=(const UserAccess&) = delete;
};

x86::AddressSpace& space_of(const Fwp* f);
// Traces a record a thread's system call makes: now, the thread's CPU, thread and job; `fwp` is
// the FWP the record is about (the caller's own, or the tenant a packet was for).
void trace_from(const Thread& t, TraceEvent event, uint32_t fwp, int64_t value);
// The FWP's name, "tenant" or "tenant#k".
void fwp_name(const Fwp* f, char* buf, size_t cap);

// --- the network path (net_path.cpp) -------------------------------------------------------------

int64_t sys_net_drop(const Thread& t, uint64_t cause);
int64_t sys_net_info(const Thread& t, uint64_t ptr);
int64_t sys_net_deliver(ThreadId id, const Thread& t, uint64_t ptr, uint64_t length);
int64_t sys_net_flush(ThreadId id, const Thread& t);
int64_t sys_net_collect(ThreadId id, const Thread& t, uint64_t ptr, uint64_t capacity, uint64_t* more);
// A tenant sent on a ring: if it is its ring towards the driver, its binding joins the reply queue.
void note_tenant_send(const Thread& t, uint64_t slot);
uint32_t net_bindings_needed();  // bound FWPs in the scenario (size_pools)
bool bind_ports();

// --- templates' checkpoints and the heap (checkpoint.cpp) ---------------------------------------

const Checkpoint* checkpoint_of(uint32_t tmpl);  // null until the template's is taken
Status apply_checkpoint(uint32_t tmpl, KFwp& k);
int64_t sys_ready(const Thread& t);
int64_t sys_mem_map(const Thread& t, uint64_t pages);
int64_t sys_mem_left(const Thread& t);

// Requests and jobs (requests.cpp). Each CPU delivers the arrivals of its own threads (a domain's
// leader those of the domain's): the first of the compiled scenario's arrivals for one of them not
// yet delivered (the count when there is none), and each thread's CPU by its canonical index (the
// arrivals' target).
extern uint32_t arrival_cursor[x86::kMaxCpus];
extern uint16_t* canonical_cpu;  // capacity.threads
extern uint64_t requests_delivered, requests_dropped;
// "plans" on the command line (edgeos boot --plans): each job's plan is printed when it is drawn,
// "plan: <thread> <job> <own ns> [<callee ns> <own ns>]...", for comparison with the simulator.
extern bool plan_trace;
Instant arrival_time(uint32_t i);
bool arrival_pending(uint32_t cpu);
// Moves CPU `cpu`'s cursor to its next arrival, from `from` on.
void seek_arrival(uint32_t cpu, uint32_t from);
// Arrival `i` (CPU `arrival_cpu(i)`'s next) is due: its thread's job, now or queued.
void deliver_arrival(uint32_t i);
// The random stream the simulator derives for "<prefix><thread name>[#k]".
Rng thread_stream(const char* prefix, uint32_t blob_thread, uint32_t instance);

// Shared by the run (kernel.cpp) and the system calls (syscalls.cpp).
// A stack for thread `thread_index` at call depth `depth` in FWP `f` (mapped on first use): its top, or 0.
uint64_t ensure_stack(const Fwp* f, uint32_t thread_index, uint32_t depth);
// The registers a thread starts with at `rip` in user mode, with two arguments.
x86::UserContext entry_context(uint64_t rip, uint64_t stack_top, uint64_t arg0, uint64_t arg1);
// The current job's plan written to user address `ptr` of the thread's domain (false: a bad pointer).
bool write_plan(KThread& kt, const Thread& t, uint64_t ptr);
// The running thread's job completes (with its next request's arrival, if one waits).
Status complete_job(ThreadId id, const Thread& t, KThread& kt);
// Handles a system call of the running thread (syscalls.cpp); its result goes to its saved rax.
void syscall(Thread& t, KThread& kt);

// Per-client FWPs (flows.cpp).
void flows_boot();
int64_t flow_prepare(const Thread& t, uint64_t buf, uint64_t len, uint64_t cap, uint32_t* flow);
int64_t flow_finish(const Thread& t, uint32_t flow, uint64_t value, uint32_t front_fwp, uint64_t buf, uint64_t cap);
void flow_fwp_reset(KFwp& k);
void report_flows();
// A page fault at `va` in FWP `f`: true if it was a first touch of its heap, now mapped (the
// thread retries the instruction); false if the FWP is at fault (or memory ran out).
bool heap_fault(const Fwp* f, uint64_t va);
// Frees an FWP's heap (its touched pages, and the frames promised for the others).
void release_heap(KFwp& k);
// Whether user code of `f` could access [va, va + n) (x86::user_range_ok), after mapping the heap
// pages of that range not touched yet (at most kMemMapMaxPages): the check behind every user
// pointer a system call takes.
bool user_ok(const Fwp* f, uint64_t va, uint64_t n, bool write);

}  // namespace edgeos::kernel

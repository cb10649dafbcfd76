// The kernel's state shared by its files (kernel.cpp, net_path.cpp, checkpoint.cpp): the object
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

inline constexpr uint32_t kMaxThreads = 512;
static_assert(abi::kClockSlots >= kMaxThreads, "a clock slot for every thread");
inline constexpr uint32_t kMaxFwps = 16384;
inline constexpr uint32_t kMaxTemplates = 64;
inline constexpr uint32_t kMaxNotifications = 64;
inline constexpr uint32_t kMaxRings = 128;
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
  uint64_t heap_pages = 0;  // mapped at abi::kHeapWindow (kSysMemMap)
  int32_t net = -1;         // its network binding (net_bindings), or -1; the driver: kNetDriverFwp
};

// The network path (fwp/abi.hpp, NetInfo): per tenant with bound UDP ports, the rings between it
// and its server's driver FWP, and the notification that releases its jobs. Capabilities cap this
// at five bound tenants per driver (three slots each of the driver's sixteen).
inline constexpr uint32_t kMaxNetBindings = 5;
inline constexpr int32_t kNetDriverFwp = -2;
struct NetBindingK {
  uint32_t tenant_fwp = 0;
  uint32_t driver_fwp = 0;
  abi::NetBinding driver_side{}, tenant_side{};
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

// --- the objects (defined in kernel.cpp, net_path.cpp and checkpoint.cpp) ---------------------

extern KThread kthreads[kMaxThreads];
extern KFwp kfwps[kMaxFwps];
extern FwpId fwp_ids[kMaxFwps];
extern ThreadId thread_ids[kMaxThreads];
extern PcPlatform platform;
extern PcKernel* kernel;
extern blob::ScenarioBlob scenario;
extern ProgramImage image;
extern bool smap;  // the CPU has SMAP: user memory is reached only inside a UserAccess

extern NetBindingK net_bindings[kMaxNetBindings];
extern uint32_t num_net_bindings;
extern Checkpoint checkpoints[kMaxTemplates];
extern uint64_t checkpoints_taken, checkpoint_copies;

// --- helpers (kernel.cpp) ------------------------------------------------------------------------

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

enum class PacketFate : uint8_t { kIn, kOut, kRingFull };
void trace_packet(const Thread& t, uint64_t slot, PacketFate fate, uint64_t length);
int64_t sys_net_drop(const Thread& t, uint64_t cause);
int64_t sys_net_info(const Thread& t, uint64_t ptr);
bool bind_ports();

// --- templates' checkpoints and the heap (checkpoint.cpp) ---------------------------------------

Status apply_checkpoint(uint32_t tmpl, KFwp& k);
int64_t sys_ready(const Thread& t);
int64_t sys_mem_map(const Thread& t, uint64_t pages);

}  // namespace edgeos::kernel

// Scheduling contexts: the CPU-time side of a thread, an object of its own.
//
// A scheduling context carries what a policy needs to order its thread (a fixed priority, or a
// relative deadline for EDF) and what budget enforcement needs (budget, period, server kind).
// As in seL4 MCS, NOVA (`Sc`) and Composite (TCaps), time is charged to the scheduling context,
// not to the thread: under synchronous invocation a thread migrates into a callee but keeps its
// scheduling context, so the caller pays.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/object_table.hpp"
#include "edgeos/core/result.hpp"
#include "edgeos/core/rbtree.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos {

struct Thread;
struct SchedContext;

// Timer-queue entry. Threads and scheduling contexts each own one (see thread.hpp for what a
// thread's entry means; a context's entry is its next replenishment or period boundary).
// Entries at equal instants expire contexts first (budget comes back before a job that needs it
// is released), then in owner-index order: deterministic on every backend.
struct TimerEntry : RbNode {
  Instant when = Instant::never();
  uint8_t kind = 0;  // kTimerContext or kTimerThread
  uint32_t owner_index = 0;
  Thread* thread = nullptr;
  SchedContext* sc = nullptr;
};

inline constexpr uint8_t kTimerContext = 0;
inline constexpr uint8_t kTimerThread = 1;

struct TimerLess {
  bool operator()(const TimerEntry& a, const TimerEntry& b) const {
    if (a.when != b.when) return a.when < b.when;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.owner_index < b.owner_index;
  }
};

inline constexpr uint32_t kNumPriorities = 256;

// How a budgeted context is replenished.
enum class ServerKind : uint8_t {
  kNone = 0,    // no budget enforcement (budget must be infinite)
  kSporadic,    // Stanovich et al. sporadic server with a bounded refill list
  kDeferrable,  // Strosnider, Lehoczky & Sha deferrable server
  kPolling,     // polling server
  kCbs,         // Abeni & Buttazzo constant-bandwidth server (EDF only)
};

const char* server_kind_name(ServerKind k);

// Bound on the refill list of a sporadic server (seL4 MCS sizes it by the object; we fix it).
inline constexpr uint8_t kMaxRefills = 8;

struct SchedParams {
  // Fixed priority: 0..255; a larger number runs first.
  uint8_t priority = 0;
  ServerKind server = ServerKind::kNone;
  // Sporadic server: how many pending refills the context may hold, 1..kMaxRefills.
  uint8_t max_refills = kMaxRefills;
  // EDF: the scheduling deadline of a job, relative to its release. Must be > 0.
  Duration relative_deadline = Duration::infinite();
  // CPU time per period. Infinite means unlimited (no enforcement).
  Duration budget = Duration::infinite();
  // Replenishment period of the budget.
  Duration period = Duration::infinite();
};

// Checks parameters before any object is created: kInvalidArgument for impossible values
// (non-positive deadline, budget or period, a budget above its period, a budget without a server
// kind, an unknown server kind, a refill bound outside 1..kMaxRefills).
Status validate(const SchedParams& p);

// A sporadic-server refill: `amount` of budget usable from `time` on.
struct Refill {
  Instant time;
  Duration amount;
};

// Laid out for the scheduling path, which touches a context at every event of its thread: its
// first cache line holds what every event reads (the parameters), the refill ring's ends and the
// start of a sporadic server's piece (set at dispatch); the second what accounting and EDF use;
// the refill ring and the timer follow. Aligned, so that each of these is one line in any array.
struct alignas(64) SchedContext : Slot {
  SchedParams params;

  // Sporadic: pending refills, at most params.max_refills of them, sorted by time, in the ring
  // refills[] below (from refill_head, wrapping at kMaxRefills), and the execution piece being
  // consumed (started at piece_start, piece_used so far).
  uint8_t refill_head = 0;
  uint8_t refill_count = 0;
  Instant piece_start = Instant::epoch();  // set at every dispatch: in the line read then anyway
  Duration piece_used = Duration::zero();  // charged to the running context, whose lines are warm

  // Total CPU time charged to this context.
  Duration consumed = Duration::zero();
  // Replenishments so far: refills scheduled (sporadic), capacity restored at a period boundary
  // (deferrable, polling), recharges (CBS).
  uint64_t replenishments = 0;

  // EDF ordering key: the current absolute scheduling deadline, and a sequence number assigned
  // when it was set. Equal deadlines are served in the order they were set (then by thread id),
  // which makes EDF deterministic on every backend. For servers this is the server's deadline.
  Instant deadline = Instant::never();
  uint64_t deadline_seq = 0;

  Thread* thread = nullptr;  // the thread this context is bound to

  // --- the other servers' budget state (see budget.hpp) -----------------------------------------
  // Deferrable, polling, CBS: budget left in the current period (or until the CBS deadline).
  Duration capacity = Duration::zero();
  // Deferrable and polling: the current server period is [period_start, period_start + period).
  Instant period_start = Instant::epoch();

  Refill refills[kMaxRefills] = {};
  // Replenishment or period-boundary timer, in the CPU's timer queue.
  TimerEntry timer;

  bool has_budget() const { return params.server != ServerKind::kNone; }
};

}  // namespace edgeos

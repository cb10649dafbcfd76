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
#include "edgeos/core/time.hpp"

namespace edgeos {

struct Thread;

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

struct SchedParams {
  // Fixed priority: 0..255; a larger number runs first.
  uint8_t priority = 0;
  // EDF: the scheduling deadline of a job, relative to its release. Must be > 0.
  Duration relative_deadline = Duration::infinite();
  // CPU time per period. Infinite means unlimited (no enforcement).
  Duration budget = Duration::infinite();
  // Replenishment period of the budget.
  Duration period = Duration::infinite();
  ServerKind server = ServerKind::kNone;
};

// Checks parameters before any object is created. Errors: kInvalidArgument for impossible values
// (non-positive deadline or budget, budget > period), kUnsupported for server kinds this core
// does not implement yet.
Status validate(const SchedParams& p);

struct SchedContext : Slot {
  SchedParams params;

  // EDF ordering key: the current absolute scheduling deadline, and a sequence number assigned
  // when it was set. Equal deadlines are served in the order they were set (then by thread id),
  // which makes EDF deterministic on every backend.
  Instant deadline = Instant::never();
  uint64_t deadline_seq = 0;

  // Total CPU time charged to this context.
  Duration consumed = Duration::zero();

  Thread* thread = nullptr;  // the thread this context is bound to
};

}  // namespace edgeos

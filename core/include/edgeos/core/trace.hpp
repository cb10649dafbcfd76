// The trace schema, shared by every backend (DESIGN.md, "Trace schema").
//
// A record is (time_ns, cpu, event, fwp, thread, job, value). The simulator keeps records in
// memory, the kernel streams them in binary over its debug channel, and hosted writers turn them
// into CSV (for pandas) and Chrome/Perfetto trace-event JSON. What `value` means depends on the
// event; docs/trace.md has the table.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

// The numeric values are part of the binary trace format: append, never renumber.
enum class TraceEvent : uint8_t {
  kRelease = 0,          // a job is released; value = its absolute deadline (ns, or -1 if none)
  kStart = 1,            // a job is dispatched for the first time
  kResume = 2,           // a job is dispatched again after a preemption or block
  kPreempt = 3,          // the running job loses the CPU; value = index of the preempting thread
  kComplete = 4,         // a job completes; value = response time (ns)
  kDeadlineMiss = 5,     // a job passed its deadline incomplete; value = the deadline (ns)
  kBudgetExhausted = 6,  // a scheduling context ran out of budget; value = budget (ns)
  kReplenish = 7,        // budget returned to a scheduling context; value = amount (ns)
  kBlock = 8,            // the running job blocks
  kWakeup = 9,           // a blocked job becomes ready
  kIpcCall = 10,         // synchronous invocation into another FWP; value = callee FWP index
  kIpcReply = 11,        // return from an invocation; value = caller FWP index
  kNotify = 12,          // asynchronous notification sent; value = notification id
  kFwpCreate = 13,       // FWP instantiated from a template; value = template index
  kFwpDestroy = 14,      // FWP terminated; value = template index
  kPktRx = 15,           // packet received; value = length (bytes)
  kPktTx = 16,           // packet transmitted; value = length (bytes)
  kFwpActivate = 17,     // FWP became an active tenant; value = template index
  kFwpRecycle = 18,      // terminated FWP returned to its template's pool; value = template index
  kThreadExit = 19,      // thread destroyed (its FWP was terminated); value = jobs completed
  kMarker = 20,          // user-defined marker; value = user value
  kPktDrop = 21,         // a frame or datagram dropped; value = the cause (docs/trace.md, "Drop causes")
  kMigrate = 22,         // a job resumes on another CPU of its domain; cpu = destination,
                         // value = source CPU (global and clustered scheduling only)
};

inline constexpr size_t kNumTraceEvents = 23;

// "release", "deadline_miss", ... (the CSV spelling); nullptr for an unknown value.
const char* trace_event_name(TraceEvent e);
// Parses a name back; returns false if unknown.
bool trace_event_from_name(const char* name, size_t len, TraceEvent* out);

// Marks "no thread" / "no FWP" in a record (events about FWPs, idle).
inline constexpr uint32_t kNoIndex = 0xffff'ffffu;
// The cpu field of records not tied to a CPU (FWP life cycle).
inline constexpr uint16_t kNoCpu = 0xffff;

struct TraceRecord {
  int64_t time_ns = 0;
  int64_t value = 0;
  uint64_t job = 0;
  uint32_t fwp = kNoIndex;
  uint32_t thread = kNoIndex;
  uint16_t cpu = 0;
  TraceEvent event = TraceEvent::kRelease;

  bool operator==(const TraceRecord&) const = default;
};

static_assert(sizeof(TraceRecord) == 40, "the binary trace format is 40 bytes per record");

}  // namespace edgeos
